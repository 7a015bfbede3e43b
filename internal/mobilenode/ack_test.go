package mobilenode_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

func TestAckIsMatchedBySequenceAndSource(t *testing.T) {
	tests := []struct {
		name        string
		from        netip.Addr
		seqDelta    uint16 // added to the last BU's sequence number
		wantState   mobilenode.State
		wantIgnored uint64
	}{
		{"last bu", homeAgent, 0, mobilenode.StateRegistered, 0},
		{"earlier retransmission", homeAgent, 0xffff, mobilenode.StateRegistering, 1},
		{"bu not sent yet", homeAgent, 1, mobilenode.StateRegistering, 1},
		{"other source", stranger, 0, mobilenode.StateRegistering, 1},
		{"care-of address as source", coaA, 0, mobilenode.StateRegistering, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.move(coaA)
			r.advance(1500 * time.Millisecond) // one retransmission
			seq := r.last().Seq + tt.seqDelta
			r.reg.HandleAck(tt.from, &mh.BindingAck{Status: mh.StatusAccepted, Sequence: seq, Lifetime: 60})
			st := r.status()
			if st.State != tt.wantState || st.Counters.BAsIgnored != tt.wantIgnored {
				t.Errorf("state %v, ignored %d; want %v, %d", st.State, st.Counters.BAsIgnored, tt.wantState, tt.wantIgnored)
			}
		})
	}
}

func TestDuplicateAckIsIgnored(t *testing.T) {
	r := newRig(t)
	bu := r.register(coaA)
	before := r.status()
	r.advance(time.Second)
	r.ack(bu.Seq, mh.StatusAccepted, 30) // a duplicate must not shorten the binding
	st := r.status()
	if st.Counters.BAsIgnored != 1 || st.Expiry != before.Expiry || st.LastAck != before.LastAck {
		t.Errorf("after a duplicate BA: ignored %d, expiry %v (was %v)", st.Counters.BAsIgnored, st.Expiry, before.Expiry)
	}
}

func TestSequenceOutOfWindowResynchronises(t *testing.T) {
	r := newRig(t)
	r.move(coaA)
	r.ack(5000, mh.StatusSequenceOutOfWindow, 0)
	bus := r.sent()
	if len(bus) != 2 || bus[1].Seq != 5001 || bus[1].At != 0 {
		t.Fatalf("after status 135 carrying 5000: sent %+v, want a second BU with seq 5001 at once", bus)
	}
	r.ack(4999, mh.StatusSequenceOutOfWindow, 0) // answers an older BU
	r.wantNoneSentSince(2, "after a stale status 135")
	r.ack(5001, mh.StatusAccepted, 60)
	st := r.status()
	if st.State != mobilenode.StateRegistered || st.Sequence != 5001 || st.Counters.BAsIgnored != 1 {
		t.Errorf("state %v seq %d ignored %d, want registered, 5001, 1", st.State, st.Sequence, st.Counters.BAsIgnored)
	}
}

func TestRepeatedOutOfWindowFails(t *testing.T) {
	r := newRig(t)
	r.move(coaA)
	for range 4 { // the fourth 135 in a row is one too many
		r.ack(r.last().Seq, mh.StatusSequenceOutOfWindow, 0)
		r.advance(time.Second) // past the rate limit
	}
	st := r.status()
	var se *mobilenode.StatusError
	if st.State != mobilenode.StateFailed || !errors.As(st.LastError, &se) || se.Status != mh.StatusSequenceOutOfWindow {
		t.Fatalf("state %v, last error %v; want failed with status 135", st.State, st.LastError)
	}
	if n := len(r.sent()); n != 4 {
		t.Errorf("sent %d binding updates, want 4 (one and three resynchronisations)", n)
	}
}

func TestRejectionIsReportedAndBacksOff(t *testing.T) {
	tests := []struct {
		status  mh.Status
		meaning string
		moveNow bool // a new care-of address is tried before the backoff ends
	}{
		{mh.StatusNotHomeSubnet, "not home subnet", false},
		{mh.StatusAdministrativelyProhibited, "administratively prohibited", false},
		{mh.StatusDuplicateAddressDetectionFail, "duplicate address detection failed", false},
		{mh.StatusInvalidCareOfAddress, "invalid care-of address", true},
	}
	for _, tt := range tests {
		t.Run(tt.meaning, func(t *testing.T) {
			r := newRig(t)
			r.move(coaA)
			r.ack(r.last().Seq, tt.status, 0)
			checkRejected(t, r.status(), tt.status, tt.meaning)
			r.move(coaB)
			if got := len(r.sent()) == 2; got != tt.moveNow {
				t.Fatalf("BU from the new care-of address at once: %v, want %v", got, tt.moveNow)
			}
			if tt.moveNow {
				return
			}
			r.advance(mobilenode.FailureBackoff - time.Millisecond)
			r.wantNoneSentSince(1, "during the failure backoff")
			r.advance(time.Millisecond)
			if bu := r.last(); bu.CoA != coaB || bu.Seq != firstSeq+1 || bu.At != mobilenode.FailureBackoff {
				t.Errorf("retry %+v, want seq %d from %v at %v", bu, firstSeq+1, coaB, mobilenode.FailureBackoff)
			}
		})
	}
}

func checkRejected(t *testing.T, st mobilenode.Status, status mh.Status, meaning string) {
	t.Helper()
	var se *mobilenode.StatusError
	if st.State != mobilenode.StateFailed || !errors.Is(st.LastError, mobilenode.ErrRejected) ||
		!errors.As(st.LastError, &se) || se.Status != status {
		t.Fatalf("state %v, last error %v; want failed with status %d", st.State, st.LastError, status)
	}
	if !strings.Contains(st.LastError.Error(), meaning) || st.LastStatus != status {
		t.Errorf("last error %q, last status %v; want the meaning %q", st.LastError, st.LastStatus, meaning)
	}
	if want := t0.Add(mobilenode.FailureBackoff); !st.RefreshDue.Equal(want) {
		t.Errorf("retry due %v, want %v", st.RefreshDue, want)
	}
}

func TestAcceptedWithZeroLifetimeFails(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	r.move(coaB)
	r.ack(r.last().Seq, mh.StatusAccepted, 0)
	st := r.status()
	if st.State != mobilenode.StateFailed || !errors.Is(st.LastError, mobilenode.ErrZeroLifetime) {
		t.Fatalf("state %v, last error %v; want failed with ErrZeroLifetime", st.State, st.LastError)
	}
	if st.BoundCareOf.IsValid() || !st.Expiry.IsZero() || st.Granted != 0 {
		t.Errorf("binding still reported: %v until %v", st.BoundCareOf, st.Expiry)
	}
}
