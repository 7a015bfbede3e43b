package bpf_test

import (
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
)

// TestTunnelPingHandoverAndCleanup is the seg6 driver's main path with the
// bpf Home Agent: CN pings the home address through the Home Agent; both
// directions cross the access link as RFC 2473 packets with the header
// fields right; a rebinding to the second link moves the traffic there;
// Unbind stops it; Close restores both namespaces.
func TestTunnelPingHandoverAndCleanup(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	haBase, mnBase := dptest.TakeBaselineWithLinks(t, tp.HA), dptest.TakeBaselineWithLinks(t, tp.MN)

	ha := startHomeAgent(t, tp.HomeAgentConfig())
	if ha.Name() != "bpf" {
		t.Errorf("Name() = %q, want bpf", ha.Name())
	}
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	ctx := t.Context()

	link1, raw1 := tp.MN.Capture(t, "m1"), newRawCapture(t, tp.MN, "m1")
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	dptest.AssertTunnelled(t, link1, dptest.CoA1, 2)
	assertOuterHeaders(t, raw1.tunnelHeaders(t), dptest.CoA1, 2)

	// Handover while link 1 stays up and the MN's default route still
	// points into it: Router pins the MN's tunnel to link 2.
	link2 := tp.MN.Capture(t, "m2")
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m2", Router: dptest.Router2}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2))
	dptest.Drain(t, link1)
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	dptest.AssertTunnelled(t, link2, dptest.CoA2, 2)
	dptest.AssertNoTunnel(t, link1)

	before := stats(t, ha)
	dptest.Must(t, ha.Unbind(ctx, dptest.HomeAddr))
	if err := tp.CN.Ping(dptest.ShortContext(t), dptest.CNAddr, dptest.HomeAddr); err == nil {
		t.Error("ping to the home address succeeded after Unbind")
	}
	after := stats(t, ha)
	if after.NoBinding <= before.NoBinding || after.Encapsulated != before.Encapsulated {
		t.Errorf("stats after Unbind %+v, before %+v: want only NoBinding to grow", after, before)
	}
	if after.Encapsulated < 4 || after.Decapsulated < 4 || after.Refused != 0 || after.Malformed != 0 {
		t.Errorf("stats %+v: want >= 4 encapsulated and decapsulated, nothing refused or malformed", after)
	}
	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	haBase.AssertRestored(t)
	mnBase.AssertRestored(t)
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
			src: dptest.HAAddr, dst: coa, captured: h.captured}
		if h != want {
			t.Errorf("outer header %+v, want %+v", h, want)
		}
	}
}
