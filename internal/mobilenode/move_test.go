package mobilenode_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

func TestMoveSendsAtOnce(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	r.advance(time.Minute)
	r.move(coaB)
	bu := r.last()
	if bu.At != time.Minute || bu.CoA != coaB || bu.Seq != firstSeq+1 || bu.Flags != mh.FlagA|mh.FlagH || bu.Lifetime != 60 {
		t.Fatalf("BU after the move: %+v", bu)
	}
	st := r.status()
	if st.State != mobilenode.StateRegistered || st.BoundCareOf != coaA || st.CareOf != coaB || !st.Pending {
		t.Errorf("while the move is on its way: %v bound %v care-of %v pending %v", st.State, st.BoundCareOf, st.CareOf, st.Pending)
	}
	r.ack(bu.Seq, mh.StatusAccepted, 60)
	if st := r.status(); st.BoundCareOf != coaB || st.Pending {
		t.Errorf("after the BA: bound %v pending %v, want %v, not pending", st.BoundCareOf, st.Pending, coaB)
	}
}

func TestMoveToTheCurrentCareOfDoesNothing(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	r.move(coaA)
	r.wantNoneSentSince(1, "after moving to the same care-of address")
}

func TestMoveBurstIsRateLimitedAndCoalesced(t *testing.T) {
	r := newRig(t)
	coas := manyCoAs(5)
	for _, c := range coas {
		r.move(c)
	}
	bus := r.sent()
	if len(bus) != mobilenode.MaxUpdateRate {
		t.Fatalf("sent %d BUs at once, want %d", len(bus), mobilenode.MaxUpdateRate)
	}
	for i, bu := range bus {
		if bu.CoA != coas[i] || bu.Seq != firstSeq+uint16(i) {
			t.Errorf("BU %d: %+v, want seq %d from %v", i, bu, firstSeq+i, coas[i])
		}
	}
	r.advance(time.Second - time.Millisecond)
	r.wantNoneSentSince(3, "within the first second")
	r.advance(time.Millisecond)
	if bu := r.last(); len(r.sent()) != 4 || bu.CoA != coas[4] || bu.At != time.Second || bu.Seq != firstSeq+3 {
		t.Fatalf("after one second: %+v, want one BU from the last care-of address %v", r.sent()[3:], coas[4])
	}
}

func TestFlappingNeverExceedsTheUpdateRate(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	for i := range 100 { // 5 s of a link flapping every 50 ms
		r.move([]netip.Addr{coaB, coaA}[i%2])
		r.advance(50 * time.Millisecond)
	}
	r.move(coaB)
	r.advance(2 * time.Second)
	bus := r.sent()
	for i := mobilenode.MaxUpdateRate; i < len(bus); i++ {
		if d := bus[i].At - bus[i-mobilenode.MaxUpdateRate].At; d < time.Second {
			t.Fatalf("BUs %d and %d are %v apart: more than %d in a second", i-mobilenode.MaxUpdateRate, i, d, mobilenode.MaxUpdateRate)
		}
	}
	if last := bus[len(bus)-1]; last.CoA != coaB {
		t.Errorf("last BU from %v, want the last care-of address %v", last.CoA, coaB)
	}
}

func TestDetachPausesSignalling(t *testing.T) {
	r := newRig(t)
	r.move(coaA)
	r.advance(1500 * time.Millisecond)
	r.move(netip.Addr{})
	r.wantState(mobilenode.StateUnregistered)
	r.advance(10 * time.Minute)
	r.wantNoneSentSince(2, "while detached")
	r.move(coaA)
	if bu := r.last(); len(r.sent()) != 3 || bu.At != r.now() || bu.CoA != coaA {
		t.Fatalf("after reattaching: %+v, want a BU at once", r.sent()[2:])
	}
	r.wantState(mobilenode.StateRegistering)
}

func TestReturningHomeDeregisters(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	r.move(homeAddr)
	bu := r.last()
	if bu.CoA != homeAddr || bu.Lifetime != 0 || bu.Flags != mh.FlagA|mh.FlagH {
		t.Fatalf("BU at home: %+v, want lifetime 0 from the home address", bu)
	}
	r.wantState(mobilenode.StateDeregistering)
	r.ack(bu.Seq, mh.StatusAccepted, 0)
	r.wantState(mobilenode.StateUnregistered)
	r.advance(time.Hour)
	r.wantNoneSentSince(2, "at home")
	r.move(coaB)
	r.wantState(mobilenode.StateRegistering)
	if bu := r.last(); bu.CoA != coaB || bu.Lifetime != 60 {
		t.Errorf("BU after leaving home: %+v", bu)
	}
}

func manyCoAs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x10 + byte(i), 15: 2})
	}
	return out
}
