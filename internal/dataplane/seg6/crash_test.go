package seg6_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestStartRemovesLeftoversOfCrashedRun: instances dropped without Close
// leave routes, rules, nft state and tunsrc behind (the Mobile Node's as an
// older version left it); new instances with the same Config find them at
// Start, end up exactly as a fresh start, work, and Close returns both
// namespaces to the state before the first run.
func TestStartRemovesLeftoversOfCrashedRun(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	haBase, mnBase := takeBaseline(t, tp.ha), takeBaseline(t, tp.mn)
	ctx := t.Context()

	crashedHA := startHomeAgent(t, tp.homeAgentConfig())
	crashedMN := startMobileNode(t, tp.mobileNodeConfig())
	haFresh, mnFresh := snapshot(t, tp.ha), snapshot(t, tp.mn)
	must(t, crashedMN.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1", Router: router1}))
	must(t, crashedHA.Bind(ctx, homeAddr, coa1))
	must(t, crashedHA.Bind(ctx, otherHome, coa1))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	seg6.Abandon(crashedHA)
	seg6.Abandon(crashedMN)
	if snapshot(t, tp.ha).Diff(haFresh) == "" || snapshot(t, tp.mn).Diff(mnFresh) == "" {
		t.Fatal("the crashed instances left nothing behind; the test proves nothing")
	}
	// Older versions set the Mobile Node's tunsrc to the care-of address.
	_, err := tp.mn.Exec(ctx, "ip", "sr", "tunsrc", "set", coa1.String())
	must(t, err)

	ha := startHomeAgent(t, tp.homeAgentConfig())
	mn := startMobileNode(t, tp.mobileNodeConfig())
	if got := tunsrc(t, tp.mn); got != mnBase.tunsrc {
		t.Errorf("mobile node after restart: %q left by the crashed run, want %q", got, mnBase.tunsrc)
	}
	if diff := snapshot(t, tp.ha).Diff(haFresh); diff != "" {
		t.Errorf("home agent after restart differs from a fresh start:\n%s", diff)
	}
	if diff := snapshot(t, tp.mn).Diff(mnFresh); diff != "" {
		t.Errorf("mobile node after restart differs from a fresh start:\n%s", diff)
	}

	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1"}))
	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, tp.cn.Ping(ctx, cnAddr, homeAddr))
	must(t, mn.Close())
	must(t, ha.Close())
	haBase.assertRestored(t)
	mnBase.assertRestored(t)
}

// TestUnbindRemovesBindingState: after Unbind the Home Agent's routes, rules
// and nft elements are those of a freshly started instance, even while a
// previous care-of address is in its grace period.
func TestUnbindRemovesBindingState(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.homeAgentConfig())
	defer func() { must(t, ha.Close()) }()
	fresh := snapshot(t, tp.ha)

	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, ha.Bind(ctx, homeAddr, coa2)) // rebind replaces, no second route
	must(t, ha.Bind(ctx, otherHome, coa1))
	bound := snapshot(t, tp.ha).Diff(fresh)
	if got := countLines(bound, "+ route"); got != 2 {
		t.Errorf("two bindings added %d routes, want 2:\n%s", got, bound)
	}
	// One per binding and one for coa1 of homeAddr, still in its grace.
	if got := countLines(bound, "+ nft element"); got != 3 {
		t.Errorf("two bindings and a rebind added %d nft elements, want 3:\n%s", got, bound)
	}

	must(t, ha.Unbind(ctx, homeAddr))
	must(t, ha.Unbind(ctx, otherHome))
	if diff := snapshot(t, tp.ha).Diff(fresh); diff != "" {
		t.Errorf("state after Unbind differs from a fresh start:\n%s", diff)
	}
}

func snapshot(t *testing.T, ns *netnstest.NS) netnstest.Snapshot {
	t.Helper()
	s, err := ns.Snapshot()
	must(t, err)
	return s
}
