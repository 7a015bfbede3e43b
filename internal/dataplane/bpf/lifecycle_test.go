package bpf_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestConstructorRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := dataplane.Config{Instance: "x", HomeAgent: haAddr, HomePrefix: homePrefix}
	for field, mutate := range map[string]func(*dataplane.Config){
		"Config.HomeAgent":          func(c *dataplane.Config) { c.HomeAgent = netip.Addr{} },
		"Config.HomeLink":           func(c *dataplane.Config) { c.HomeLink = "eth0" },
		"Config.Kernel.TunnelTable": func(c *dataplane.Config) { c.Kernel.TunnelTable = dataplane.DefaultTable },
	} {
		cfg := good
		mutate(&cfg)
		_, err := bpf.NewHomeAgent(cfg)
		assertValueError(t, err, field)
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
	tp := newTopology(t)
	ctx := t.Context()
	ha, err := bpf.NewHomeAgentWithCapacity(tp.homeAgentConfig(), 2)
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
	if err := ha.Unbind(ctx, homeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("Unbind without binding: %v, want ErrNotBound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ha.Bind(cancelled, homeAddr, coa1); !errors.Is(err, context.Canceled) {
		t.Errorf("Bind with a cancelled context: %v, want context.Canceled", err)
	}

	must(t, ha.Bind(ctx, homeAddr, coa1))
	must(t, ha.Bind(ctx, otherHome, coa1))
	if err := ha.Bind(ctx, netip.MustParseAddr("2001:db8:1::300"), coa1); !errors.Is(err, bpf.ErrFull) {
		t.Errorf("third Bind with capacity 2: %v, want ErrFull", err)
	}
	must(t, ha.Bind(ctx, homeAddr, coa2)) // replacing needs no room
	must(t, ha.Unbind(ctx, homeAddr))
	if err := ha.Unbind(ctx, homeAddr); !errors.Is(err, dataplane.ErrNotBound) {
		t.Errorf("second Unbind: %v, want ErrNotBound", err)
	}
	if diff := snapshot(t, tp.ha).Diff(started); diff != "" {
		t.Errorf("bindings and failed calls changed routes, rules or nft state:\n%s", diff)
	}

	must(t, ha.Close())
	must(t, ha.Close())
	if err := ha.Bind(ctx, homeAddr, coa1); !errors.Is(err, dataplane.ErrClosed) {
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
	base := takeBaseline(t, ns)
	cfg := dataplane.Config{Instance: "test", NetNS: ns.Handle(), HomeAgent: haAddr, HomePrefix: homePrefix}
	ha, err := bpf.NewHomeAgent(cfg)
	must(t, err)
	if err := ha.Start(t.Context()); !errors.Is(err, dataplane.ErrForwardingDisabled) {
		t.Errorf("Start: %v, want ErrForwardingDisabled", err)
	}
	base.assertRestored(t)
	must(t, ha.Close())
}

// TestConcurrentBindUnbindAndClose: Bind, Unbind and Stats from several
// goroutines race with each other and with Close (run with -race); after
// Close every call fails with ErrClosed.
func TestConcurrentBindUnbindAndClose(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	ha := startHomeAgent(t, tp.homeAgentConfig())
	ctx := t.Context()
	const workers, perWorker = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				hoa := scaleHome(w*perWorker + i)
				if err := ha.Bind(ctx, hoa, coa1); err != nil && !errors.Is(err, dataplane.ErrClosed) {
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
	wg.Go(func() { must(t, ha.Close()) })
	wg.Wait()
	if err := ha.Bind(ctx, homeAddr, coa1); !errors.Is(err, dataplane.ErrClosed) {
		t.Errorf("Bind after Close: %v, want ErrClosed", err)
	}
}

func assertValueError(t *testing.T, err error, field string) {
	t.Helper()
	var verr *dataplane.ValueError
	if !errors.As(err, &verr) || verr.Field != field {
		t.Errorf("got %v, want a ValueError for %s", err, field)
	}
}
