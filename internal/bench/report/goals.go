package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Figure IDs the goals and the thesis comparison refer to. A suite that
// measures one of these returns a Figure with its ID; other figures are
// free-form ("<suite>.<name>").
const (
	// FigBUBAMeanAt1: mean BU→BA latency of a fresh registration with one
	// live binding, µs.
	FigBUBAMeanAt1 = "registration.bu-ba-mean@1"
	// FigBUBAP50At100k, FigBUBAP99At100k: BU→BA latency of a fresh
	// registration with 100,000 live bindings, µs.
	FigBUBAP50At100k = "registration.bu-ba-p50@100k"
	FigBUBAP99At100k = "registration.bu-ba-p99@100k"
	// FigRegistrationRate: sustained registrations per second, data plane
	// programmed, every BA status 0.
	FigRegistrationRate = "registration.rate"
	// FigRSSAt1M: the Home Agent's resident memory with 1,000,000 bindings, MiB.
	FigRSSAt1M = "registration.rss@1m"
	// FigTunnelThroughput: tunnelled throughput as a percentage of the
	// untunnelled path's on the same topology.
	FigTunnelThroughput = "datapath.tunnel-throughput"
	// FigHandoverOutage: the longest outage of a stream across a handover, ms.
	FigHandoverOutage = "handover.outage"
)

// Figure is one measured figure.
type Figure struct {
	ID    string  `json:"id"`
	Label string  `json:"label"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"` // "µs", "ms", "/s", "MiB", "%", ...
	// Missing says why there is no value. With Blocked set, the system
	// under test kept the figure from being measured (a scale it could
	// not reach): a goal on it is missed, not merely unmeasured.
	Missing string `json:"missing,omitempty"`
	Blocked bool   `json:"blocked,omitempty"`
	// Note qualifies the value (how it was taken, a neighbouring figure).
	Note string `json:"note,omitempty"`
}

// Measured reports whether the figure has a value.
func (f Figure) Measured() bool { return f.Missing == "" }

// String is the value with its unit, or why it is missing.
func (f Figure) String() string {
	if !f.Measured() {
		return "not measured: " + f.Missing
	}
	return FormatValue(f.Value, f.Unit)
}

// Goal is one of the project's performance goals.
type Goal struct {
	Figure string  // the Figure ID it is judged on
	Suite  string  // the suite that measures it
	Text   string  // what is measured
	Target float64 // in Unit
	Unit   string
	AtMost bool // Target is an upper bound (latency, memory); else a lower bound
}

// TargetText is "≤ 50 µs" or "≥ 50,000 /s".
func (g Goal) TargetText() string {
	op := "≥"
	if g.AtMost {
		op = "≤"
	}
	return op + " " + FormatValue(g.Target, g.Unit)
}

// Goals are the project's performance goals.
var Goals = []Goal{
	{FigBUBAP50At100k, "registration", "BU→BA latency p50 at 100,000 live bindings", 50, "µs", true},
	{FigBUBAP99At100k, "registration", "BU→BA latency p99 at 100,000 live bindings", 250, "µs", true},
	{FigRegistrationRate, "registration", "sustained registrations per second (data plane programmed)", 50000, "/s", false},
	{FigRSSAt1M, "registration", "Home Agent RSS with 1,000,000 bindings", 300, "MiB", true},
	{FigTunnelThroughput, "datapath", "tunnel throughput relative to the untunnelled path", 90, "%", false},
	{FigHandoverOutage, "handover", "handover outage", 1, "ms", true},
}

// State is a goal's verdict.
type State string

// Verdict states.
const (
	Met         State = "met"
	Missed      State = "missed"
	NotMeasured State = "not measured"
)

// Verdict is a goal judged on the latest figures.
type Verdict struct {
	Goal   Goal
	Figure Figure // zero when no suite reported it
	State  State
	// Margin says by how much: "24 % under the target", "3.1× the target".
	Margin string
}

// Evaluate judges every goal on figs (by Figure ID).
func Evaluate(figs map[string]Figure) []Verdict {
	out := make([]Verdict, 0, len(Goals))
	for _, g := range Goals {
		out = append(out, judge(g, figs))
	}
	return out
}

