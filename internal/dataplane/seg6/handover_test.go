package seg6_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestMobileNodeKeepsPreviousCareOfUntilRelease: with both links up, a
// packet the Home Agent still tunnels to the previous care-of address
// after Attach is decapsulated, delivered to the home address and answered
// through the reverse tunnel on the new link; spoofed tunnels to it are
// not; after Release it is no longer accepted, and Close restores the
// namespace.
func TestMobileNodeKeepsPreviousCareOfUntilRelease(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	mnBase := takeBaseline(t, tp.mn)
	ctx := t.Context()
	mn := startMobileNode(t, tp.mobileNodeConfig())
	started := snapshot(t, tp.mn)

	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m2", Router: router2}))
	both := snapshot(t, tp.mn).Diff(started)
	if got := countLines(both, "+ nft element"); got != 2 {
		t.Errorf("after the handover %d endpoint elements, want 2 (both care-of addresses):\n%s", got, both)
	}

	link1, link2 := tp.mn.Capture(t, "m1"), tp.mn.Capture(t, "m2")
	sendRaw(t, tp.ha, tunnelled(router1, coa1, echoRequest(cnAddr, homeAddr, 1))) // not from the Home Agent
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, coa1, 2)))      // not to the home address
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, homeAddr, 3)))
	answered, seen := awaitPacket(t, link2, reverseTunnelledReply(coa2, 3))
	if !answered {
		t.Fatalf("a packet tunnelled to the previous care-of address got no reply through the new link; saw %v", seen)
	}
	assertUnanswered(t, append(seen, packets(t, link1)...), 1, 2)

	must(t, mn.Release(ctx, coa1))
	released := snapshot(t, tp.mn).Diff(started)
	if got := countLines(released, "+ nft element"); got != 1 {
		t.Errorf("after Release %d endpoint elements, want 1:\n%s", got, released)
	}
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, homeAddr, 4)))
	sendRaw(t, tp.ha, tunnelled(haAddr, coa2, echoRequest(cnAddr, homeAddr, 5)))
	answered, seen = awaitPacket(t, link2, reverseTunnelledReply(coa2, 5))
	if !answered {
		t.Fatalf("a packet tunnelled to the current care-of address got no reply; saw %v", seen)
	}
	assertUnanswered(t, append(seen, packets(t, link1)...), 4)

	for _, coa := range []netip.Addr{coa1, coa2, netip.MustParseAddr("2001:db8:99::1")} {
		if err := mn.Release(ctx, coa); !errors.Is(err, dataplane.ErrNotPrevious) {
			t.Errorf("Release(%s) = %v, want ErrNotPrevious", coa, err)
		}
	}
	if diff := snapshot(t, tp.mn).Diff(started); diff != released {
		t.Errorf("refused Releases changed kernel state:\n%s", diff)
	}
	must(t, mn.Close())
	mnBase.assertRestored(t)
}

// TestMobileNodeMovesBackAndClosesWithPreviousCareOf: attaching to a
// previous care-of address makes it current again (Release refuses it)
// and the one left keeps decapsulating; Close removes both without a
// Release. Release follows the lifecycle errors of Attach.
func TestMobileNodeMovesBackAndClosesWithPreviousCareOf(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	mnBase := takeBaseline(t, tp.mn)
	ctx := t.Context()
	mn := startMobileNode(t, tp.mobileNodeConfig())

	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m2", Router: router2}))
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	if err := mn.Release(ctx, coa1); !errors.Is(err, dataplane.ErrNotPrevious) {
		t.Errorf("Release of the care-of address attached again = %v, want ErrNotPrevious", err)
	}

	link1 := tp.mn.Capture(t, "m1")
	sendRaw(t, tp.ha, tunnelled(haAddr, coa2, echoRequest(cnAddr, homeAddr, 1)))
	if answered, seen := awaitPacket(t, link1, reverseTunnelledReply(coa1, 1)); !answered {
		t.Fatalf("a packet tunnelled to the care-of address left behind got no reply on link 1; saw %v", seen)
	}

	must(t, mn.Close())
	mnBase.assertRestored(t)
	if err := mn.Release(ctx, coa2); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Release after Close = %v, want ErrClosed", err)
	}
}

