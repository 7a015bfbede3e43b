package seg6_test

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestHomeAgentDecapsulatesOnlyBoundTunnels: the Home Agent forwards the
// inner packet of a tunnel only if (outer source, inner source) is a
// binding's (CoA, HoA). Spoofed tunnels, sent before a genuine one on the
// same path, never reach the correspondent node.
func TestHomeAgentDecapsulatesOnlyBoundTunnels(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.homeAgentConfig())
	defer func() { must(t, ha.Close()) }()
	must(t, ha.Bind(ctx, homeAddr, coa1))
	atCN := tp.cn.Capture(t, "c0")

	spoofs := map[string][]byte{
		"inner source not bound to this CoA": tunnelled(coa1, haAddr, echoRequest(otherHome, cnAddr, 1)),
		"outer source not the bound CoA":     tunnelled(coa2, haAddr, echoRequest(homeAddr, cnAddr, 2)),
	}
	for _, packet := range spoofs {
		sendRaw(t, tp.mn, packet)
	}
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(homeAddr, cnAddr, 3)))

	genuine, seen := awaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == homeAddr && echoID(p) == 3
	})
	if !genuine {
		t.Fatalf("the genuine reverse-tunnelled packet did not reach the CN; saw %v", seen)
	}
	for _, p := range seen {
		if id := echoID(p); !p.Outgoing && (id == 1 || id == 2) {
			t.Errorf("spoofed tunnel decapsulated and forwarded: %v", p)
		}
	}
}

// TestMobileNodeDecapsulatesOnlyFromHomeAgent: the Mobile Node accepts a
// tunnel to its CoA only from the Home Agent address and only to its home
// address. An accepted echo request is answered through the reverse tunnel.
func TestMobileNodeDecapsulatesOnlyFromHomeAgent(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	mn := startMobileNode(t, tp.mobileNodeConfig())
	defer func() { must(t, mn.Close()) }()
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1"}))
	atMN := tp.mn.Capture(t, "m1")

	sendRaw(t, tp.ha, tunnelled(router1, coa1, echoRequest(cnAddr, homeAddr, 1)))
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, coa1, 2)))
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, homeAddr, 3)))

	answered, seen := awaitPacket(t, atMN, func(p netnstest.Packet) bool {
		inner, err := p.Inner()
		return err == nil && p.Outgoing && inner.Src == homeAddr && echoID(inner) == 3
	})
	if !answered {
		t.Fatalf("the genuine tunnelled echo request got no tunnelled reply; saw %v", seen)
	}
	for _, p := range seen {
		if !p.Outgoing {
			continue
		}
		if inner, err := p.Inner(); err == nil && (echoID(inner) == 1 || echoID(inner) == 2) {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", inner)
		}
		if echoID(p) == 1 || echoID(p) == 2 {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", p)
		}
	}
}

// echoID returns the identifier of an ICMPv6 echo request or reply, or -1.
func echoID(p netnstest.Packet) int {
	if p.NextHeader != netnstest.NextHeaderICMPv6 || len(p.Payload) < 8 {
		return -1
	}
	if typ := p.Payload[0]; typ != 128 && typ != 129 {
		return -1
	}
	return int(p.Payload[4])<<8 | int(p.Payload[5])
}

// TestHomeAgentGracesPreviousCareOf: once Bind has moved a home address to
// a new care-of address, packets reverse-tunnelled from the previous one
// with that home address inside are still forwarded, until the kernel
// expires the element after PreviousCareOfGrace; then they are refused.
// Binding a care-of address again while it is in its grace makes it
// permanent again.
func TestHomeAgentGracesPreviousCareOf(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.homeAgentConfig())
	defer func() { must(t, ha.Close()) }()
	atCN := tp.cn.Capture(t, "c0")

	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, ha.Bind(ctx, otherHome, coa2))
	must(t, ha.Bind(ctx, homeAddr, coa2))
	assertBindingTimeouts(t, tp.ha, map[[2]netip.Addr]time.Duration{
		{coa1, homeAddr}: seg6.PreviousCareOfGrace, {coa2, homeAddr}: 0, {coa2, otherHome}: 0,
	})
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(otherHome, cnAddr, 1))) // coa1 never bound to otherHome
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(homeAddr, cnAddr, 2)))
	forwarded, seen := awaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == homeAddr && echoID(p) == 2
	})
	if !forwarded {
		t.Fatalf("a packet tunnelled from the previous care-of address in its grace period did not reach the CN; saw %v", seen)
	}
	assertNotForwarded(t, seen, 1)

	// Back to coa1 while it is in its grace: coa1 loses its timeout, coa2 gets one.
	must(t, ha.Bind(ctx, homeAddr, coa1))
	assertBindingTimeouts(t, tp.ha, map[[2]netip.Addr]time.Duration{
		{coa1, homeAddr}: 0, {coa2, homeAddr}: seg6.PreviousCareOfGrace, {coa2, otherHome}: 0,
	})
	waitUntil(t, "the kernel expires the element of coa2 for the home address", func() bool {
		return len(bindingTimeouts(t, tp.ha)) == 2
	})
	// coa1's first grace ended before coa2's: still accepted, so permanent.
	sendRaw(t, tp.mn, tunnelled(coa2, haAddr, echoRequest(homeAddr, cnAddr, 3)))
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(homeAddr, cnAddr, 4)))
	forwarded, seen = awaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == homeAddr && echoID(p) == 4
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
			if echoID(p) == id {
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
	must(t, err)
	table := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: "mip6mesh-dp-test"}
	set, err := conn.GetSetByName(table, "bindings")
	must(t, err)
	elems, err := conn.GetSetElements(set)
	must(t, err)
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
