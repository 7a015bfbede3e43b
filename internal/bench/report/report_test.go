package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

func figures(fs ...report.Figure) map[string]report.Figure {
	m := map[string]report.Figure{}
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

func verdictOf(t *testing.T, vs []report.Verdict, id string) report.Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Goal.Figure == id {
			return v
		}
	}
	t.Fatalf("no verdict for %s", id)
	return report.Verdict{}
}

func TestEvaluateSaysMetMissedAndByHowMuch(t *testing.T) {
	vs := report.Evaluate(figures(
		report.Figure{ID: report.FigBUBAP50At100k, Value: 38, Unit: "µs"},
		report.Figure{ID: report.FigBUBAP99At100k, Value: 750, Unit: "µs"},
		report.Figure{ID: report.FigRegistrationRate, Value: 40000, Unit: "/s"},
		report.Figure{ID: report.FigRSSAt1M, Unit: "MiB", Missing: "1,000,000 live bindings not reached", Blocked: true},
		report.Figure{ID: report.FigTunnelThroughput, Value: 95, Unit: "%"},
		report.Figure{ID: report.FigHandoverOutage, Unit: "ms", Missing: "not in --steps"},
	))
	for _, tc := range []struct {
		id     string
		state  report.State
		margin string
	}{
		{report.FigBUBAP50At100k, report.Met, "24 % under the target"},
		{report.FigBUBAP99At100k, report.Missed, "3× the target"},
		{report.FigRegistrationRate, report.Missed, "20 % short of the target (80 % of it)"},
		{report.FigRSSAt1M, report.Missed, "1,000,000 live bindings not reached"},
		{report.FigTunnelThroughput, report.Met, "5.56 % above the target"},
		{report.FigHandoverOutage, report.NotMeasured, "not in --steps"},
	} {
		v := verdictOf(t, vs, tc.id)
		if v.State != tc.state || v.Margin != tc.margin {
			t.Errorf("%s: %s, %q; want %s, %q", tc.id, v.State, v.Margin, tc.state, tc.margin)
		}
	}
}

