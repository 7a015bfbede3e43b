package bpf_test

import (
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestTunnelPingHandoverAndCleanup is the seg6 driver's main path with the
// bpf Home Agent: CN pings the home address through the Home Agent; both
// directions cross the access link as RFC 2473 packets with the header
// fields right; a rebinding to the second link moves the traffic there;
// Unbind stops it; Close restores both namespaces.
func TestTunnelPingHandoverAndCleanup(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	haBase, mnBase := takeBaseline(t, tp.ha), takeBaseline(t, tp.mn)

	ha := startHomeAgent(t, tp.homeAgentConfig())
	if ha.Name() != "bpf" {
		t.Errorf("Name() = %q, want bpf", ha.Name())
	}
	mn := startMobileNode(t, tp.mobileNodeConfig())
	ctx := t.Context()

	link1, raw1 := tp.mn.Capture(t, "m1"), newRawCapture(t, tp.mn, "m1")
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1"}))
	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, tp.mn.Ping(ctx, homeAddr, cnAddr))
	assertTunnelled(t, link1, coa1, 2)
	assertOuterHeaders(t, raw1.tunnelHeaders(t), coa1, 2)

	// Handover while link 1 stays up and the MN's default route still
	// points into it: Router pins the MN's tunnel to link 2.
	link2 := tp.mn.Capture(t, "m2")
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m2", Router: router2}))
	must(t, ha.Bind(ctx, homeAddr, coa2))
	drain(t, link1)
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, tp.mn.Ping(ctx, homeAddr, cnAddr))
	assertTunnelled(t, link2, coa2, 2)
	assertNoTunnel(t, link1)

	before := stats(t, ha)
	must(t, ha.Unbind(ctx, homeAddr))
	if err := tp.cn.Ping(shortContext(t), cnAddr, homeAddr); err == nil {
		t.Error("ping to the home address succeeded after Unbind")
	}
	after := stats(t, ha)
	if after.NoBinding <= before.NoBinding || after.Encapsulated != before.Encapsulated {
		t.Errorf("stats after Unbind %+v, before %+v: want only NoBinding to grow", after, before)
	}
	if after.Encapsulated < 4 || after.Decapsulated < 4 || after.Refused != 0 || after.Malformed != 0 {
		t.Errorf("stats %+v: want >= 4 encapsulated and decapsulated, nothing refused or malformed", after)
	}
	must(t, mn.Close())
	must(t, ha.Close())
	haBase.assertRestored(t)
	mnBase.assertRestored(t)
}

// assertTunnelled checks that the capture holds, for each of pings echo
// exchanges, an IPv6-in-IPv6 packet HA -> coa carrying an echo between CN
// and the home address, and one coa -> HA carrying the other direction.
func assertTunnelled(t *testing.T, c *netnstest.Capture, coa netip.Addr, pings int) {
	t.Helper()
	packets, err := c.Packets()
	must(t, err)
	var toMN, fromMN int
	for _, p := range packets {
		if p.NextHeader == netnstest.NextHeaderRoute {
			t.Errorf("routing header on the wire (not RFC 2473): %v", p)
		}
		if p.NextHeader != netnstest.NextHeaderIPv6 {
			continue
		}
		inner, err := p.Inner()
		if err != nil || inner.NextHeader != netnstest.NextHeaderICMPv6 {
			continue
		}
		switch {
		case p.Src == haAddr && p.Dst == coa && !p.Outgoing && inner.Dst == homeAddr && inner.Src == cnAddr:
			toMN++
		case p.Src == coa && p.Dst == haAddr && p.Outgoing && inner.Src == homeAddr && inner.Dst == cnAddr:
			fromMN++
		default:
			t.Errorf("unexpected tunnel packet %v carrying %v", p, inner)
		}
	}
	if toMN < pings || fromMN < pings {
		t.Errorf("tunnel via %s: %d packets HA->MN, %d MN->HA, want >= %d each; saw %v", coa, toMN, fromMN, pings, packets)
	}
}

// assertOuterHeaders checks the fixed header the program builds: version
// 6, traffic class and flow label 0, payload length the inner packet's
// length, next header 41, hop limit 64, HA -> coa.
func assertOuterHeaders(t *testing.T, headers []outerHeader, coa netip.Addr, atLeast int) {
	t.Helper()
	if len(headers) < atLeast {
		t.Fatalf("%d tunnel packets received, want >= %d", len(headers), atLeast)
	}
	for _, h := range headers {
		want := outerHeader{first: [4]byte{0x60}, payloadLength: uint16(h.captured), nextHeader: 41, hopLimit: 64,
			src: haAddr, dst: coa, captured: h.captured}
		if h != want {
			t.Errorf("outer header %+v, want %+v", h, want)
		}
	}
}

func assertNoTunnel(t *testing.T, c *netnstest.Capture) {
	t.Helper()
	packets, err := c.Packets()
	must(t, err)
	for _, p := range packets {
		if p.NextHeader == netnstest.NextHeaderIPv6 {
			t.Errorf("tunnel packet on the old link after handover: %v", p)
		}
	}
}

func drain(t *testing.T, c *netnstest.Capture) {
	t.Helper()
	_, err := c.Packets()
	must(t, err)
}
