package seg6_test

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestHomeAgentDecapsulatesOnlyBoundTunnels: the Home Agent forwards the
// inner packet of a tunnel only if (outer source, inner source) is a
// binding's (CoA, HoA). Spoofed tunnels, sent before a genuine one on the
// same path, never reach the correspondent node.
func TestHomeAgentDecapsulatesOnlyBoundTunnels(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	atCN := tp.CN.Capture(t, "c0")

	spoofs := map[string][]byte{
		"inner source not bound to this CoA": dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.EchoRequest(dptest.OtherHome, dptest.CNAddr, 1)),
		"outer source not the bound CoA":     dptest.Tunnelled(dptest.CoA2, dptest.HAAddr, dptest.EchoRequest(dptest.HomeAddr, dptest.CNAddr, 2)),
	}
	for _, packet := range spoofs {
		dptest.SendRaw(t, tp.MN, packet)
	}
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.EchoRequest(dptest.HomeAddr, dptest.CNAddr, 3)))

	genuine, seen := dptest.AwaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == dptest.HomeAddr && dptest.EchoID(p) == 3
	})
	if !genuine {
		t.Fatalf("the genuine reverse-tunnelled packet did not reach the CN; saw %v", seen)
	}
	for _, p := range seen {
		if id := dptest.EchoID(p); !p.Outgoing && (id == 1 || id == 2) {
			t.Errorf("spoofed tunnel decapsulated and forwarded: %v", p)
		}
	}
}

// TestMobileNodeDecapsulatesOnlyFromHomeAgent: the Mobile Node accepts a
// tunnel to its CoA only from the Home Agent address and only to its home
// address. An accepted echo request is answered through the reverse tunnel.
func TestMobileNodeDecapsulatesOnlyFromHomeAgent(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	defer func() { dptest.Must(t, mn.Close()) }()
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	atMN := tp.MN.Capture(t, "m1")

	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.Router1, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 1)))
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.CoA1, 2)))
	dptest.SendRaw(t, tp.HA, dptest.Tunnelled(dptest.HAAddr, dptest.CoA1, dptest.EchoRequest(dptest.CNAddr, dptest.HomeAddr, 3)))

	answered, seen := dptest.AwaitPacket(t, atMN, func(p netnstest.Packet) bool {
		inner, err := p.Inner()
		return err == nil && p.Outgoing && inner.Src == dptest.HomeAddr && dptest.EchoID(inner) == 3
	})
	if !answered {
		t.Fatalf("the genuine tunnelled echo request got no tunnelled reply; saw %v", seen)
	}
	for _, p := range seen {
		if !p.Outgoing {
			continue
		}
		if inner, err := p.Inner(); err == nil && (dptest.EchoID(inner) == 1 || dptest.EchoID(inner) == 2) {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", inner)
		}
		if dptest.EchoID(p) == 1 || dptest.EchoID(p) == 2 {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", p)
		}
	}
}

// TestHomeAgentGracesPreviousCareOf: once Bind has moved a home address to
// a new care-of address, packets reverse-tunnelled from the previous one
// with that home address inside are still forwarded, until the kernel
// expires the element after PreviousCareOfGrace; then they are refused.
// Binding a care-of address again while it is in its grace makes it
// permanent again.
func TestHomeAgentGracesPreviousCareOf(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	atCN := tp.CN.Capture(t, "c0")

	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, ha.Bind(ctx, dptest.OtherHome, dptest.CoA2))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2))
	assertBindingTimeouts(t, tp.HA, map[[2]netip.Addr]time.Duration{
		{dptest.CoA1, dptest.HomeAddr}: seg6.PreviousCareOfGrace, {dptest.CoA2, dptest.HomeAddr}: 0, {dptest.CoA2, dptest.OtherHome}: 0,
	})
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.EchoRequest(dptest.OtherHome, dptest.CNAddr, 1))) // dptest.CoA1 never bound to dptest.OtherHome
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.EchoRequest(dptest.HomeAddr, dptest.CNAddr, 2)))
	forwarded, seen := dptest.AwaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == dptest.HomeAddr && dptest.EchoID(p) == 2
	})
	if !forwarded {
		t.Fatalf("a packet tunnelled from the previous care-of address in its grace period did not reach the CN; saw %v", seen)
	}
	assertNotForwarded(t, seen, 1)

	// Back to coa1 while it is in its grace: coa1 loses its timeout, coa2 gets one.
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	assertBindingTimeouts(t, tp.HA, map[[2]netip.Addr]time.Duration{
		{dptest.CoA1, dptest.HomeAddr}: 0, {dptest.CoA2, dptest.HomeAddr}: seg6.PreviousCareOfGrace, {dptest.CoA2, dptest.OtherHome}: 0,
	})
	waitUntil(t, "the kernel expires the element of coa2 for the home address", func() bool {
		return len(bindingTimeouts(t, tp.HA)) == 2
	})
	// coa1's first grace ended before coa2's: still accepted, so permanent.
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA2, dptest.HAAddr, dptest.EchoRequest(dptest.HomeAddr, dptest.CNAddr, 3)))
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.EchoRequest(dptest.HomeAddr, dptest.CNAddr, 4)))
	forwarded, seen = dptest.AwaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == dptest.HomeAddr && dptest.EchoID(p) == 4
	})
	if !forwarded {
		t.Fatalf("a packet tunnelled from the care-of address bound again did not reach the CN; saw %v", seen)
	}
	assertNotForwarded(t, seen, 3)
}

func assertNotForwarded(t *testing.T, seen []netnstest.Packet, ids ...int) {
	t.Helper()
	for _, p := range seen {
		if !p.Outgoing {
			continue
		}
		for _, id := range ids {
			if dptest.EchoID(p) == id {
				t.Errorf("tunnel %d should have been refused, but was decapsulated and forwarded: %v", id, p)
			}
		}
	}
}

// assertBindingTimeouts checks the Home Agent's @bindings elements,
// (care-of address, home address) -> timeout (0: none).
func assertBindingTimeouts(t *testing.T, ns *netnstest.NS, want map[[2]netip.Addr]time.Duration) {
	t.Helper()
	if got := bindingTimeouts(t, ns); !maps.Equal(got, want) {
		t.Errorf("binding elements (care-of, home) -> timeout: got %v, want %v", got, want)
	}
}

func bindingTimeouts(t *testing.T, ns *netnstest.NS) map[[2]netip.Addr]time.Duration {
	t.Helper()
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle())))
	dptest.Must(t, err)
	table := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: "mip6mesh-dp-test"}
	set, err := conn.GetSetByName(table, "bindings")
	dptest.Must(t, err)
	elems, err := conn.GetSetElements(set)
	dptest.Must(t, err)
	out := make(map[[2]netip.Addr]time.Duration, len(elems))
	for _, e := range elems {
		if len(e.Key) != 32 {
			t.Fatalf("binding element key of %d bytes, want 32", len(e.Key))
		}
		out[[2]netip.Addr{netip.AddrFrom16([16]byte(e.Key[:16])), netip.AddrFrom16([16]byte(e.Key[16:]))}] = e.Timeout
	}
	return out
}

// waitUntil polls cond until it holds, or fails the test after a while.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
	}
}
