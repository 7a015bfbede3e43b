package seg6_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestConstructorsRejectBadConfig(t *testing.T) {
	t.Parallel()
	cfg := dataplane.Config{Instance: "x", HomePrefix: homePrefix} // no HomeAgent
	var verr *dataplane.ValueError
	if _, err := seg6.NewHomeAgent(cfg); !errors.As(err, &verr) || verr.Field != "Config.HomeAgent" {
		t.Errorf("NewHomeAgent: got %v, want a ValueError for Config.HomeAgent", err)
	}
	cfg.HomeAgent = haAddr
	if _, err := seg6.NewMobileNode(cfg); !errors.As(err, &verr) || verr.Field != "home address" {
		t.Errorf("NewMobileNode: got %v, want a ValueError for the home address", err)
	}
}

// TestHomeAgentLifecycleErrors: typed errors before Start, for bad
// arguments, for unknown bindings and after Close; failed calls change
// nothing.
func TestHomeAgentLifecycleErrors(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	ctx := t.Context()
	ha, err := seg6.NewHomeAgent(tp.homeAgentConfig())
	must(t, err)
	if err := ha.Bind(ctx, homeAddr, coa1); !errors.Is(err, dataplane.ErrNotStarted) {
		t.Errorf("Bind before Start: %v, want ErrNotStarted", err)
	}
	must(t, ha.Start(ctx))
	if err := ha.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	started := snapshot(t, tp.ha)

	assertValueError(t, ha.Bind(ctx, netip.MustParseAddr("2001:db8:2::1"), coa1), "home address")
	assertValueError(t, ha.Bind(ctx, haAddr, coa1), "home address")
	assertValueError(t, ha.Bind(ctx, homeAddr, netip.MustParseAddr("2001:db8:1::5")), "care-of address")
	if err := ha.Bind(ctx, homeAddr, netip.MustParseAddr("2001:db8:ffff::1")); err == nil {
		t.Error("Bind to an unroutable care-of address succeeded")
	}
	if err := ha.Unbind(ctx, homeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("Unbind without binding: %v, want ErrNotBound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ha.Bind(cancelled, homeAddr, coa1); !errors.Is(err, context.Canceled) {
		t.Errorf("Bind with a cancelled context: %v, want context.Canceled", err)
	}
	if diff := snapshot(t, tp.ha).Diff(started); diff != "" {
		t.Errorf("failed calls changed kernel state:\n%s", diff)
	}

	must(t, ha.Close())
	must(t, ha.Close())
	if err := ha.Bind(ctx, homeAddr, coa1); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Bind after Close: %v, want ErrClosed", err)
	}
	if err := ha.Start(ctx); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

// TestHomeAgentStartNeedsForwarding: without IPv6 forwarding Start fails
// with ErrForwardingDisabled and leaves the namespace as it found it.
func TestHomeAgentStartNeedsForwarding(t *testing.T) {
	t.Parallel()
	ns := netnstest.New(t, "nofwd")
	base := takeBaseline(t, ns)
	cfg := dataplane.Config{Instance: "test", NetNS: ns.Handle(), HomeAgent: haAddr, HomePrefix: homePrefix}
	ha, err := seg6.NewHomeAgent(cfg)
	must(t, err)
	if err := ha.Start(t.Context()); !errors.Is(err, dataplane.ErrForwardingDisabled) {
		t.Errorf("Start: %v, want ErrForwardingDisabled", err)
	}
	base.assertRestored(t)
	must(t, ha.Close())
}

// TestMobileNodeBlocksHomeAddressUntilAttached: between Start and the
// first Attach, home-address traffic fails locally instead of leaving
// untunnelled; Attach rejects bad arguments.
func TestMobileNodeBlocksHomeAddressUntilAttached(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	ctx := t.Context()
	mn := startMobileNode(t, tp.mobileNodeConfig())
	defer func() { must(t, mn.Close()) }()
	link1 := tp.mn.Capture(t, "m1")

	if err := tp.mn.Ping(shortContext(t), homeAddr, cnAddr); err == nil || errors.Is(err, netnstest.ErrNoReply) {
		t.Errorf("ping from the home address before Attach: %v, want a local send error", err)
	}
	packets, err := link1.Packets()
	must(t, err)
	for _, p := range packets {
		if p.Src == homeAddr {
			t.Errorf("home-address packet left untunnelled: %v", p)
		}
	}

	assertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: netip.MustParseAddr("2001:db8:1::7"), Interface: "m1"}), "care-of address")
	assertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1}), "Attachment.Interface")
	assertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa2, Interface: "m1"}), "care-of address")
	if err := mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "nosuch0"}); err == nil {
		t.Error("Attach to a missing interface succeeded")
	}
}

func assertValueError(t *testing.T, err error, field string) {
	t.Helper()
	var verr *dataplane.ValueError
	if !errors.As(err, &verr) || verr.Field != field {
		t.Errorf("got %v, want a ValueError for %s", err, field)
	}
}
