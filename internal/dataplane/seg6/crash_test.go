package seg6_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
)

// TestStartRemovesLeftoversOfCrashedRun: instances dropped without Close
// leave routes, rules, nft state and tunsrc behind (the Mobile Node's as an
// older version left it); new instances with the same Config find them at
// Start, end up exactly as a fresh start, work, and Close returns both
// namespaces to the state before the first run.
func TestStartRemovesLeftoversOfCrashedRun(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	haBase, mnBase := dptest.TakeBaseline(t, tp.HA), dptest.TakeBaseline(t, tp.MN)
	ctx := t.Context()

	crashedHA := startHomeAgent(t, tp.HomeAgentConfig())
	crashedMN := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	haFresh, mnFresh := dptest.Snapshot(t, tp.HA), dptest.Snapshot(t, tp.MN)
	dptest.Must(t, crashedMN.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1", Router: dptest.Router1}))
	dptest.Must(t, crashedHA.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, crashedHA.Bind(ctx, dptest.OtherHome, dptest.CoA1))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	seg6.Abandon(crashedHA)
	seg6.Abandon(crashedMN)
	if dptest.Snapshot(t, tp.HA).Diff(haFresh) == "" || dptest.Snapshot(t, tp.MN).Diff(mnFresh) == "" {
		t.Fatal("the crashed instances left nothing behind; the test proves nothing")
	}
	// Older versions set the Mobile Node's tunsrc to the care-of address.
	_, err := tp.MN.Exec(ctx, "ip", "sr", "tunsrc", "set", dptest.CoA1.String())
	dptest.Must(t, err)

	ha := startHomeAgent(t, tp.HomeAgentConfig())
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	if got := dptest.Tunsrc(t, tp.MN); got != mnBase.Tunsrc {
		t.Errorf("mobile node after restart: %q left by the crashed run, want %q", got, mnBase.Tunsrc)
	}
	if diff := dptest.Snapshot(t, tp.HA).Diff(haFresh); diff != "" {
		t.Errorf("home agent after restart differs from a fresh start:\n%s", diff)
	}
	if diff := dptest.Snapshot(t, tp.MN).Diff(mnFresh); diff != "" {
		t.Errorf("mobile node after restart differs from a fresh start:\n%s", diff)
	}

	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	haBase.AssertRestored(t)
	mnBase.AssertRestored(t)
}

// TestUnbindRemovesBindingState: after Unbind the Home Agent's routes, rules
// and nft elements are those of a freshly started instance, even while a
// previous care-of address is in its grace period.
func TestUnbindRemovesBindingState(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	fresh := dptest.Snapshot(t, tp.HA)

	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2)) // rebind replaces, no second route
	dptest.Must(t, ha.Bind(ctx, dptest.OtherHome, dptest.CoA1))
	bound := dptest.Snapshot(t, tp.HA).Diff(fresh)
	if got := countLines(bound, "+ route"); got != 2 {
		t.Errorf("two bindings added %d routes, want 2:\n%s", got, bound)
	}
	// One per binding and one for coa1 of homeAddr, still in its grace.
	if got := countLines(bound, "+ nft element"); got != 3 {
		t.Errorf("two bindings and a rebind added %d nft elements, want 3:\n%s", got, bound)
	}

	dptest.Must(t, ha.Unbind(ctx, dptest.HomeAddr))
	dptest.Must(t, ha.Unbind(ctx, dptest.OtherHome))
	if diff := dptest.Snapshot(t, tp.HA).Diff(fresh); diff != "" {
		t.Errorf("state after Unbind differs from a fresh start:\n%s", diff)
	}
}
