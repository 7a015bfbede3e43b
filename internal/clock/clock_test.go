package clock_test

import (
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
)

func TestFakeRunsTimersInOrderAndMovesTime(t *testing.T) {
	start := time.Unix(1000, 0)
	c := clock.NewFake(start)
	var got []time.Duration
	record := func() { got = append(got, c.Now().Sub(start)) }
	c.AfterFunc(3*time.Second, record)
	c.AfterFunc(time.Second, func() {
		record()
		c.AfterFunc(time.Second, record) // scheduled from inside a timer: due at 2 s
	})
	stopped := c.AfterFunc(2500*time.Millisecond, record)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	c.Advance(5 * time.Second)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("timers ran at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("timers ran at %v, want %v", got, want)
		}
	}
	if c.Now() != start.Add(5*time.Second) || c.Pending() != 0 {
		t.Errorf("after Advance: now %v pending %d", c.Now(), c.Pending())
	}
}
