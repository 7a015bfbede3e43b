package e2ensm_test

import (
	"bufio"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// TestBindingUpdateFromAnotherVWireIsRefused: two mobile nodes register
// through NSM. Then the second one sends (with scapy), on its own vWire, a
// Binding Update that claims to be the first one's in every address: its
// source is the first one's care-of address, its Home Address option the
// first one's home address, its sequence number the next one, its
// lifetime 0 — without the ingress check it would delete the first one's
// binding. The Home Agent refuses it with 129 (its answer goes to the
// first one's care-of address, so the sender sees none), and the first
// mobile node stays registered.
func TestBindingUpdateFromAnotherVWireIsRefused(t *testing.T) {
	l := newLab(t, nsmlab.Options{MobileNodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mustStartHA(ctx, t, l, 1)
	first := mustRegister(ctx, t, l, 1)
	mustRegister(ctx, t, l, 2)
	before, updatesBefore := bindings(ctx, t, l), updates(ctx, t, l)

	next := strconv.Itoa(int(first.Registration.Sequence + 1))
	a := labtest.ScapyBU(ctx, t, l.MN[1].Name(), "--iface", nsmlab.VWire, "--coa", first.Connection.CareOf.String(),
		"--ha", nsmlab.HAAddr(1).String(), "--hoa", first.Connection.HomeAddress.String(),
		"--seq", next, "--lifetime", "0", "--timeout", "1")
	if a.Answer != nil && (a.Answer.Type != "BA" || a.Answer.Status != int(mh.StatusAdministrativelyProhibited)) {
		t.Errorf("spoofed BU from the second mobile node's vWire: answer %+v, want none or a BA with status 129", a.Answer)
	}
	processed := waitProcessed(ctx, t, l, updatesBefore)
	prohibited := strconv.Itoa(int(mh.StatusAdministrativelyProhibited))
	if want := map[string]int{prohibited: 1}; !maps.Equal(processed, want) {
		t.Errorf("the Home Agent answered BUs with statuses %v since the spoofed one was sent, want %v", processed, want)
	}
	if after := bindings(ctx, t, l); !slices.Equal(after, before) {
		t.Errorf("binding cache changed by a spoofed BU:\nbefore %v\nafter  %v", before, after)
	}
	if st, err := l.MobileStatus(ctx, 1); err != nil || !st.Registered() {
		t.Errorf("first mobile node after the spoofed BU: %v (%v), want still registered", st, err)
	}
}

// waitProcessed waits until Home Agent 1 has processed a BU more than
// the counts in before say, and returns the BUs processed since, by the
// status answered.
func waitProcessed(ctx context.Context, t *testing.T, l *nsmlab.Lab, before map[string]int) map[string]int {
	t.Helper()
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		since := map[string]int{}
		for status, n := range updates(ctx, t, l) {
			if d := n - before[status]; d > 0 {
				since[status] = d
			}
		}
		if len(since) > 0 {
			return since
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the Home Agent processed no BU after the spoofed one was sent: %v", ctx.Err())
		case <-ticker.C:
		}
	}
}

// updates is Home Agent 1's count of BUs processed, by the status answered
// (the status label of mip6_binding_updates_total).
func updates(ctx context.Context, t *testing.T, l *nsmlab.Lab) map[string]int {
	t.Helper()
	text, err := l.Metrics(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = `mip6_binding_updates_total{status="`
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		status, value, ok := strings.Cut(rest, `"} `)
		n, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		out[status] = int(n)
	}
	return out
}
