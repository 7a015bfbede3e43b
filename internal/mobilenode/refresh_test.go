package mobilenode_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

func TestRefreshIsScheduledBeforeTheLifetimeEnds(t *testing.T) {
	tests := []struct {
		name        string
		ackDelay    time.Duration // from the BU to its BA
		granted     mh.Lifetime   // asked: 60 (240 s)
		advice      mh.Lifetime   // Binding Refresh Advice; 0: none
		wantExpiry  time.Duration // from the BU
		wantRefresh time.Duration // from the BU
	}{
		{"lifetime asked for", 0, 60, 0, 240 * time.Second, 192 * time.Second},
		{"shorter lifetime granted", 0, 30, 0, 120 * time.Second, 96 * time.Second},
		{"lifetime counts from the bu", time.Second, 30, 0, 120 * time.Second, 96 * time.Second},
		{"longer lifetime than asked is capped", 0, 100, 0, 240 * time.Second, 192 * time.Second},
		{"refresh advice counts from the ba", time.Second, 60, 10, 240 * time.Second, 41 * time.Second},
		{"refresh advice later than 80% ignored", 0, 30, 29, 120 * time.Second, 96 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.move(coaA)
			bu := r.last()
			r.advance(tt.ackDelay)
			var opts []mh.Option
			if tt.advice != 0 {
				opts = append(opts, mh.RefreshAdvice(tt.advice))
			}
			r.ack(bu.Seq, mh.StatusAccepted, tt.granted, opts...)
			st := r.status()
			if !st.Expiry.Equal(t0.Add(tt.wantExpiry)) || !st.RefreshDue.Equal(t0.Add(tt.wantRefresh)) {
				t.Fatalf("expiry %v refresh %v, want %v %v",
					st.Expiry.Sub(t0), st.RefreshDue.Sub(t0), tt.wantExpiry, tt.wantRefresh)
			}
			r.advance(tt.wantRefresh - tt.ackDelay - time.Millisecond)
			r.wantNoneSentSince(1, "before the refresh")
			r.advance(time.Millisecond)
			if got := r.last(); got.At != tt.wantRefresh || got.Seq != bu.Seq+1 || got.CoA != coaA || got.Lifetime != 60 {
				t.Errorf("refresh %+v, want seq %d from %v at %v", got, bu.Seq+1, coaA, tt.wantRefresh)
			}
		})
	}
}

func TestStatusOfARegisteredNode(t *testing.T) {
	r := newRig(t)
	r.move(coaA)
	r.advance(time.Second)
	r.ack(firstSeq, mh.StatusAccepted, 45)
	want := mobilenode.Status{
		State:       mobilenode.StateRegistered,
		HomeAddress: homeAddr,
		HomeAgent:   homeAgent,
		CareOf:      coaA,
		BoundCareOf: coaA,
		Sequence:    firstSeq,
		Requested:   240 * time.Second,
		Granted:     180 * time.Second,
		Expiry:      t0.Add(180 * time.Second),
		RefreshDue:  t0.Add(144 * time.Second),
		LastAck:     t0.Add(time.Second),
		LastStatus:  mh.StatusAccepted,
		Counters:    mobilenode.Counters{BUsSent: 1, BAsMatched: 1},
	}
	if diff := cmp.Diff(want, r.status(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmpopts.EquateErrors()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestBindingExpiresWithoutAnswer(t *testing.T) {
	r := newRig(t)
	r.register(coaA)
	r.advance(240*time.Second - time.Millisecond) // refresh BUs go unanswered
	r.wantState(mobilenode.StateRegistered)
	r.advance(time.Millisecond)
	st := r.status()
	if st.State != mobilenode.StateRegistering || st.BoundCareOf.IsValid() || !st.Pending {
		t.Errorf("at expiry: %v, bound to %v, pending %v; want registering, no binding, pending", st.State, st.BoundCareOf, st.Pending)
	}
}
