package mobilenode_test

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

var (
	homeAddr  = netip.MustParseAddr("2001:db8:1::100")
	homeAgent = netip.MustParseAddr("2001:db8:1::1")
	coaA      = netip.MustParseAddr("2001:db8:a::2")
	coaB      = netip.MustParseAddr("2001:db8:b::2")
	stranger  = netip.MustParseAddr("2001:db8:666::1")
	t0        = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

const firstSeq = 100 // Config.Sequence in these tests

// sentBU is a Binding Update as recordingSender saw it.
type sentBU struct {
	At       time.Duration // since t0
	CoA      netip.Addr
	Seq      uint16
	Flags    mh.BUFlags
	Lifetime mh.Lifetime
}

// recordingSender is a fake mobilenode.Sender for these state-machine
// tests: it records each Binding Update instead of sending it. The packet
// building and the socket belong to the daemon and are tested there.
type recordingSender struct {
	clock *clock.Fake
	kick  chan struct{} // signalled after each BU, for waitSent

	mu   sync.Mutex
	sent []sentBU
	err  error // returned by SendBindingUpdate when set
}

func (s *recordingSender) SendBindingUpdate(coa netip.Addr, bu *mh.BindingUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, sentBU{
		At: s.clock.Now().Sub(t0), CoA: coa, Seq: bu.Sequence, Flags: bu.Flags, Lifetime: bu.Lifetime,
	})
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return s.err
}

func (s *recordingSender) all() []sentBU {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentBU(nil), s.sent...)
}

func (s *recordingSender) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// rig is a Registration on a fake clock with a recordingSender.
type rig struct {
	t   *testing.T
	clk *clock.Fake
	snd *recordingSender
	reg *mobilenode.Registration
}

func newRig(t *testing.T, edit ...func(*mobilenode.Config)) *rig {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	clk := clock.NewFake(t0)
	snd := &recordingSender{clock: clk, kick: make(chan struct{}, 1)}
	cfg := mobilenode.Config{
		HomeAddress: homeAddr, HomeAgent: homeAgent, Sequence: firstSeq, Clock: clk, Sender: snd,
	}
	for _, e := range edit {
		e(&cfg)
	}
	reg, err := mobilenode.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(reg.Close)
	return &rig{t: t, clk: clk, snd: snd, reg: reg}
}

func (r *rig) move(coa netip.Addr) {
	r.t.Helper()
	if err := r.reg.Move(coa); err != nil {
		r.t.Fatalf("Move(%v): %v", coa, err)
	}
}

func (r *rig) advance(d time.Duration) { r.clk.Advance(d) }

func (r *rig) now() time.Duration { return r.clk.Now().Sub(t0) }

func (r *rig) sent() []sentBU { return r.snd.all() }

func (r *rig) last() sentBU {
	r.t.Helper()
	all := r.sent()
	if len(all) == 0 {
		r.t.Fatal("no binding update sent")
	}
	return all[len(all)-1]
}

// waitSent waits, in real time, until n BUs have been sent.
func (r *rig) waitSent(n int) []sentBU {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if all := r.sent(); len(all) >= n {
			return all
		}
		select {
		case <-r.snd.kick:
		case <-deadline:
			r.t.Fatalf("waited for %d binding updates, got %d", n, len(r.sent()))
		}
	}
}

func (r *rig) ack(seq uint16, status mh.Status, lifetime mh.Lifetime, opts ...mh.Option) {
	r.reg.HandleAck(homeAgent, &mh.BindingAck{Status: status, Sequence: seq, Lifetime: lifetime, Options: opts})
}

// register moves to coa and accepts its BU with the lifetime asked for.
func (r *rig) register(coa netip.Addr) sentBU {
	r.t.Helper()
	r.move(coa)
	bu := r.last()
	r.ack(bu.Seq, mh.StatusAccepted, bu.Lifetime)
	r.wantState(mobilenode.StateRegistered)
	return bu
}

func (r *rig) status() mobilenode.Status { return r.reg.Status() }

func (r *rig) wantState(want mobilenode.State) {
	r.t.Helper()
	if got := r.status().State; got != want {
		r.t.Fatalf("state %v, want %v", got, want)
	}
}

// waitState waits, in real time, for the state another goroutine brings.
func (r *rig) waitState(want mobilenode.State) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); r.status().State != want; {
		if time.Now().After(deadline) {
			r.t.Fatalf("state %v, waited for %v", r.status().State, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *rig) wantNoneSentSince(n int, what string) {
	r.t.Helper()
	if all := r.sent(); len(all) != n {
		r.t.Fatalf("%s: sent %+v, want none after the first %d", what, all[n:], n)
	}
}

func secs(fs ...float64) []time.Duration {
	out := make([]time.Duration, len(fs))
	for i, f := range fs {
		out[i] = time.Duration(f * float64(time.Second))
	}
	return out
}
