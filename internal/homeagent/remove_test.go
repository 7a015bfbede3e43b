package homeagent_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// failingUnbind is a recording data plane whose Unbind fails.
type failingUnbind struct {
	*recordingDataPlane
	err error
}

func (d failingUnbind) Unbind(context.Context, netip.Addr) error { return d.err }

func TestRemoveAtRemovesTheBindingAtThatCareOf(t *testing.T) {
	f := newFixture(t)
	wantAck(t, f.bu(coa1, hoa, 1, 60), mh.StatusAccepted, 1, 60)
	removed, err := f.ha.RemoveAt(context.Background(), hoa, coa1)
	if err != nil || !removed {
		t.Fatalf("RemoveAt = %v, %v; want true, nil", removed, err)
	}
	assertGone(t, f)
	if f.dp.unbinds != 1 {
		t.Errorf("%d unbinds, want 1", f.dp.unbinds)
	}
	// The expiry left in the heap is skipped when it comes due.
	f.clock.Advance(time.Hour)
	if f.dp.unbinds != 1 || f.ha.Len() != 0 {
		t.Errorf("after the old expiry: %d unbinds, %d bindings", f.dp.unbinds, f.ha.Len())
	}
}

func TestRemoveAtLeavesABindingThatMovedAway(t *testing.T) {
	f := newFixture(t)
	f.bu(coa1, hoa, 1, 60)
	wantAck(t, f.bu(coa2, hoa, 2, 60), mh.StatusAccepted, 2, 60)
	removed, err := f.ha.RemoveAt(context.Background(), hoa, coa1)
	if err != nil || removed {
		t.Fatalf("RemoveAt(old care-of) = %v, %v; want false, nil", removed, err)
	}
	if b, ok := f.ha.Lookup(hoa); !ok || b.CareOf != coa2 {
		t.Errorf("binding %+v %v, want it kept at %v", b, ok, coa2)
	}
	if c, ok := f.dp.route(hoa); !ok || c != coa2 || f.dp.unbinds != 0 {
		t.Errorf("data plane route %v %v after %d unbinds, want %v untouched", c, ok, f.dp.unbinds, coa2)
	}
}

func TestRemoveAtWithoutABindingDoesNothing(t *testing.T) {
	f := newFixture(t)
	removed, err := f.ha.RemoveAt(context.Background(), hoa, coa1)
	if err != nil || removed || f.dp.unbinds != 0 {
		t.Errorf("RemoveAt = %v, %v with %d unbinds; want false, nil, none", removed, err, f.dp.unbinds)
	}
}

func TestRemoveAtReportsTheDataPlaneError(t *testing.T) {
	errBusy := errors.New("netlink: device busy")
	f := newFixture(t, func(c *homeagent.Config) {
		dp, _ := c.DataPlane.(*recordingDataPlane)
		c.DataPlane = failingUnbind{dp, errBusy}
	})
	f.bu(coa1, hoa, 1, 60)
	removed, err := f.ha.RemoveAt(context.Background(), hoa, coa1)
	if !removed || !errors.Is(err, errBusy) {
		t.Fatalf("RemoveAt = %v, %v; want true and the data plane's error", removed, err)
	}
	if _, ok := f.ha.Lookup(hoa); ok || f.ha.Len() != 0 {
		t.Error("binding still cached after a failed unbind")
	}
}
