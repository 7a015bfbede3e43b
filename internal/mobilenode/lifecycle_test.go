package mobilenode_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

var netip0 netip.Addr // no care-of address

func TestCloseStopsTimersAndReleasesDeregister(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	errc, _ := r.deregister(context.Background())
	r.reg.Close()
	if err := r.result(errc); !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("Deregister: %v, want ErrClosed", err)
	}
	if n := r.clk.Pending(); n != 0 {
		t.Errorf("%d timers pending after Close", n)
	}
	if err := r.reg.Move(coaB); !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("Move after Close: %v, want ErrClosed", err)
	}
	if err := r.reg.Deregister(context.Background()); !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("Deregister after Close: %v, want ErrClosed", err)
	}
	n := len(r.sent())
	r.advance(time.Hour)
	r.wantNoneSentSince(n, "after Close")
}

func TestOnStateReportsChanges(t *testing.T) {
	type change struct {
		State mobilenode.State
		Bound netip.Addr
	}
	var got []change
	r := newRig(t, func(c *mobilenode.Config) {
		c.OnState = func(s mobilenode.Status) { got = append(got, change{s.State, s.BoundCareOf}) }
	})
	r.register(coaA)
	r.move(coaB)
	r.ack(r.last().Seq, mh.StatusAccepted, 60)
	r.move(coaA)
	r.ack(r.last().Seq, mh.StatusNotHomeSubnet, 0)
	want := []change{
		{mobilenode.StateRegistering, netip0},
		{mobilenode.StateRegistered, coaA},
		{mobilenode.StateRegistered, coaB},
		{mobilenode.StateFailed, coaB},
	}
	if !equal(got, want) {
		t.Errorf("OnState saw %v, want %v", got, want)
	}
}

// TestConcurrentUse is for the race detector: events and timers from many
// goroutines at once.
func TestConcurrentUse(t *testing.T) {
	r := newRig(t)
	var wg sync.WaitGroup
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				f(i)
			}
		}()
	}
	run(func(i int) { _ = r.reg.Move([]netip.Addr{coaA, coaB, netip0}[i%3]) })
	run(func(int) { bu := r.last0(); r.ack(bu.Seq, mh.StatusAccepted, 60) })
	run(func(int) { r.ack(0, mh.StatusSequenceOutOfWindow, 0) })
	run(func(int) { _ = r.reg.Status() })
	run(func(int) { r.advance(100 * time.Millisecond) })
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = r.reg.Deregister(ctx)
}

// last0 is last without failing when nothing was sent.
func (r *rig) last0() sentBU {
	if all := r.sent(); len(all) > 0 {
		return all[len(all)-1]
	}
	return sentBU{}
}
