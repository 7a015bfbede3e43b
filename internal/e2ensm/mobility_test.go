package e2ensm_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/netns"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// TestMoveToAnotherHomeAgentInstance: the Home Agent instance serving the
// mobile node goes away; NSM heals the connection onto the other instance,
// whose IPAM gives a new care-of address; the mobile node re-registers
// there with the same home address (derived from its identity), and the
// correspondent's pings to the home address continue. The test reports
// the interruption.
func TestMoveToAnotherHomeAgentInstance(t *testing.T) {
	l := newLab(t, nsmlab.Options{HomeAgents: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ha1 := mustStartHA(ctx, t, l, 1)
	before := mustRegister(ctx, t, l, 1)
	mustStartHA(ctx, t, l, 2)

	if _, err := l.CN.Ping(ctx, nsmlab.CNAddr, before.Connection.HomeAddress); err != nil {
		t.Fatalf("the home address is not reachable through Home Agent 1: %v", err)
	}
	const interval, count = 10 * time.Millisecond, 1000
	pings := startPings(ctx, t, l, before.Connection.HomeAddress, interval, count)
	stopped := time.Now()
	if err := l.DeleteHomeAgentPod(ha1, 1); err != nil {
		t.Fatalf("stopping Home Agent 1: %v", err)
	}
	after, err := l.WaitMobile(ctx, 1, func(s nsmlab.MobileStatus) bool {
		return s.Registered() && s.Connection.CareOf != before.Connection.CareOf
	})
	if err != nil {
		t.Fatalf("no re-registration after Home Agent 1 stopped: %v", err)
	}
	t.Logf("re-registered %v after Home Agent 1 stopped: %v", time.Since(stopped).Round(time.Millisecond), after)
	if !nsmlab.VWirePrefix(2).Contains(after.Connection.CareOf) || after.Connection.HomeAgent != nsmlab.HAAddr(2) {
		t.Errorf("after the move: care-of %v, Home Agent %v; want from %v and %v",
			after.Connection.CareOf, after.Connection.HomeAgent, nsmlab.VWirePrefix(2), nsmlab.HAAddr(2))
	}
	if after.Connection.HomeAddress != before.Connection.HomeAddress {
		t.Errorf("home address changed with the Home Agent instance: %v -> %v", before.Connection.HomeAddress, after.Connection.HomeAddress)
	}
	r := <-pings
	if r.err != nil || len(r.series) < 100 {
		t.Fatalf("ping series: %d echoes, %v", len(r.series), r.err)
	}
	s := r.series
	t.Logf("CN -> HoA every %v: %d sent, %d lost, longest outage %v", interval, len(s), s.Lost(), s.Outage())
	if tail := s[len(s)-100:]; tail.Lost() > 0 {
		t.Errorf("the last 100 pings lost %d: traffic to the home address did not resume", tail.Lost())
	}
}

type pingResult struct {
	series netns.Series
	err    error
}

// startPings pings dst from the CN in the background; the result comes on
// the channel, and the test waits for it at cleanup if it did not before.
func startPings(ctx context.Context, t *testing.T, l *nsmlab.Lab, dst netip.Addr, interval time.Duration, count int) <-chan pingResult {
	out := make(chan pingResult, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := l.CN.PingEvery(ctx, nsmlab.CNAddr, dst, interval, count)
		out <- pingResult{s, err}
	}()
	t.Cleanup(func() { <-done })
	return out
}

func mustStartHA(ctx context.Context, t *testing.T, l *nsmlab.Lab, i int) *lab.Process {
	t.Helper()
	p, err := l.StartHomeAgent(ctx, i)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRegister(ctx context.Context, t *testing.T, l *nsmlab.Lab, i int) nsmlab.MobileStatus {
	t.Helper()
	if _, err := l.StartMobileNode(ctx, i); err != nil {
		t.Fatal(err)
	}
	st, err := l.WaitRegistered(ctx, i)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