func TestEvaluateWithoutFiguresNamesTheSuite(t *testing.T) {
	v := verdictOf(t, report.Evaluate(nil), report.FigTunnelThroughput)
	if v.State != report.NotMeasured || !strings.Contains(v.Margin, "datapath") {
		t.Errorf("got %s, %q; want not measured, naming suite datapath", v.State, v.Margin)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{50, "µs", "50 µs"},
		{38.25, "µs", "38.2 µs"},
		{1.25, "ms", "1.25 ms"},
		{1000000, "", "1,000,000"},
		{52340.6, "/s", "52,341 /s"},
		{-1234, "B", "-1,234 B"},
	} {
		if got := report.FormatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestQuantileIsNearestRank(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0: 1, 0.5: 5, 0.9: 9, 0.99: 10, 1: 10} {
		if got := report.Quantile(sorted, q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got := report.Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v, want 0", got)
	}
}

func TestEmpiricalCDFKeepsTheEnds(t *testing.T) {
	sorted := make([]float64, 1000)
	for i := range sorted {
		sorted[i] = float64(i + 1)
	}
	c := report.EmpiricalCDF(sorted, 50)
	n := len(c.Micros)
	if n > 51 || n != len(c.Fraction) {
		t.Fatalf("%d and %d points, want equal and at most 51", n, len(c.Fraction))
	}
	if c.Micros[0] != 1 || c.Micros[n-1] != 1000 || c.Fraction[n-1] != 1 {
		t.Errorf("ends (%v, %v) .. (%v, %v), want (1, …) .. (1000, 1)", c.Micros[0], c.Fraction[0], c.Micros[n-1], c.Fraction[n-1])
	}
	for i := 1; i < n; i++ {
		if c.Micros[i] < c.Micros[i-1] || c.Fraction[i] <= c.Fraction[i-1] {
			t.Fatalf("not increasing at %d: %v", i, c)
		}
	}
}

func TestHistoryKeepsTheLatestOfEachSuite(t *testing.T) {
	var h report.History
	first := &report.Run{Command: "first", Suites: map[string]*report.SuiteRun{"a": {}, "b": {}}}
	second := &report.Run{Command: "second", Suites: map[string]*report.SuiteRun{"a": {}}}
	third := &report.Run{Command: "third", Suites: map[string]*report.SuiteRun{"b": {}}}
	h.Add(first)
	h.Add(second)
	if r, _ := h.Latest("a"); r != second {
		t.Errorf("latest a from %v, want second", r)
	}
	if r, _ := h.Latest("b"); r != first {
		t.Errorf("latest b from %v, want first", r)
	}
	h.Add(third)
	if len(h.Runs) != 2 || h.Runs[0] != second || h.Runs[1] != third {
		t.Errorf("runs %v, want second and third (first has nothing left)", h.Runs)
	}
	if r, sr := h.Latest("c"); r != nil || sr != nil {
		t.Errorf("latest of a suite never run: %v %v", r, sr)
	}
}

func TestWriteJSONKeepsNumberArraysOnOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	v := map[string]any{"cdf": report.CDF{Micros: []float64{1.5, 2, 30}, Fraction: []float64{0.25, 0.5, 1}}, "n": []string{"a", "b"}}
	if err := report.WriteJSON(path, v); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"us": [1.5,2,30]`)) || !bytes.Contains(b, []byte(`"f": [0.25,0.5,1]`)) {
		t.Errorf("number arrays not on one line:\n%s", b)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Errorf("not valid JSON: %v", err)
	}
}

func TestDescribeMachine(t *testing.T) {
	m := report.DescribeMachine()
	if m.Cores < 1 || m.MemoryMiB < 1 || !strings.HasPrefix(m.Kernel, "Linux ") || m.CPUModel == "" || m.LoadAverage == "" {
		t.Errorf("incomplete description: %+v", m)
	}
}

func TestMeminfoKiB(t *testing.T) {
	b := []byte("MemTotal:       24683708 kB\nPercpu:             2032 kB\nVmRSS:\t   19968 kB\n")
	for key, want := range map[string]int64{"MemTotal": 24683708, "Percpu": 2032, "VmRSS": 19968, "Slab": 0} {
		if got := report.MeminfoKiB(b, key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
}

// fake is a suite result for the document tests.
type fake struct {
	Latency float64 `json:"latency"`
}

func (f *fake) Figures() []report.Figure {
	return []report.Figure{
		{ID: report.FigBUBAP50At100k, Label: "p50", Value: f.Latency, Unit: "µs"},
		{ID: report.FigBUBAMeanAt1, Label: "mean", Value: 84, Unit: "µs"},
	}
}

func (f *fake) Markdown(w io.Writer, a report.Assets) error {
	if _, err := fmt.Fprintf(w, "fake section, latency %v\n\n", f.Latency); err != nil {
		return err
	}
	return a.Image(w, "fake.png", "a CDF", func(path string) error {
		return report.LatencyCDF(path, "fake", []report.CDFSeries{{Label: "x", CDF: report.EmpiricalCDF([]float64{10, 20, 40}, 10)}})
	})
}

func fakeSuite(name string, latency float64) report.Suite {
	return report.Suite{
		Name: name, Title: "Fake " + name,
		Run: func(context.Context, report.Env) (report.Result, error) {
			return &fake{Latency: latency}, nil
		},
		Decode: report.DecodeAs[fake](),
	}
}

func TestPublishRegeneratesTheDocumentFromTheLatestResults(t *testing.T) {
	out := t.TempDir()
	one, two := fakeSuite("one", 38), fakeSuite("two", 0)
	suites := []report.Suite{one, two}
	ctx := context.Background()

	run1 := report.NewRun("sudo ./bench.sh", report.DescribeMachine())
	if err := run1.Execute(ctx, one, report.Env{}); err != nil {
		t.Fatal(err)
	}
	run1.Finish()
	if _, err := report.Publish(out, run1, suites); err != nil {
		t.Fatal(err)
	}
	// A second run of another suite keeps the first suite's figures.
	run2 := report.NewRun("sudo ./bench.sh --suites two", report.DescribeMachine())
	failing := two
	failing.Run = func(context.Context, report.Env) (report.Result, error) { return nil, fmt.Errorf("boom") }
	if err := run2.Execute(ctx, failing, report.Env{}); err == nil {
		t.Fatal("a failing suite returned no error")
	}
	run2.Finish()
	doc, err := report.Publish(out, run2, suites)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"| BU→BA latency p50 at 100,000 live bindings | ≤ 50 µs | 38 µs | **met**: 24 % under the target |",
		"| 0.84 ms average (0.27–1.36 ms) | 84 µs | 10× faster;",
		"`sudo ./bench.sh --suites two`",
		"fake section, latency 38",
		"![a CDF](performance/fake.png)",
		"**The last run failed:** boom",
		"## Fake two",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("document lacks %q:\n%s", want, text)
		}
	}
	png, err := os.ReadFile(filepath.Join(out, "performance", "fake.png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("plot: %v, %d bytes", err, len(png))
	}
	h, err := report.ReadHistory(filepath.Join(out, "performance", "results.json"))
	if err != nil || len(h.Runs) != 2 {
		t.Errorf("results.json: %v, %d runs, want 2", err, len(h.Runs))
	}
}

func TestBarChartWritesAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bars.png")
	if err := report.BarChart(path, "throughput", "Gbit/s", []report.Bar{{"plain", 10}, {"tunnel", 9.2}}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("not a PNG: %v", err)
	}
	if err := report.BarChart(path, "x", "y", nil); err == nil {
		t.Error("a chart without bars drew")
	}
}
