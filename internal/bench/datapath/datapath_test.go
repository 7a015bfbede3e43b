package datapath_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/datapath"
	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/bench/report/reporttest"
)

// TestRunShort runs one short repetition (iperf3 for 1 s) and checks that
// the figures make sense; it asserts no timing.
func TestRunShort(t *testing.T) {
	if _, err := exec.LookPath(datapath.Iperf3Binary); err != nil {
		t.Fatalf("%v: ci/test.sh installs it", datapath.ErrNoIperf3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := datapath.Run(ctx, datapath.Config{
		BinDir: binDir, Log: testLog{t}, Progress: testLog{t}, Duration: time.Second, Repetitions: 1, Probes: 200,
	})
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
	if !strings.Contains(md.String(), "](performance/datapath-throughput.png)") || strings.Contains(md.String(), "not drawn") {
		t.Errorf("the throughput chart is missing from the section:\n%s", md.String())
	}
	if len(res.Directions) != 2 {
		t.Fatalf("%d directions, want 2", len(res.Directions))
	}
	for _, d := range res.Directions {
		for _, p := range []datapath.Path{d.Tunnel, d.Direct} {
			if p.ThroughputGbps <= 0 {
				t.Errorf("%s %s: throughput %v Gbit/s, want > 0", d.Name, p.Description, p.ThroughputGbps)
			}
			if p.ProbesSent != 200 || p.ProbesLost < 0 || p.ProbesLost > p.ProbesSent {
				t.Errorf("%s %s: %d probes sent, %d lost; want 200 sent", d.Name, p.Description, p.ProbesSent, p.ProbesLost)
			}
			if p.OneWayP50Us <= 0 || p.OneWayP99Us < p.OneWayP50Us {
				t.Errorf("%s %s: one-way p50 %v µs, p99 %v µs", d.Name, p.Description, p.OneWayP50Us, p.OneWayP99Us)
			}
		}
		if d.ThroughputRatio <= 0 || d.ThroughputRatio >= 2 {
			t.Errorf("%s: tunnel/direct throughput ratio %v, want in (0, 2)", d.Name, d.ThroughputRatio)
		}
	}
	if r := res.RTT; r.TunnelP50Us <= 0 || r.DirectP50Us <= 0 || r.EchoesSent != 200 {
		t.Errorf("round trip: %+v", r)
	}
	if !strings.Contains(md.String(), "tunnel / direct") || !strings.Contains(md.String(), "added by the tunnel") {
		t.Errorf("Markdown lacks the comparison rows:\n%s", md.String())
	}
	checkFigures(t, res)
}

// checkFigures: the goal's figure is there, in the unit the goal is in,
// and a stored result decodes to the same figures.
func checkFigures(t *testing.T, res datapath.Result) {
	t.Helper()
	if f := reporttest.Figure(t, res, report.FigTunnelThroughput); !f.Measured() || f.Unit != "%" || f.Value <= 0 || f.Value >= 200 {
		t.Errorf("figure %s: %+v", report.FigTunnelThroughput, f)
	}
	if (datapath.Result{}).Figures()[0].Measured() {
		t.Errorf("an empty result reports a measured throughput figure")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []datapath.Config{
		{},
		{BinDir: "bin", Repetitions: -1},
	} {
		if _, err := datapath.Run(context.Background(), cfg); !errors.Is(err, datapath.ErrConfig) {
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
