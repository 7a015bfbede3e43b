package seg6_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestConstructorsRejectBadConfig(t *testing.T) {
	t.Parallel()
	cfg := dataplane.Config{Instance: "x", HomePrefix: dptest.HomePrefix} // no HomeAgent
	var verr *dataplane.ValueError
	if _, err := seg6.NewHomeAgent(cfg); !errors.As(err, &verr) || verr.Field != "Config.HomeAgent" {
		t.Errorf("NewHomeAgent: got %v, want a ValueError for Config.HomeAgent", err)
	}
	cfg.HomeAgent = dptest.HAAddr
	if _, err := seg6.NewMobileNode(cfg); !errors.As(err, &verr) || verr.Field != "home address" {
		t.Errorf("NewMobileNode: got %v, want a ValueError for the home address", err)
	}
}

// TestHomeAgentLifecycleErrors: typed errors before Start, for bad
// arguments, for unknown bindings and after Close; failed calls change
// nothing.
func TestHomeAgentLifecycleErrors(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	ctx := t.Context()
	ha, err := seg6.NewHomeAgent(tp.HomeAgentConfig())
	dptest.Must(t, err)
	if err := ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, dataplane.ErrNotStarted) {
		t.Errorf("Bind before Start: %v, want ErrNotStarted", err)
	}
	dptest.Must(t, ha.Start(ctx))
	if err := ha.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	started := dptest.Snapshot(t, tp.HA)

	dptest.AssertValueError(t, ha.Bind(ctx, netip.MustParseAddr("2001:db8:2::1"), dptest.CoA1), "home address")
	dptest.AssertValueError(t, ha.Bind(ctx, dptest.HAAddr, dptest.CoA1), "home address")
	dptest.AssertValueError(t, ha.Bind(ctx, dptest.HomeAddr, netip.MustParseAddr("2001:db8:1::5")), "care-of address")
	if err := ha.Bind(ctx, dptest.HomeAddr, netip.MustParseAddr("2001:db8:ffff::1")); err == nil {
		t.Error("Bind to an unroutable care-of address succeeded")
	}
	if err := ha.Unbind(ctx, dptest.HomeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("Unbind without binding: %v, want ErrNotBound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ha.Bind(cancelled, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, context.Canceled) {
		t.Errorf("Bind with a cancelled context: %v, want context.Canceled", err)
	}
	if diff := dptest.Snapshot(t, tp.HA).Diff(started); diff != "" {
		t.Errorf("failed calls changed kernel state:\n%s", diff)
	}

	dptest.Must(t, ha.Close())
	dptest.Must(t, ha.Close())
	if err := ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, dataplane.ErrClosed) {
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
	base := dptest.TakeBaseline(t, ns)
	cfg := dataplane.Config{Instance: "test", NetNS: ns.Handle(), HomeAgent: dptest.HAAddr, HomePrefix: dptest.HomePrefix}
	ha, err := seg6.NewHomeAgent(cfg)
	dptest.Must(t, err)
	if err := ha.Start(t.Context()); !errors.Is(err, dataplane.ErrForwardingDisabled) {
		t.Errorf("Start: %v, want ErrForwardingDisabled", err)
	}
	base.AssertRestored(t)
	dptest.Must(t, ha.Close())
}

// TestMobileNodeBlocksHomeAddressUntilAttached: between Start and the
// first Attach, home-address traffic fails locally instead of leaving
// untunnelled; Attach rejects bad arguments.
func TestMobileNodeBlocksHomeAddressUntilAttached(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	ctx := t.Context()
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	defer func() { dptest.Must(t, mn.Close()) }()
	link1 := tp.MN.Capture(t, "m1")

	if err := tp.MN.Ping(dptest.ShortContext(t), dptest.HomeAddr, dptest.CNAddr); err == nil || errors.Is(err, netnstest.ErrNoReply) {
		t.Errorf("ping from the home address before Attach: %v, want a local send error", err)
	}
	packets, err := link1.Packets()
	dptest.Must(t, err)
	for _, p := range packets {
		if p.Src == dptest.HomeAddr {
			t.Errorf("home-address packet left untunnelled: %v", p)
		}
	}

	dptest.AssertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: netip.MustParseAddr("2001:db8:1::7"), Interface: "m1"}), "care-of address")
	dptest.AssertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1}), "Attachment.Interface")
	dptest.AssertValueError(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA2, Interface: "m1"}), "care-of address")
	if err := mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "nosuch0"}); err == nil {
		t.Error("Attach to a missing interface succeeded")
	}
}
