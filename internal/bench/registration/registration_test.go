package registration_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/registration"
	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// binDir holds the daemons, built once for all tests.
var binDir string

func TestMain(m *testing.M) { labtest.Main(m, &binDir) }

// testNamespaces prefixes the tests' namespaces, to check none is left.
const testNamespaces = "m6bench-regtest"

func leftNamespaces(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), testNamespaces+"-") {
			left = append(left, e.Name())
		}
	}
	return left
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func config(t *testing.T, steps ...int) registration.Config {
	return registration.Config{BinDir: binDir, Dataplane: "seg6", Steps: steps, Samples: 50, Window: 16,
		Namespaces: testNamespaces, Log: testLog{t}}
}

// TestSmoke fills 200 bindings and times 50 BUs of each kind at 1 and 200
// live bindings. It asserts that every BA was status 0 and the figures are
// sane; it asserts no timing.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := registration.Run(ctx, config(t, 1, 200))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != nil {
		t.Fatalf("stopped: %s", res.Stopped.Text(res.Dataplane))
	}
	if len(res.Steps) != 2 {
		t.Fatalf("%d steps, want 2", len(res.Steps))
	}
	for _, s := range res.Steps {
		checkStep(t, s)
	}
	if res.Driver != "seg6" || res.Shutdown.Error != "" || res.Shutdown.Bindings != 200 || res.HAWarnings != 0 {
		t.Errorf("driver %q, shutdown %+v, %d warnings", res.Driver, res.Shutdown, res.HAWarnings)
	}
	if res.Baseline.RSS <= 0 || res.Baseline.CPU <= 0 {
		t.Errorf("baseline %+v", res.Baseline)
	}
	checkReport(t, res)
	if left := leftNamespaces(t); len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}

func checkStep(t *testing.T, s registration.Step) {
	t.Helper()
	if s.Error != "" || s.Live != s.Target || s.Usage.Bindings != s.Target {
		t.Errorf("step %d: error %q, live %d, usage %+v", s.Target, s.Error, s.Live, s.Usage)
	}
	if f := s.Fill; f == nil || f.Accepted != f.To-f.From || len(f.Refused) != 0 || f.Lost != 0 || f.Rate <= 0 {
		t.Errorf("step %d: fill %+v, want every BA status 0", s.Target, s.Fill)
	}
	if len(s.Latency) != len(registration.Kinds) {
		t.Fatalf("step %d: %d latency summaries, want %d", s.Target, len(s.Latency), len(registration.Kinds))
	}
	for _, l := range s.Latency {
		sane := l.Samples == 50 && l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max &&
			l.Mean >= l.Min && l.Mean <= l.Max
		if !sane {
			t.Errorf("step %d %s: %+v", s.Target, l.Kind, l)
		}
	}
	if s.HAMean <= 0 || s.HAProcessing <= 0 || s.HAProcessing > s.HAMean || s.Usage.RSS <= 0 || s.Usage.CPU <= 0 {
		t.Errorf("step %d: HA mean %v, processing %v, usage %+v", s.Target, s.HAMean, s.HAProcessing, s.Usage)
	}
}

// checkReport renders the result the way the command does.
func checkReport(t *testing.T, res *registration.Result) {
	t.Helper()
	var md bytes.Buffer
	assets := report.Assets{Dir: t.TempDir(), Link: "performance"}
	if err := res.Markdown(&md, assets); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 200 | register | 50 |", "registration-latency.png", "removed 200 bindings"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := os.Stat(filepath.Join(assets.Dir, "registration-latency.png")); err != nil {
		t.Error(err)
	}
	figs := map[string]report.Figure{}
	for _, f := range res.Figures() {
		figs[f.ID] = f
	}
	if f := figs[report.FigBUBAMeanAt1]; !f.Measured() || f.Value <= 0 {
		t.Errorf("mean at 1: %+v", f)
	}
	if f := figs[report.FigBUBAP50At100k]; f.Measured() || f.Blocked {
		t.Errorf("p50 at 100k from a run without that step: %+v", f)
	}
}

// TestRefusalEndsTheRunAsAResult: when the Home Agent answers status 130
// (here its data plane has no route to the care-of addresses from binding
// 150 on), the run stops at that step, records the limit with the daemon's
// reason, and Run succeeds.
func TestRefusalEndsTheRunAsAResult(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := registration.WithUnroutedFrom(config(t, 1, 100, 300, 1000), 150)
	res, err := registration.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stopped
	if st == nil || st.Status != int(mh.StatusInsufficientResources) || st.Live != 150 || !strings.Contains(st.Reason, "data plane") {
		t.Fatalf("stopped %+v, want status 130 at 150 bindings with the data plane's reason", st)
	}
	if len(res.Steps) != 3 {
		t.Fatalf("%d steps, want 3 (the last one stopped)", len(res.Steps))
	}
	last := res.Steps[2]
	if last.Error == "" || last.Fill == nil || last.Fill.Accepted != 50 || last.Fill.Refused[mh.StatusInsufficientResources.String()] == 0 ||
		len(last.Latency) != 0 {
		t.Errorf("last step %+v, fill %+v", last, last.Fill)
	}
	figs := map[string]report.Figure{}
	for _, f := range res.Figures() {
		figs[f.ID] = f
	}
	if f := figs[report.FigBUBAP50At100k]; f.Measured() || !f.Blocked || !strings.Contains(f.Missing, "status 130") {
		t.Errorf("p50 at 100k after the limit: %+v", f)
	}
	if left := leftNamespaces(t); len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}

func TestRunRefusesABadConfig(t *testing.T) {
	for _, cfg := range []registration.Config{
		{BinDir: binDir, Dataplane: "ip6tnl"},
		{BinDir: binDir, Dataplane: "seg6", Steps: []int{10, 1}},
		{BinDir: binDir, Dataplane: "seg6", Namespaces: "Bad Name"},
	} {
		if _, err := registration.Run(context.Background(), cfg); !errors.Is(err, registration.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
	_, err := registration.Run(context.Background(), registration.Config{BinDir: t.TempDir(), Dataplane: "seg6"})
	if err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("missing binary: %v", err)
	}
}
