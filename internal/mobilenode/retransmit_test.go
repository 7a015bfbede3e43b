package mobilenode_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

func TestRetransmissionBacksOffWithNewSequenceNumbers(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*rig)
		gaps  []time.Duration // between the BUs of the attempt
	}{
		{"first registration", func(r *rig) { r.move(coaA) }, secs(1.5, 3, 6, 12, 24, 32, 32, 32)},
		{"move of a registered node", func(r *rig) { r.register(coaA); r.move(coaB) }, secs(1, 2, 4, 8, 16, 32, 32, 32)},
		{"refresh", func(r *rig) { r.register(coaA); r.advance(192 * time.Second) }, secs(1, 2, 4, 8, 16, 32, 32, 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			tt.setup(r)
			first := len(r.sent()) - 1
			r.advance(4 * time.Minute)
			bus := r.sent()[first:]
			if len(bus) <= len(tt.gaps) {
				t.Fatalf("sent %d binding updates, want more than %d: %+v", len(bus), len(tt.gaps), bus)
			}
			for i, want := range tt.gaps {
				checkRetransmission(t, bus[i], bus[i+1], want)
			}
			st := r.status()
			if !errors.Is(st.LastError, mobilenode.ErrNoAck) || !st.Pending || st.Attempts != len(bus) {
				t.Errorf("status: last error %v, pending %v, attempts %d; want ErrNoAck, pending, %d",
					st.LastError, st.Pending, st.Attempts, len(bus))
			}
		})
	}
}

func checkRetransmission(t *testing.T, prev, next sentBU, gap time.Duration) {
	t.Helper()
	if got := next.At - prev.At; got != gap {
		t.Errorf("BU %d at %v after BU %d at %v: gap %v, want %v", next.Seq, next.At, prev.Seq, prev.At, got, gap)
	}
	if next.Seq != prev.Seq+1 {
		t.Errorf("retransmission seq %d after %d, want a new sequence number %d", next.Seq, prev.Seq, prev.Seq+1)
	}
	if next.Flags != mh.FlagA|mh.FlagH || next.Lifetime != prev.Lifetime || next.CoA != prev.CoA {
		t.Errorf("retransmission %+v differs from %+v in more than the sequence number", next, prev)
	}
}

func TestRetransmissionCounters(t *testing.T) {
	r := newRig(t)
	r.move(coaA)
	r.advance(1500*time.Millisecond + 3*time.Second) // two retransmissions
	bu := r.last()
	r.ack(bu.Seq, mh.StatusAccepted, bu.Lifetime)
	got := r.status().Counters
	want := mobilenode.Counters{BUsSent: 3, Retransmissions: 2, BAsMatched: 1}
	if got != want {
		t.Errorf("counters %+v, want %+v", got, want)
	}
}

func TestSequenceWrapsAround(t *testing.T) {
	r := newRig(t, func(c *mobilenode.Config) { c.Sequence = 65534 })
	r.move(coaA)
	r.advance(1500*time.Millisecond + 3*time.Second + 6*time.Second)
	var seqs []uint16
	for _, bu := range r.sent() {
		seqs = append(seqs, bu.Seq)
	}
	if want := []uint16{65534, 65535, 0, 1}; !equal(seqs, want) {
		t.Fatalf("sequence numbers %v, want %v", seqs, want)
	}
	r.ack(65535, mh.StatusAccepted, 60) // answers an older BU
	r.wantState(mobilenode.StateRegistering)
	r.ack(1, mh.StatusAccepted, 60)
	r.wantState(mobilenode.StateRegistered)
	r.move(coaB)
	if got := r.last().Seq; got != 2 {
		t.Errorf("next sequence number %d, want 2", got)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSendErrorIsReportedAndRetried(t *testing.T) {
	r := newRig(t)
	sendErr := errors.New("network is unreachable")
	r.snd.setErr(sendErr)
	r.move(coaA)
	if st := r.status(); !errors.Is(st.LastError, sendErr) || st.Counters.SendErrors != 1 || st.Counters.BUsSent != 0 {
		t.Fatalf("after a failed send: last error %v, counters %+v", st.LastError, st.Counters)
	}
	r.snd.setErr(nil)
	r.advance(1500 * time.Millisecond)
	bu := r.last()
	r.ack(bu.Seq, mh.StatusAccepted, bu.Lifetime)
	if st := r.status(); st.State != mobilenode.StateRegistered || st.LastError != nil || st.Counters.BUsSent != 1 {
		t.Errorf("after the retransmission was accepted: %v, last error %v, counters %+v", st.State, st.LastError, st.Counters)
	}
}
