package seg6_test

import (
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

func startHomeAgent(t testing.TB, cfg dataplane.Config) dataplane.HomeAgent {
	t.Helper()
	ha, err := seg6.NewHomeAgent(cfg)
	dptest.Must(t, err)
	dptest.Must(t, ha.Start(t.Context()))
	return ha
}

// TestTunnelPingHandoverAndCleanup is the main path: CN pings the home
// address through the Home Agent; both directions cross the access link
// as RFC 2473 packets; a handover to the second link keeps the ping
// working with the tunnel on the new link; Close restores both namespaces.
func TestTunnelPingHandoverAndCleanup(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	haBase, mnBase := dptest.TakeBaseline(t, tp.HA), dptest.TakeBaseline(t, tp.MN)

	ha := startHomeAgent(t, tp.HomeAgentConfig())
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	ctx := t.Context()

	link1 := tp.MN.Capture(t, "m1")
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	dptest.AssertTunnelled(t, link1, dptest.CoA1, 2)

	// Handover while link 1 stays up and the MN's default route still
	// points into it: Router pins the tunnel to link 2.
	link2 := tp.MN.Capture(t, "m2")
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2))
	dptest.Drain(t, link1)
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	dptest.AssertTunnelled(t, link2, dptest.CoA2, 2)
	dptest.AssertNoTunnel(t, link1)
	// Source selection on the access interface chose the outer sources.
	if got := dptest.Tunsrc(t, tp.MN); got != mnBase.Tunsrc {
		t.Errorf("mobile node tunsrc %q after the handover, want it untouched: %q", got, mnBase.Tunsrc)
	}

	dptest.Must(t, ha.Unbind(ctx, dptest.HomeAddr))
	if err := tp.CN.Ping(dptest.ShortContext(t), dptest.CNAddr, dptest.HomeAddr); err == nil {
		t.Error("ping to the home address succeeded after Unbind")
	}
	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	haBase.AssertRestored(t)
	mnBase.AssertRestored(t)
}

// TestMobileNodePinsSourceBesideAnotherGlobalAddress: an access interface
// with a second global address that source selection prefers toward the
// Home Agent (longer common prefix) would give reverse-tunnelled packets
// an outer source the Home Agent refuses; there Attach sets tunsrc to the
// care-of address, and unsets it again on an interface with one address.
func TestMobileNodePinsSourceBesideAnotherGlobalAddress(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	mnBase := dptest.TakeBaseline(t, tp.MN)
	preferred := netip.MustParseAddr("2001:db8:1:b::2") // 48 bits in common with dptest.HAAddr
	dptest.Must(t, tp.MN.AddAddr("m2", netip.PrefixFrom(preferred, 64)))
	mnBase.State = dptest.Snapshot(t, tp.MN)
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	ctx := t.Context()

	link2 := tp.MN.Capture(t, "m2")
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2))
	if got, want := dptest.Tunsrc(t, tp.MN), "tunsrc addr "+dptest.CoA2.String(); got != want {
		t.Errorf("tunsrc %q on an interface with two global addresses, want %q", got, want)
	}
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.AssertTunnelled(t, link2, dptest.CoA2, 2)

	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	if got := dptest.Tunsrc(t, tp.MN); got != mnBase.Tunsrc {
		t.Errorf("tunsrc %q after moving to an interface with one global address, want %q", got, mnBase.Tunsrc)
	}
	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	mnBase.AssertRestored(t)
}
