package handover_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/handover"
	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/bench/report/reporttest"
)

// TestRunShort runs one handover of each variant and checks that the
// figures are consistent; it asserts no timing.
func TestRunShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := handover.Config{BinDir: binDir, Log: testLog{t}, Progress: testLog{t}, Repetitions: 1, Before: 300 * time.Millisecond, After: time.Second}
	res, err := handover.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	if err := res.Markdown(&md, report.Assets{Dir: t.TempDir(), Link: "performance"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", out, md.String())
	const packets = handover.DefaultRate * 13 / 10 // 1.3 s at the default rate
	for _, v := range []handover.Variant{res.BreakBeforeMake, res.MakeBeforeBreak} {
		if len(v.Runs) != 1 {
			t.Fatalf("%s: %d runs, want 1", v.Name, len(v.Runs))
		}
		r := v.Runs[0]
		for name, f := range map[string]handover.Flow{"CN → HoA": r.ToMN, "HoA → CN": r.FromMN} {
			unique := f.ReceivedPackets - f.DuplicatePackets
			if f.SentPackets != packets || f.LostPackets != f.SentPackets-unique || f.LostPackets < 0 ||
				unique <= 0 || f.SendErrors > f.LostPackets || f.LongestLossRunPackets > f.LostPackets ||
				(f.LostPackets > 0) != (f.LossRuns > 0) {
				t.Errorf("%s, %s: inconsistent counts %+v (want %d sent)", v.Name, name, f, packets)
			}
		}
		if r.ReregistrationMs <= 0 {
			t.Errorf("%s: re-registration %v ms after the link event", v.Name, r.ReregistrationMs)
		}
	}
	if !strings.Contains(md.String(), "Break-before-make") || !strings.Contains(md.String(), "Make-before-break") {
		t.Errorf("Markdown lacks a variant:\n%s", md.String())
	}
	checkFigures(t, res)
}

// checkFigures: the goal's figure is there, in the unit the goal is in,
// and a stored result decodes to the same figures.
func checkFigures(t *testing.T, res handover.Result) {
	t.Helper()
	if f := reporttest.Figure(t, res, report.FigHandoverOutage); !f.Measured() || f.Unit != "ms" || f.Value < 0 {
		t.Errorf("figure %s: %+v", report.FigHandoverOutage, f)
	}
	if (handover.Result{}).Figures()[0].Measured() {
		t.Errorf("an empty result reports a measured outage")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []handover.Config{
		{},
		{BinDir: "bin", Rate: -1},
	} {
		if _, err := handover.Run(context.Background(), cfg); !errors.Is(err, handover.ErrConfig) {
			t.Errorf("Run(%+v): %v, want ErrConfig", cfg, err)
		}
	}
}

// testLog passes the daemons' output to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
