package e2e_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// TestRegistrationTunnelsTrafficToTheHomeAddress checks, on the wire, that
// the correspondent's traffic to the home address crosses the access link
// encapsulated (next header 41) in both directions.
func TestRegistrationTunnelsTrafficToTheHomeAddress(t *testing.T) {
	forEachDataPlane(t, testRegistrationTunnelsTraffic)
}

func testRegistrationTunnelsTraffic(t *testing.T, driver string) {
	l := newLab(t)
	startBoth(t, l, driver)
	capture, err := l.MN.Capture(lab.MNLink1)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	for range 3 {
		rtt, err := l.Ping(context.Background(), l.CN, lab.HoA, 2*time.Second)
		if err != nil {
			t.Fatalf("correspondent -> home address: %v", err)
		}
		t.Logf("correspondent -> home address through the tunnel: rtt %v", rtt)
	}
	pkts, err := capture.Packets()
	if err != nil {
		t.Fatal(err)
	}
	in := findTunnelled(pkts, false, lab.HAAddr, lab.CoA1, lab.CNAddr, lab.HoA)
	out := findTunnelled(pkts, true, lab.CoA1, lab.HAAddr, lab.HoA, lab.CNAddr)
	if in == 0 || out == 0 {
		t.Errorf("on %s: %d packets HA->CoA carrying CN->HoA, %d CoA->HA carrying HoA->CN; want both > 0; saw %v",
			lab.MNLink1, in, out, pkts)
	}
	for _, p := range pkts {
		if p.NextHeader == netns.NextHeaderICMPv6 && (p.Dst == lab.HoA || p.Src == lab.HoA) {
			t.Errorf("home address traffic seen unencapsulated on the access link: %v", p)
		}
	}
}

// findTunnelled counts the captured packets in the given direction whose
// outer header goes outerSrc -> outerDst with next header 41 and whose
// inner header goes innerSrc -> innerDst.
func findTunnelled(pkts []netns.Packet, outgoing bool, outerSrc, outerDst, innerSrc, innerDst netip.Addr) int {
	n := 0
	for _, p := range pkts {
		if p.Outgoing != outgoing || p.NextHeader != netns.NextHeaderIPv6 || p.Src != outerSrc || p.Dst != outerDst {
			continue
		}
		if inner, err := p.Inner(); err == nil && inner.Src == innerSrc && inner.Dst == innerDst {
			n++
		}
	}
	return n
}

// TestDeregistrationAndExpiryRestoreKernelState follows the kernel state of
// both namespaces (routes of every table, rules, addresses, nftables tables
// and set elements) through deregistration, a crash and expiry.
func TestDeregistrationAndExpiryRestoreKernelState(t *testing.T) {
	forEachDataPlane(t, testDeregistrationAndExpiry)
}

func testDeregistrationAndExpiry(t *testing.T, driver string) {
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	haBase, mnBase := labtest.Snapshot(t, l.HA), labtest.Snapshot(t, l.MN)

	ha, err := l.StartHomeAgent(ctx, driver, "NSM_MAX_LIFETIME=8s")
	if err != nil {
		t.Fatal(err)
	}
	haIdle := labtest.Snapshot(t, l.HA)
	mn := startMobile(ctx, t, l)

	t.Log("deregistration: the mobile node stops cleanly")
	if err := mn.Stop(); err != nil {
		t.Fatalf("mobile node exit: %v", err)
	}
	assertNoBindings(ctx, t, l)
	labtest.AssertSame(t, "home agent after deregistration", l.HA, haIdle)
	labtest.AssertSame(t, "mobile node after a clean stop", l.MN, mnBase)

	t.Log("expiry: the mobile node dies without deregistering; the binding lives out its 8 s")
	mn = startMobile(ctx, t, l)
	if err := mn.Kill(); err != nil {
		t.Fatal(err)
	}
	if bs, _ := l.Bindings(ctx); len(bs) != 1 {
		t.Fatalf("binding gone at once after the crash: %v", bs)
	}
	assertNoBindings(ctx, t, l)
	labtest.AssertSame(t, "home agent after expiry", l.HA, haIdle)

	t.Log("restart after the crash: the new mobile node removes the old one's state")
	mn = startMobile(ctx, t, l)
	if err := mn.Stop(); err != nil {
		t.Fatalf("mobile node exit: %v", err)
	}
	labtest.AssertSame(t, "mobile node after crash, restart and stop", l.MN, mnBase)
	if err := ha.Stop(); err != nil {
		t.Fatalf("home agent exit: %v", err)
	}
	labtest.AssertSame(t, "home agent after stop", l.HA, haBase)
}

func startMobile(ctx context.Context, t *testing.T, l *lab.Lab) *lab.Process {
	t.Helper()
	mn, err := l.StartMobileNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitRegistered(ctx, lab.CoA1); err != nil {
		t.Fatal(err)
	}
	return mn
}

// assertNoBindings waits for the Home Agent's binding cache to empty (the
// deadline only bounds a broken run; expiry takes the 8 s granted).
func assertNoBindings(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	waitUntil(t, "the binding cache to empty", func() bool {
		bs, err := l.Bindings(ctx)
		return err == nil && len(bs) == 0
	})
}
