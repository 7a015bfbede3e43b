package mobilenode_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// deregister starts Deregister in a goroutine and waits for its first BU.
func (r *rig) deregister(ctx context.Context) (<-chan error, sentBU) {
	r.t.Helper()
	n := len(r.sent())
	errc := make(chan error, 1)
	go func() { errc <- r.reg.Deregister(ctx) }()
	bus := r.waitSent(n + 1)
	return errc, bus[n]
}

func (r *rig) result(errc <-chan error) error {
	r.t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		r.t.Fatal("Deregister did not return")
		return nil
	}
}

func TestDeregister(t *testing.T) {
	tests := []struct {
		name      string
		status    mh.Status
		wantErr   error
		wantState mobilenode.State
	}{
		{"accepted", mh.StatusAccepted, nil, mobilenode.StateUnregistered},
		{"no binding at the home agent", mh.StatusNotHomeAgentForThisMobileNode, nil, mobilenode.StateUnregistered},
		{"rejected", mh.StatusAdministrativelyProhibited, mobilenode.ErrRejected, mobilenode.StateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.register(coaA)
			errc, bu := r.deregister(context.Background())
			if bu.Lifetime != 0 || bu.Flags != mh.FlagA|mh.FlagH || bu.CoA != coaA || bu.Seq != firstSeq+1 {
				t.Fatalf("deregistration BU %+v, want lifetime 0, A and H, from %v", bu, coaA)
			}
			r.wantState(mobilenode.StateDeregistering)
			r.advance(time.Second) // registered: retransmitted after 1 s
			checkRetransmission(t, bu, r.last(), time.Second)
			r.ack(r.last().Seq, tt.status, 0)
			if err := r.result(errc); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Deregister: %v, want %v", err, tt.wantErr)
			}
			r.wantState(tt.wantState)
			r.advance(time.Hour)
			r.wantNoneSentSince(3, "after the deregistration")
			if n := r.clk.Pending(); n != 0 {
				t.Errorf("%d timers still pending", n)
			}
		})
	}
}

func TestDeregisterGivesUpWhenTheContextEnds(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	ctx, cancel := context.WithCancel(context.Background())
	errc, _ := r.deregister(ctx)
	r.advance(3 * time.Second) // two retransmissions
	cancel()
	err := r.result(errc)
	if !errors.Is(err, mobilenode.ErrNoAck) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Deregister: %v, want ErrNoAck and context.Canceled", err)
	}
	st := r.status()
	if st.State != mobilenode.StateFailed || !errors.Is(st.LastError, mobilenode.ErrNoAck) {
		t.Errorf("state %v, last error %v; want failed with ErrNoAck", st.State, st.LastError)
	}
	n := len(r.sent())
	r.advance(time.Hour)
	r.wantNoneSentSince(n, "after giving up")
}

func TestDeregisterWithNothingToDo(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*rig)
		wantErr error
	}{
		{"never moved", func(*rig) {}, nil},
		{"failed registration", func(r *rig) { r.move(coaA); r.ack(r.last().Seq, mh.StatusNotHomeSubnet, 0) }, nil},
		{"at home", func(r *rig) { r.register(coaA); r.move(homeAddr); r.ack(r.last().Seq, 0, 0) }, nil},
		{"no care-of address", func(r *rig) { r.register(coaA); r.move(netip0) }, mobilenode.ErrNoCareOf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			tt.setup(r)
			n := len(r.sent())
			err := r.reg.Deregister(context.Background())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Deregister: %v, want %v", err, tt.wantErr)
			}
			r.advance(time.Hour)
			r.wantNoneSentSince(n, "after Deregister")
		})
	}
}

func TestDeregisterQueuedBehindTheRateLimit(t *testing.T) {
	r := newRig(t)
	for _, c := range []netip.Addr{coaA, coaB, coaA} { // uses up the rate
		r.move(c)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.reg.Deregister(context.Background()) }()
	r.waitState(mobilenode.StateDeregistering)
	r.ack(r.last().Seq, mh.StatusAdministrativelyProhibited, 0) // answers the last registration BU
	r.wantState(mobilenode.StateDeregistering)
	r.advance(time.Second)
	bu := r.last()
	if len(r.sent()) != 4 || bu.Lifetime != 0 || bu.CoA != coaA || bu.At != time.Second {
		t.Fatalf("sent %+v, want the deregistration from %v after 1 s", r.sent()[3:], coaA)
	}
	r.ack(bu.Seq, mh.StatusAccepted, 0)
	if err := r.result(errc); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	r.wantState(mobilenode.StateUnregistered)
}
