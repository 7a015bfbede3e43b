package seg6_test

import (
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

func startHomeAgent(t testing.TB, cfg dataplane.Config) dataplane.HomeAgent {
	t.Helper()
	ha, err := seg6.NewHomeAgent(cfg)
	must(t, err)
	must(t, ha.Start(t.Context()))
	return ha
}

func startMobileNode(t testing.TB, cfg dataplane.Config) dataplane.MobileNode {
	t.Helper()
	mn, err := seg6.NewMobileNode(cfg)
	must(t, err)
	must(t, mn.Start(t.Context()))
	return mn
}

// TestTunnelPingHandoverAndCleanup is the main path: CN pings the home
// address through the Home Agent; both directions cross the access link
// as RFC 2473 packets; a handover to the second link keeps the ping
// working with the tunnel on the new link; Close restores both namespaces.
func TestTunnelPingHandoverAndCleanup(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	haBase, mnBase := takeBaseline(t, tp.ha), takeBaseline(t, tp.mn)

	ha := startHomeAgent(t, tp.homeAgentConfig())
	mn := startMobileNode(t, tp.mobileNodeConfig())
	ctx := t.Context()

	link1 := tp.mn.Capture(t, "m1")
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1"}))
	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, tp.mn.Ping(ctx, homeAddr, cnAddr))
	assertTunnelled(t, link1, coa1, 2)

	// Handover while link 1 stays up and the MN's default route still
	// points into it: Router pins the tunnel to link 2.
	link2 := tp.mn.Capture(t, "m2")
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m2", Router: router2}))
	must(t, ha.Bind(ctx, homeAddr, coa2))
	drain(t, link1)
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, tp.mn.Ping(ctx, homeAddr, cnAddr))
	assertTunnelled(t, link2, coa2, 2)
	assertNoTunnel(t, link1)
	// Source selection on the access interface chose the outer sources.
	if got := tunsrc(t, tp.mn); got != mnBase.tunsrc {
		t.Errorf("mobile node tunsrc %q after the handover, want it untouched: %q", got, mnBase.tunsrc)
	}

	must(t, ha.Unbind(ctx, homeAddr))
	if err := tp.cn.Ping(shortContext(t), cnAddr, homeAddr); err == nil {
		t.Error("ping to the home address succeeded after Unbind")
	}
	must(t, mn.Close())
	must(t, ha.Close())
	haBase.assertRestored(t)
	mnBase.assertRestored(t)
}

// TestMobileNodePinsSourceBesideAnotherGlobalAddress: an access interface
// with a second global address that source selection prefers toward the
// Home Agent (longer common prefix) would give reverse-tunnelled packets
// an outer source the Home Agent refuses; there Attach sets tunsrc to the
// care-of address, and unsets it again on an interface with one address.
func TestMobileNodePinsSourceBesideAnotherGlobalAddress(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	mnBase := takeBaseline(t, tp.mn)
	preferred := netip.MustParseAddr("2001:db8:1:b::2") // 48 bits in common with haAddr
	must(t, tp.mn.AddAddr("m2", netip.PrefixFrom(preferred, 64)))
	mnBase.state = snapshot(t, tp.mn)
	ha := startHomeAgent(t, tp.homeAgentConfig())
	mn := startMobileNode(t, tp.mobileNodeConfig())
	ctx := t.Context()

	link2 := tp.mn.Capture(t, "m2")
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m2", Router: router2}))
	must(t, ha.Bind(ctx, homeAddr, coa2))
	if got, want := tunsrc(t, tp.mn), "tunsrc addr "+coa2.String(); got != want {
		t.Errorf("tunsrc %q on an interface with two global addresses, want %q", got, want)
	}
	must(t, tp.mn.Ping(ctx, homeAddr, cnAddr))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	assertTunnelled(t, link2, coa2, 2)

	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	if got := tunsrc(t, tp.mn); got != mnBase.tunsrc {
		t.Errorf("tunsrc %q after moving to an interface with one global address, want %q", got, mnBase.tunsrc)
	}
	must(t, mn.Close())
	must(t, ha.Close())
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
