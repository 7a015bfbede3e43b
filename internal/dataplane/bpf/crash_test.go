package bpf_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
)

// TestStartRemovesLeftoversOfCrashedRun: a Home Agent dropped without
// Close leaves its routes, rules and anchor device behind, and its routes
// keep its programs and maps alive: the bindings it had go on working.
// A new instance with the same Config ends up exactly as a fresh start,
// works, and Close returns the namespace to the state before the first run.
func TestStartRemovesLeftoversOfCrashedRun(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	haBase, mnBase := takeBaseline(t, tp.ha), takeBaseline(t, tp.mn)
	ctx := t.Context()

	crashedHA := startHomeAgent(t, tp.homeAgentConfig())
	haFresh, haFreshLinks := snapshot(t, tp.ha), links(t, tp.ha)
	mn := startMobileNode(t, tp.mobileNodeConfig())
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	must(t, crashedHA.Bind(ctx, homeAddr, coa1))
	must(t, crashedHA.Bind(ctx, otherHome, coa1))
	bpf.Abandon(crashedHA)
	if snapshot(t, tp.ha).Diff(haBase.state) == "" {
		t.Fatal("the crashed instance left nothing behind; the test proves nothing")
	}
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr)) // the orphaned programs still tunnel

	ha := startHomeAgent(t, tp.homeAgentConfig())
	if diff := snapshot(t, tp.ha).Diff(haFresh); diff != "" {
		t.Errorf("home agent after restart differs from a fresh start:\n%s", diff)
	}
	if got := links(t, tp.ha); got != haFreshLinks {
		t.Errorf("links after restart %q, after a fresh start %q", got, haFreshLinks)
	}
	if err := tp.cn.Ping(shortContext(t), cnAddr, homeAddr); err == nil {
		t.Error("a binding of the crashed run survived Start")
	}

	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, mn.Close())
	must(t, ha.Close())
	haBase.assertRestored(t)
	mnBase.assertRestored(t)
}

// TestStartRemovesSeg6Leftovers: a crashed seg6 Home Agent of the same
// instance leaves encap routes and an nftables table whose rule marks
// every tunnelled packet for decapsulation, past this driver's check.
// Start removes both: a spoofed tunnel is refused afterwards.
func TestStartRemovesSeg6Leftovers(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	ruleset := "table ip6 mip6mesh-dp-test { chain decap { type filter hook prerouting priority mangle; " +
		"ip6 daddr " + haAddr.String() + " ip6 nexthdr 41 meta mark set meta mark | 0x1000 accept; }; }"
	for _, cmd := range [][]string{
		{"nft", ruleset},
		{"ip", "-6", "route", "add", otherHome.String(), "encap", "seg6", "mode", "encap.red", "segs", coa1.String(),
			"dev", "a1", "proto", "246"},
	} {
		if out, err := tp.ha.Exec(ctx, cmd[0], cmd[1:]...); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}

	ha := startHomeAgent(t, tp.homeAgentConfig())
	defer func() { must(t, ha.Close()) }()
	s := snapshot(t, tp.ha)
	for _, line := range append(s.NFTTables, s.Routes...) {
		if strings.Contains(line, "mip6mesh-dp-test") && !strings.Contains(line, "mip6mesh-dp-test:") ||
			strings.Contains(line, otherHome.String()) {
			t.Errorf("seg6 leftover after Start: %s", line)
		}
	}
	must(t, ha.Bind(ctx, homeAddr, coa1))
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(otherHome, cnAddr, 1, 64)))
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(homeAddr, cnAddr, 2, 64)))
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
