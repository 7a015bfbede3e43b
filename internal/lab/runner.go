package lab

import (
	"errors"
	"io"
	"sync"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Runner starts the daemons of a topology inside its namespaces, talks to
// their HTTP endpoints and stops them in reverse order. Lab has one; other
// topologies (internal/nsmlab) make their own.
type Runner struct {
	BinDir string    // holds the daemon binaries
	Log    io.Writer // receives the daemons' output, a "[name] " prefix on each line

	logMu  sync.Mutex // serialises the daemons' lines on Log
	mu     sync.Mutex
	procs  []*Process
	listen map[*netns.NS]string // HTTP address of the daemon in each namespace
	closed bool
}

// NewRunner returns a Runner for the binaries in binDir; a nil log
// discards the daemons' output.
func NewRunner(binDir string, log io.Writer) *Runner {
	if log == nil {
		log = io.Discard
	}
	return &Runner{BinDir: binDir, Log: log, listen: map[*netns.NS]string{}}
}

// Close stops the daemons still running, most recently started first
// (SIGINT, then SIGKILL after StopTimeout), and reports unclean exits of
// daemons that were not stopped before. Later Starts fail. Calling it
// again does nothing.
func (l *Runner) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs := l.procs
	l.mu.Unlock()

	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].stopUnlessStopped(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
