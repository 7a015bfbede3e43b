package bpf_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
)

// TestStartRemovesLeftoversOfCrashedRun: a Home Agent dropped without
// Close leaves its routes, rules and anchor device behind, and its routes
// keep its programs and maps alive: the bindings it had go on working.
// A new instance with the same Config ends up exactly as a fresh start,
// works, and Close returns the namespace to the state before the first run.
func TestStartRemovesLeftoversOfCrashedRun(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	haBase, mnBase := dptest.TakeBaselineWithLinks(t, tp.HA), dptest.TakeBaselineWithLinks(t, tp.MN)
	ctx := t.Context()

	crashedHA := startHomeAgent(t, tp.HomeAgentConfig())
	haFresh, haFreshLinks := dptest.Snapshot(t, tp.HA), dptest.Links(t, tp.HA)
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	dptest.Must(t, crashedHA.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, crashedHA.Bind(ctx, dptest.OtherHome, dptest.CoA1))
	bpf.Abandon(crashedHA)
	if dptest.Snapshot(t, tp.HA).Diff(haBase.State) == "" {
		t.Fatal("the crashed instance left nothing behind; the test proves nothing")
	}
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr)) // the orphaned programs still tunnel

	ha := startHomeAgent(t, tp.HomeAgentConfig())
	if diff := dptest.Snapshot(t, tp.HA).Diff(haFresh); diff != "" {
		t.Errorf("home agent after restart differs from a fresh start:\n%s", diff)
	}
	if got := dptest.Links(t, tp.HA); got != haFreshLinks {
		t.Errorf("links after restart %q, after a fresh start %q", got, haFreshLinks)
	}
	if err := tp.CN.Ping(dptest.ShortContext(t), dptest.CNAddr, dptest.HomeAddr); err == nil {
		t.Error("a binding of the crashed run survived Start")
	}

	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	haBase.AssertRestored(t)
	mnBase.AssertRestored(t)
}

// TestStartRemovesSeg6Leftovers: a crashed seg6 Home Agent of the same
// instance leaves encap routes and an nftables table whose rule marks
// every tunnelled packet for decapsulation, past this driver's check.
// Start removes both: a spoofed tunnel is refused afterwards.
func TestStartRemovesSeg6Leftovers(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	ruleset := "table ip6 mip6mesh-dp-test { chain decap { type filter hook prerouting priority mangle; " +
		"ip6 daddr " + dptest.HAAddr.String() + " ip6 nexthdr 41 meta mark set meta mark | 0x1000 accept; }; }"
	for _, cmd := range [][]string{
		{"nft", ruleset},
		{"ip", "-6", "route", "add", dptest.OtherHome.String(), "encap", "seg6", "mode", "encap.red", "segs", dptest.CoA1.String(),
			"dev", "a1", "proto", "246"},
	} {
		if out, err := tp.HA.Exec(ctx, cmd[0], cmd[1:]...); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}

	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	s := dptest.Snapshot(t, tp.HA)
	for _, line := range append(s.NFTTables, s.Routes...) {
		if strings.Contains(line, "mip6mesh-dp-test") && !strings.Contains(line, "mip6mesh-dp-test:") ||
			strings.Contains(line, dptest.OtherHome.String()) {
			t.Errorf("seg6 leftover after Start: %s", line)
		}
	}
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.SizedEchoRequest(dptest.OtherHome, dptest.CNAddr, 1, 64)))
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.SizedEchoRequest(dptest.HomeAddr, dptest.CNAddr, 2, 64)))
	awaitStats(t, ha, func(s bpf.Stats) bool { return s.Refused == 1 && s.Decapsulated == 1 })
}

// awaitStats waits up to a second for the counters to satisfy ok.
func awaitStats(t *testing.T, ha dataplane.HomeAgent, ok func(bpf.Stats) bool) {
	t.Helper()
	var s bpf.Stats
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s = stats(t, ha); ok(s) {
			return
		}
	}
	t.Errorf("stats %+v never reached the expected values", s)
}