func judge(g Goal, figs map[string]Figure) Verdict {
	f, ok := figs[g.Figure]
	v := Verdict{Goal: g, Figure: f, State: NotMeasured}
	switch {
	case !ok:
		v.Margin = "suite " + g.Suite + " has not reported it"
	case !f.Measured() && f.Blocked:
		v.State, v.Margin = Missed, f.Missing
	case !f.Measured():
		v.Margin = f.Missing
	case f.Unit != g.Unit:
		v.Margin = fmt.Sprintf("figure in %q, goal in %q", f.Unit, g.Unit)
	default:
		v.State, v.Margin = compare(g, f.Value)
	}
	return v
}

// compare judges value against g's target and says by how much.
func compare(g Goal, value float64) (State, string) {
	if g.AtMost {
		if value <= g.Target {
			return Met, fmt.Sprintf("%s under the target", percent((g.Target-value)/g.Target))
		}
		return Missed, over(value / g.Target)
	}
	if value >= g.Target {
		return Met, fmt.Sprintf("%s above the target", percent((value-g.Target)/g.Target))
	}
	return Missed, fmt.Sprintf("%s short of the target (%s of it)", percent((g.Target-value)/g.Target), percent(value/g.Target))
}

func over(ratio float64) string {
	if ratio >= 2 {
		return fmt.Sprintf("%s× the target", trim(ratio))
	}
	return fmt.Sprintf("%s over the target", percent(ratio-1))
}

func percent(x float64) string { return trim(100*x) + " %" }

// trim formats x with three significant digits at most and no trailing
// zeros: 50, 38.2, 1.25.
func trim(x float64) string {
	decimals := 2
	switch ax := math.Abs(x); {
	case ax >= 100:
		decimals = 0
	case ax >= 10:
		decimals = 1
	}
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// FormatValue prints v with its unit: three significant digits, thousands
// separated ("52,300 /s", "38.2 µs", "1.25 ms").
func FormatValue(v float64, unit string) string {
	var s string
	if math.Abs(v) >= 1000 {
		s = Thousands(int64(math.Round(v)))
	} else {
		s = trim(v)
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// Thousands formats n with comma separators: 1000000 → "1,000,000".
func Thousands(n int64) string {
	if n < 0 {
		return "-" + Thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ThesisRow compares one figure of the 2022 thesis with ours.
type ThesisRow struct {
	What   string // what was measured
	Thesis string // the thesis's published figure
	Figure string // our Figure ID
	// Compare describes our value against the thesis's; nil: no comparison.
	Compare func(Figure) string
	Caveat  string
}

// ThesisRows are the 2022 thesis's published figures.
var ThesisRows = []ThesisRow{
	{
		What: "registration response time, Home Agent in one pod", Thesis: "0.84 ms average (0.27–1.36 ms)",
		Figure: FigBUBAMeanAt1, Compare: fasterThan(840),
		Caveat: "ours: mean BU→BA of a fresh registration, one live binding, namespaces on one host",
	},
	{
		What: "registration response time, Home Agent as a sidecar", Thesis: "3.8 ms",
		Figure: FigBUBAMeanAt1, Compare: fasterThan(3800),
		Caveat: "mip6mesh has no sidecar deployment yet: the same standalone figure",
	},
	{
		What: "data-plane throughput against a plain macvlan path", Thesis: "NSM data planes 40–80 % below",
		Figure: FigTunnelThroughput, Compare: belowPath,
		Caveat: "ours: the tunnel against the untunnelled path on the same topology",
	},
}

// fasterThan compares a latency in µs with the thesis's thesisMicros.
func fasterThan(thesisMicros float64) func(Figure) string {
	return func(f Figure) string {
		if f.Unit != "µs" || f.Value <= 0 {
			return ""
		}
		if f.Value <= thesisMicros {
			return trim(thesisMicros/f.Value) + "× faster"
		}
		return trim(f.Value/thesisMicros) + "× slower"
	}
}

func belowPath(f Figure) string {
	if f.Unit != "%" {
		return ""
	}
	if f.Value >= 100 {
		return "not below the untunnelled path"
	}
	return percent((100-f.Value)/100) + " below the untunnelled path"
}
