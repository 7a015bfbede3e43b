package bpf_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestConstructorRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := dataplane.Config{Instance: "x", HomeAgent: dptest.HAAddr, HomePrefix: dptest.HomePrefix}
	for field, mutate := range map[string]func(*dataplane.Config){
		"Config.HomeAgent":          func(c *dataplane.Config) { c.HomeAgent = netip.Addr{} },
		"Config.HomeLink":           func(c *dataplane.Config) { c.HomeLink = "eth0" },
		"Config.Kernel.TunnelTable": func(c *dataplane.Config) { c.Kernel.TunnelTable = dataplane.DefaultTable },
	} {
		cfg := good
		mutate(&cfg)
		_, err := bpf.NewHomeAgent(cfg)
		dptest.AssertValueError(t, err, field)
	}
	if _, err := bpf.NewHomeAgent(good); err != nil {
		t.Errorf("NewHomeAgent(%+v): %v", good, err)
	}
}

// TestHomeAgentLifecycleErrors: typed errors before Start, for bad
// arguments, for unknown bindings, for a full map and after Close; failed
// calls change nothing.
func TestHomeAgentLifecycleErrors(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	ctx := t.Context()
	ha, err := bpf.NewHomeAgentWithCapacity(tp.HomeAgentConfig(), 2)
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
	if err := ha.Unbind(ctx, dptest.HomeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("Unbind without binding: %v, want ErrNotBound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ha.Bind(cancelled, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, context.Canceled) {
		t.Errorf("Bind with a cancelled context: %v, want context.Canceled", err)
	}

	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, ha.Bind(ctx, dptest.OtherHome, dptest.CoA1))
	if err := ha.Bind(ctx, netip.MustParseAddr("2001:db8:1::300"), dptest.CoA1); !errors.Is(err, bpf.ErrFull) {
		t.Errorf("third Bind with capacity 2: %v, want ErrFull", err)
	}
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA2)) // replacing needs no room
	dptest.Must(t, ha.Unbind(ctx, dptest.HomeAddr))
	if err := ha.Unbind(ctx, dptest.HomeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("second Unbind: %v, want ErrNotBound", err)
	}
	if diff := dptest.Snapshot(t, tp.HA).Diff(started); diff != "" {
		t.Errorf("bindings and failed calls changed routes, rules or nft state:\n%s", diff)
	}

	dptest.Must(t, ha.Close())
	dptest.Must(t, ha.Close())
	if err := ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Bind after Close: %v, want ErrClosed", err)
	}
	if _, err := readStats(ha); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Stats after Close: %v, want ErrClosed", err)
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
	base := dptest.TakeBaselineWithLinks(t, ns)
	cfg := dataplane.Config{Instance: "test", NetNS: ns.Handle(), HomeAgent: dptest.HAAddr, HomePrefix: dptest.HomePrefix}
	ha, err := bpf.NewHomeAgent(cfg)
	dptest.Must(t, err)
	if err := ha.Start(t.Context()); !errors.Is(err, dataplane.ErrForwardingDisabled) {
		t.Errorf("Start: %v, want ErrForwardingDisabled", err)
	}
	base.AssertRestored(t)
	dptest.Must(t, ha.Close())
}

// TestConcurrentBindUnbindAndClose: Bind, Unbind and Stats from several
// goroutines race with each other and with Close (run with -race); after
// Close every call fails with ErrClosed.
func TestConcurrentBindUnbindAndClose(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	ctx := t.Context()
	const workers, perWorker = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				hoa := scaleHome(w*perWorker + i)
				if err := ha.Bind(ctx, hoa, dptest.CoA1); err != nil && !errors.Is(err, dataplane.ErrClosed) {
					t.Errorf("Bind: %v", err)
				}
				if err := ha.Unbind(ctx, hoa); err != nil && !errors.Is(err, dataplane.ErrClosed) {
					t.Errorf("Unbind: %v", err)
				}
				if _, err := readStats(ha); err != nil && !errors.Is(err, dataplane.ErrClosed) {
					t.Errorf("Stats: %v", err)
				}
			}
		})
	}
	wg.Go(func() { dptest.Must(t, ha.Close()) })
	wg.Wait()
	if err := ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Bind after Close: %v, want ErrClosed", err)
	}
}
