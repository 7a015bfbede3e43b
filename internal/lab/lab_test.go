package lab_test

import (
	"context"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// binDir holds the daemons TestMain builds.
var binDir string

func TestMain(m *testing.M) { labtest.Main(m, &binDir) }

const (
	registerWithin = 5 * time.Second
	pingTimeout    = 2 * time.Second
)

// TestRegisterPingHandoverAndCleanup walks the demo's path: register from
// access link 1, ping the home address from the CN through the tunnel,
// lose link 1, re-register from link 2, ping again, get link 1 back, stop
// both daemons cleanly, and leave no namespace behind.
func TestRegisterPingHandoverAndCleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	l, err := lab.New(ctx, lab.Options{Name: "m6labt", BinDir: binDir, Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() }) // after a failure; the happy path closes below
	names := nsNames(l.Namespaces())
	for _, n := range names {
		if !strings.HasPrefix(n, "m6labt-") {
			t.Errorf("namespace %q lacks the prefix m6labt-", n)
		}
	}

	ha := mustStart(t, "home agent", func() (*lab.Process, error) { return l.StartHomeAgent(ctx) })
	mn := mustStart(t, "mobile node", func() (*lab.Process, error) { return l.StartMobileNode(ctx) })

	waitRegistered(ctx, t, l, lab.CoA1)
	ping(ctx, t, l)

	must(t, l.SetLink(l.MN, lab.MNLink1, false))
	waitRegistered(ctx, t, l, lab.CoA2)
	ping(ctx, t, l)
	bindings, err := l.Bindings(ctx)
	must(t, err)
	if len(bindings) != 1 || bindings[0].HomeAddress != lab.HoA || bindings[0].CareOf != lab.CoA2 {
		t.Errorf("bindings after the handover = %+v, want %s at %s", bindings, lab.HoA, lab.CoA2)
	}

	must(t, l.SetLink(l.MN, lab.MNLink1, true)) // brings CoA1 and its default route back
	waitRegistered(ctx, t, l, lab.CoA1)
	ping(ctx, t, l)

	if err := mn.Stop(); err != nil {
		t.Errorf("mobile node: %v", err)
	}
	if bindings, err := l.Bindings(ctx); err != nil || len(bindings) != 0 {
		t.Errorf("bindings after the mobile node stopped = %+v, %v; want none (deregistered)", bindings, err)
	}
	if err := ha.Stop(); err != nil {
		t.Errorf("home agent: %v", err)
	}
	for _, ns := range []*netns.NS{l.HA, l.MN} {
		state, err := l.KernelState(ns)
		must(t, err)
		if !state.Clean() {
			t.Errorf("%s after shutdown: %s", ns.Name(), state)
		}
	}
	if fwd, err := l.HA.ReadSysctl("net.ipv6.conf.all.forwarding"); err != nil || fwd != "0" {
		t.Errorf("forwarding in the HA after shutdown = %q, %v; want 0", fwd, err)
	}

	must(t, l.Close())
	must(t, l.Close()) // idempotent
	listed := listNetns(t)
	for _, n := range names {
		if slices.Contains(listed, n) {
			t.Errorf("namespace %s still listed after Close", n)
		}
	}
}

func TestStartFailsCleanlyWithoutBinaries(t *testing.T) {
	l, err := lab.New(t.Context(), lab.Options{Name: "m6labt", BinDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { must(t, l.Close()) }()
	if _, err := l.StartHomeAgent(t.Context()); err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("StartHomeAgent without a binary = %v", err)
	}
}

func TestStartReportsAnEarlyExit(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := lab.New(ctx, lab.Options{Name: "m6labt", BinDir: binDir, Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { must(t, l.Close()) }()
	_, err = l.StartHomeAgent(ctx, "NSM_HOME_AGENT_ADDRESS=fe80::1")
	if err == nil || !strings.Contains(err.Error(), "exited during startup") {
		t.Errorf("StartHomeAgent with a link-local Home Agent address = %v, want an early exit", err)
	}
}

func mustStart(t *testing.T, what string, start func() (*lab.Process, error)) *lab.Process {
	t.Helper()
	p, err := start()
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	return p
}

func waitRegistered(ctx context.Context, t *testing.T, l *lab.Lab, coa netip.Addr) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, registerWithin)
	defer cancel()
	start := time.Now()
	if err := l.WaitRegistered(ctx, coa); err != nil {
		t.Fatal(err)
	}
	t.Logf("registered from %s after %v", coa, time.Since(start).Round(time.Millisecond))
}

func ping(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	rtt, err := l.Ping(ctx, l.CN, lab.HoA, pingTimeout)
	if err != nil {
		t.Fatalf("CN -> HoA: %v", err)
	}
	t.Logf("CN -> HoA: rtt %v", rtt)
}

func nsNames(list []*netns.NS) []string {
	var names []string
	for _, ns := range list {
		names = append(names, ns.Name())
	}
	return names
}

func listNetns(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
