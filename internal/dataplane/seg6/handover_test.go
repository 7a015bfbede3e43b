package seg6_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
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
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	mnBase := dptest.TakeBaseline(t, tp.MN)
	ctx := t.Context()
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	started := dptest.Snapshot(t, tp.MN)

	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2}))
	both := dptest.Snapshot(t, tp.MN).Diff(started)
	if got := countLines(both, "+ nft element"); got != 2 {
		t.Errorf("after the handover %d endpoint elements, want 2 (both care-of addresses):\n%s", got, both)
	}

	link1, link2 := tp.MN.Capture(t, "m1"), tp.MN.Capture(t, "m2")
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.Router1, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 1))) // not from the Home Agent
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.CoA1, 2)))      // not to the home address
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 3)))
	answered, seen := dptest.AwaitPacket(t, link2, reverseTunnelledReply(dptest.CoA2, 3))
	if !answered {
		t.Fatalf("a packet tunnelled to the previous care-of address got no reply through the new link; saw %v", seen)
	}
	assertUnanswered(t, append(seen, packets(t, link1)...), 1, 2)

	dptest.Must(t, mn.Release(ctx, dptest.CoA1))
	released := dptest.Snapshot(t, tp.MN).Diff(started)
	if got := countLines(released, "+ nft element"); got != 1 {
		t.Errorf("after Release %d endpoint elements, want 1:\n%s", got, released)
	}
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 4)))
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA2, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 5)))
	answered, seen = dptest.AwaitPacket(t, link2, reverseTunnelledReply(dptest.CoA2, 5))
	if !answered {
		t.Fatalf("a packet tunnelled to the current care-of address got no reply; saw %v", seen)
	}
	assertUnanswered(t, append(seen, packets(t, link1)...), 4)

	for _, coa := range []netip.Addr{dptest.CoA1, dptest.CoA2, netip.MustParseAddr("2001:db8:99::1")} {
		if err := mn.Release(ctx, coa); !errors.Is(err, dataplane.ErrNotPrevious) {
			t.Errorf("Release(%s) = %v, want ErrNotPrevious", coa, err)
		}
	}
	if diff := dptest.Snapshot(t, tp.MN).Diff(started); diff != released {
		t.Errorf("refused Releases changed kernel state:\n%s", diff)
	}
	dptest.Must(t, mn.Close())
	mnBase.AssertRestored(t)
}

// TestMobileNodeMovesBackAndClosesWithPreviousCareOf: attaching to a
// previous care-of address makes it current again (Release refuses it)
// and the one left keeps decapsulating; Close removes both without a
// Release. Release follows the lifecycle errors of Attach.
func TestMobileNodeMovesBackAndClosesWithPreviousCareOf(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	mnBase := dptest.TakeBaseline(t, tp.MN)
	ctx := t.Context()
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())

	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2}))
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	if err := mn.Release(ctx, dptest.CoA1); !errors.Is(err, dataplane.ErrNotPrevious) {
		t.Errorf("Release of the care-of address attached again = %v, want ErrNotPrevious", err)
	}

	link1 := tp.MN.Capture(t, "m1")
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA2, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 1)))
	if answered, seen := dptest.AwaitPacket(t, link1, reverseTunnelledReply(dptest.CoA1, 1)); !answered {
		t.Fatalf("a packet tunnelled to the care-of address left behind got no reply on link 1; saw %v", seen)
	}

	dptest.Must(t, mn.Close())
	mnBase.AssertRestored(t)
	if err := mn.Release(ctx, dptest.CoA2); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Release after Close = %v, want ErrClosed", err)
	}
}

func TestMobileNodeReleaseBeforeStart(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	mn := newMobileNode(t, tp.MobileNodeConfig())
	if err := mn.Release(t.Context(), dptest.CoA1); !errors.Is(err, dataplane.ErrNotStarted) {
		t.Errorf("Release before Start = %v, want ErrNotStarted", err)
	}
}

func newMobileNode(t *testing.T, cfg dataplane.Config) dataplane.MobileNode {
	t.Helper()
	mn, err := seg6.NewMobileNode(cfg)
	dptest.Must(t, err)
	t.Cleanup(func() { dptest.Must(t, mn.Close()) })
	return mn
}

func packets(t *testing.T, c *netnstest.Capture) []netnstest.Packet {
	t.Helper()
	p, err := c.Packets()
	dptest.Must(t, err)
	return p
}

// reverseTunnelledReply matches an outgoing tunnel packet from coa to the
// Home Agent carrying the home address's echo reply with identifier id.
func reverseTunnelledReply(coa netip.Addr, id int) func(netnstest.Packet) bool {
	return func(p netnstest.Packet) bool {
		if !p.Outgoing || p.NextHeader != netnstest.NextHeaderIPv6 || p.Src != coa || p.Dst != dptest.HAAddr {
			return false
		}
		inner, err := p.Inner()
		return err == nil && inner.Src == dptest.HomeAddr && inner.Dst == dptest.CNAddr && dptest.EchoID(inner) == id
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
			if dptest.EchoID(p) == id {
				t.Errorf("echo request %d should not have been decapsulated, but was answered: %v", id, p)
			}
		}
	}
}

// BenchmarkMobileNodeAttach times a handover in the data plane: Attach
// alternately to link 1 and link 2, both up, with the Router pin.
func BenchmarkMobileNodeAttach(b *testing.B) {
	tp := dptest.NewTopology(b)
	mn := dptest.StartMobileNode(b, tp.MobileNodeConfig())
	defer func() { dptest.Must(b, mn.Close()) }()
	links := []dataplane.Attachment{
		{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1},
		{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2},
	}
	dptest.Must(b, mn.Attach(b.Context(), links[0]))
	i := 1
	for b.Loop() {
		dptest.Must(b, mn.Attach(b.Context(), links[i%2]))
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
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	dptest.Must(t, tp.MN.AddRouteMetric(dptest.DefaultDst, dptest.Router2, 200)) // a way out if the guard fails
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	dptest.Must(t, mn.Attach(t.Context(), dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	link2 := tp.MN.Capture(t, "m2")
	dptest.Must(t, tp.MN.LinkDown("m1"))

	var sendErr error
	dptest.Must(t, tp.MN.Do(func() error {
		conn, err := net.DialUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dptest.HomeAddr, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(dptest.CNAddr, 9)))
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
		if p.Outgoing && p.Src == dptest.HomeAddr {
			t.Errorf("home address traffic left untunnelled on m2: %v", p)
		}
	}
}

// countLines counts the lines of text that begin with prefix.
func countLines(text, prefix string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}