func TestMobileNodeReleaseBeforeStart(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	mn := newMobileNode(t, tp.mobileNodeConfig())
	if err := mn.Release(t.Context(), coa1); !errors.Is(err, dataplane.ErrNotStarted) {
		t.Errorf("Release before Start = %v, want ErrNotStarted", err)
	}
}

func newMobileNode(t *testing.T, cfg dataplane.Config) dataplane.MobileNode {
	t.Helper()
	mn, err := seg6.NewMobileNode(cfg)
	must(t, err)
	t.Cleanup(func() { must(t, mn.Close()) })
	return mn
}

func packets(t *testing.T, c *netnstest.Capture) []netnstest.Packet {
	t.Helper()
	p, err := c.Packets()
	must(t, err)
	return p
}

// reverseTunnelledReply matches an outgoing tunnel packet from coa to the
// Home Agent carrying the home address's echo reply with identifier id.
func reverseTunnelledReply(coa netip.Addr, id int) func(netnstest.Packet) bool {
	return func(p netnstest.Packet) bool {
		if !p.Outgoing || p.NextHeader != netnstest.NextHeaderIPv6 || p.Src != coa || p.Dst != haAddr {
			return false
		}
		inner, err := p.Inner()
		return err == nil && inner.Src == homeAddr && inner.Dst == cnAddr && echoID(inner) == id
	}
}

// assertUnanswered fails if seen holds a reply, tunnelled or not, to one of
// the echo requests ids.
func assertUnanswered(t *testing.T, seen []netnstest.Packet, ids ...int) {
	t.Helper()
	for _, p := range seen {
		if !p.Outgoing {
			continue
		}
		if inner, err := p.Inner(); err == nil {
			p = inner
		}
		for _, id := range ids {
			if echoID(p) == id {
				t.Errorf("echo request %d should not have been decapsulated, but was answered: %v", id, p)
			}
		}
	}
}

// BenchmarkMobileNodeAttach times a handover in the data plane: Attach
// alternately to link 1 and link 2, both up, with the Router pin.
func BenchmarkMobileNodeAttach(b *testing.B) {
	tp := newTopology(b)
	mn := startMobileNode(b, tp.mobileNodeConfig())
	defer func() { must(b, mn.Close()) }()
	links := []dataplane.Attachment{
		{CoA: coa1, Interface: "m1", Router: router1},
		{CoA: coa2, Interface: "m2", Router: router2},
	}
	must(b, mn.Attach(b.Context(), links[0]))
	i := 1
	for b.Loop() {
		must(b, mn.Attach(b.Context(), links[i%2]))
		i++
	}
}

// TestHomeTrafficNeverLeavesUntunnelled: when the access link of the
// current attachment goes down, the kernel deletes the tunnel's route with
// it; traffic from the home address must then be refused, not routed
// natively through another link, even though the main table has a default
// route there.
func TestHomeTrafficNeverLeavesUntunnelled(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	must(t, tp.mn.AddRouteMetric(defaultDst, router2, 200)) // a way out if the guard fails
	mn := startMobileNode(t, tp.mobileNodeConfig())
	must(t, mn.Attach(t.Context(), dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	link2 := tp.mn.Capture(t, "m2")
	must(t, tp.mn.LinkDown("m1"))

	var sendErr error
	must(t, tp.mn.Do(func() error {
		conn, err := net.DialUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(homeAddr, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(cnAddr, 9)))
		if err != nil {
			sendErr = err
			return nil
		}
		defer func() { _ = conn.Close() }()
		_, sendErr = conn.Write([]byte("must not leave natively"))
		return nil
	}))
	if sendErr == nil {
		t.Error("a datagram from the home address was accepted for sending with the tunnel's link down")
	}
	for _, p := range packets(t, link2) {
		if p.Outgoing && p.Src == homeAddr {
			t.Errorf("home address traffic left untunnelled on m2: %v", p)
		}
	}
}
