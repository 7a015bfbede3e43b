package handover

import (
	"context"
	"io"
	"testing"
	"time"
)

func TestLogWatch(t *testing.T) {
	w := &logWatch{out: io.Discard}
	event := time.Date(2026, 1, 2, 3, 4, 5, 600_400_000, time.UTC)
	_, _ = w.Write([]byte("[mn] time=2026-01-02T03:04:05.100Z level=INFO msg=attached care_of=2001:db8:b::2\n[mn] time=2026-01-02T03:04:05.6"))
	_, _ = w.Write([]byte("00Z level=INFO msg=attached care_of=2001:db8:a::2\n[mn] no time here msg=attached care_of=2001:db8:b::2\n"))
	if at, ok := w.find(event, "msg=attached", "care_of=2001:db8:a::2"); !ok || !at.Equal(event.Truncate(time.Millisecond)) {
		t.Errorf("find a::2 (logged in the event's millisecond): %v, %v", at, ok)
	}
	// The b::2 line logged before the event is skipped; the one without a
	// time counts from its arrival.
	if at, ok := w.find(event, "msg=attached", "care_of=2001:db8:b::2"); !ok || at.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("find b::2: %v, %v; want the untimed line's arrival", at, ok)
	}
	if _, ok := w.await(context.Background(), 20*time.Millisecond, event, "released"); ok {
		t.Errorf("await found a line never written")
	}
}
