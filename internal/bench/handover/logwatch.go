package handover

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"
)

// logPoll is how often await looks for a line.
const logPoll = 5 * time.Millisecond

// logWatch keeps the daemons' output lines with the time each arrived,
// and passes them on.
//
// A line's time is the one the daemon logged (slog's time=, millisecond
// resolution, truncated) when it has one: the arrival through the pipe
// can lag by milliseconds on a busy machine, the daemon's clock does not.
type logWatch struct {
	out io.Writer

	mu      sync.Mutex
	lines   []logLine
	partial string
}

type logLine struct {
	at   time.Time
	text string
}

func (w *logWatch) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	text := w.partial + string(p)
	for {
		line, rest, ok := strings.Cut(text, "\n")
		if !ok {
			break
		}
		w.lines = append(w.lines, logLine{at: loggedAt(line, now), text: line})
		text = rest
	}
	w.partial = text
	w.mu.Unlock()
	_, _ = w.out.Write(p) // the log's reader must not stop the daemons
	return len(p), nil
}

// find returns when the first line logged at or after since (to the
// millisecond: log times are truncated) and containing
// every part came.
func (w *logWatch) find(since time.Time, parts ...string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if l.at.Before(since.Truncate(time.Millisecond)) {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l.text, p)
		}
		if all {
			return l.at, true
		}
	}
	return time.Time{}, false
}

// await is find, waiting up to within for the line.
func (w *logWatch) await(ctx context.Context, within time.Duration, since time.Time, parts ...string) (time.Time, bool) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	t := time.NewTicker(logPoll)
	defer t.Stop()
	for {
		if at, ok := w.find(since, parts...); ok {
			return at, true
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-t.C:
		}
	}
}

// loggedAt is the time= field of a slog text line, or arrived if it has
// none.
func loggedAt(line string, arrived time.Time) time.Time {
	_, rest, ok := strings.Cut(line, "time=")
	if !ok {
		return arrived
	}
	field, _, _ := strings.Cut(rest, " ")
	t, err := time.Parse(time.RFC3339Nano, field)
	if err != nil {
		return arrived
	}
	return t
}
