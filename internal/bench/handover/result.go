package handover

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/bench/udpflow"
)

// Result is what Run measured. It implements report.Result.
type Result struct {
	// Dataplane is the Home Agent's data-plane driver (NSM_DATAPLANE);
	// empty: the daemon's default, seg6.
	Dataplane    string
	RatePPS      int // packets per second of each flow
	PayloadBytes int // UDP payload of a packet
	// Repetitions is the number of handovers of each variant completed:
	// fewer than asked for when Run failed midway.
	Repetitions int
	// BeforeMs and AfterMs are how long the flows ran before and after
	// the link event.
	BeforeMs, AfterMs float64
	BreakBeforeMake   Variant
	MakeBeforeBreak   Variant
}

// Variant summarises the runs of one kind of handover: every figure is
// the minimum, median and maximum over the runs.
type Variant struct {
	Name        string
	Description string
	// ToMN is the flow from the correspondent node to the home address,
	// FromMN the one from the home address to the correspondent node.
	ToMN, FromMN FlowSummary
	// AttachMs is from the link event to the mobile node attaching to the
	// new care-of address (the time of its log line "attached", 1 ms
	// resolution): how fast it noticed.
	AttachMs udpflow.Spread
	// ReregistrationMs is from the link event to the Binding
	// Acknowledgement for the new care-of address (GET /status LastAck).
	ReregistrationMs udpflow.Spread
	// ReleaseMs is from the link event to the mobile node releasing the
	// previous care-of address (its log, 1 ms resolution); zero where it
	// was not seen.
	ReleaseMs udpflow.Spread
	Runs      []RunResult
}

// FlowSummary is a flow's figures over the runs of a variant.
type FlowSummary struct {
	LostPackets, LossRuns, DuplicatePackets, ReorderedPackets, SendErrors udpflow.Spread
	OutageMs, LongestGapMs, EventToRecoveryMs                             udpflow.Spread
	SentDuringHandoverPackets                                             udpflow.Spread
	// UnrecoveredRuns counts the runs in which the flow had not come back
	// when it ended.
	UnrecoveredRuns int
	// HeldBackRuns counts the runs in which the sender, held back by other
	// work on the machine, sent fewer than half the packets due between
	// the link event and the Binding Acknowledgement: there, fewer losses
	// mean less probing, not a shorter outage.
	HeldBackRuns int
}

// RunResult is one handover.
type RunResult struct {
	Variant                               string
	ToMN, FromMN                          Flow
	AttachMs, ReregistrationMs, ReleaseMs float64
}

// Flow is what one handover did to one flow.
type Flow struct {
	SentPackets, ReceivedPackets, LostPackets int
	DuplicatePackets, ReorderedPackets        int
	// SendErrors are packets the sender's kernel refused (no route while
	// the link is down); they count as lost.
	SendErrors int
	// LossRuns is the number of separate runs of consecutive lost
	// packets; LongestLossRunPackets the longest, which was sent over
	// LongestLossRunMs.
	LossRuns, LongestLossRunPackets int
	LongestLossRunMs                float64
	// OutageMs is from sending the last packet that arrived before the
	// first loss to sending the first that arrived after the last loss:
	// how long nothing sent got through, on the sender's clock (to one
	// packet spacing, 0.1 ms at 10,000 packets/s). 0 when nothing was
	// lost.
	OutageMs float64
	// LongestGapMs is the longest time between two arrivals: from the
	// last packet before the outage to the first after it, plus any
	// stall of the sender or receiver.
	LongestGapMs float64
	// EventToRecoveryMs is from the link event to the arrival of the
	// first packet after the last lost one (to the end of the flow if
	// none came); 0 when nothing was lost.
	EventToRecoveryMs float64
	// Recovered is false when packets were lost up to the end of the flow.
	Recovered bool
	// SentDuringHandoverPackets counts the packets sent between the link
	// event and the Binding Acknowledgement: the flow tested the handover
	// only if it is near the rate times that time (a sender held back by
	// other work on the machine sends fewer, and then loses fewer).
	// DueDuringHandoverPackets is how many were due then: the flow's
	// rate times the time from the link event to the BA.
	SentDuringHandoverPackets int
	DueDuringHandoverPackets  float64
}

// flowResult turns a flow's Stats into its Flow; the handover lasted from
// event to ack, and the flow was sent at rate packets per second.
func flowResult(s udpflow.Stats, sent udpflow.Sent, event, ack time.Time, rate int) Flow {
	f := Flow{
		SentPackets: s.Sent, ReceivedPackets: s.Received, LostPackets: s.Lost,
		DuplicatePackets: s.Duplicates, ReorderedPackets: s.Reordered, SendErrors: s.SendErrors,
		LossRuns: s.LossRuns, LongestLossRunPackets: s.LongestLossRun, LongestLossRunMs: ms(s.LongestLossRunTime),
		OutageMs: ms(s.Outage), LongestGapMs: ms(s.LongestGap), Recovered: s.Recovered,
	}
	for _, at := range sent.At {
		if at >= event.UnixNano() && at <= ack.UnixNano() {
			f.SentDuringHandoverPackets++
		}
	}
	f.DueDuringHandoverPackets = float64(rate) * ack.Sub(event).Seconds()
	switch {
	case s.Lost == 0:
	case s.Recovered:
		f.EventToRecoveryMs = ms(s.RecoveredAt.Sub(event))
	default:
		f.EventToRecoveryMs = ms(sent.End.Sub(event))
	}
	return f
}

func summarise(v variant, runs []RunResult) Variant {
	sum := Variant{Name: v.name, Description: v.description, Runs: runs}
	sum.ToMN = summariseFlow(runs, func(r RunResult) Flow { return r.ToMN })
	sum.FromMN = summariseFlow(runs, func(r RunResult) Flow { return r.FromMN })
	sum.AttachMs = spread(runs, func(r RunResult) float64 { return r.AttachMs })
	sum.ReregistrationMs = spread(runs, func(r RunResult) float64 { return r.ReregistrationMs })
	sum.ReleaseMs = spread(runs, func(r RunResult) float64 { return r.ReleaseMs })
	return sum
}

func summariseFlow(runs []RunResult, flow func(RunResult) Flow) FlowSummary {
	of := func(field func(Flow) float64) udpflow.Spread {
		return spread(runs, func(r RunResult) float64 { return field(flow(r)) })
	}
	s := FlowSummary{
		LostPackets:               of(func(f Flow) float64 { return float64(f.LostPackets) }),
		LossRuns:                  of(func(f Flow) float64 { return float64(f.LossRuns) }),
		DuplicatePackets:          of(func(f Flow) float64 { return float64(f.DuplicatePackets) }),
		ReorderedPackets:          of(func(f Flow) float64 { return float64(f.ReorderedPackets) }),
		SendErrors:                of(func(f Flow) float64 { return float64(f.SendErrors) }),
		OutageMs:                  of(func(f Flow) float64 { return f.OutageMs }),
		LongestGapMs:              of(func(f Flow) float64 { return f.LongestGapMs }),
		EventToRecoveryMs:         of(func(f Flow) float64 { return f.EventToRecoveryMs }),
		SentDuringHandoverPackets: of(func(f Flow) float64 { return float64(f.SentDuringHandoverPackets) }),
	}
	for _, r := range runs {
		f := flow(r)
		if !f.Recovered {
			s.UnrecoveredRuns++
		}
		if float64(f.SentDuringHandoverPackets) < f.DueDuringHandoverPackets/2 {
			s.HeldBackRuns++
		}
	}
	return s
}

func spread(runs []RunResult, f func(RunResult) float64) udpflow.Spread {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return udpflow.SpreadOf(v)
}

// Figures implements report.Result. The goal's outage figure is the
// median break-before-make outage of the worse flow: a link lost under
// the mobile node is the handover it cannot prepare for.
func (r Result) Figures() []report.Figure {
	out := report.Figure{ID: report.FigHandoverOutage, Label: "handover outage, break-before-make, worse flow, median", Unit: "ms"}
	bbm, mbb := r.BreakBeforeMake, r.MakeBeforeBreak
	if len(bbm.Runs) == 0 {
		out.Missing = "no handover completed"
		return []report.Figure{out}
	}
	out.Value = max(bbm.ToMN.OutageMs.Median, bbm.FromMN.OutageMs.Median)
	out.Note = fmt.Sprintf("max %s over %d runs at %s packets/s; make-before-break: %s",
		report.FormatValue(max(bbm.ToMN.OutageMs.Max, bbm.FromMN.OutageMs.Max), "ms"), len(bbm.Runs), report.Thousands(int64(r.RatePPS)),
		report.FormatValue(max(mbb.ToMN.OutageMs.Median, mbb.FromMN.OutageMs.Median), "ms"))
	if held := bbm.ToMN.HeldBackRuns + bbm.FromMN.HeldBackRuns; held > 0 {
		out.Note += fmt.Sprintf("; a sender was held back during %d of the %d flows' handovers", held, 2*len(bbm.Runs))
	}
	figs := []report.Figure{out}
	for _, v := range []Variant{bbm, mbb} {
		if len(v.Runs) == 0 {
			continue
		}
		figs = append(figs,
			report.Figure{
				ID: "handover." + v.Name + ".lost", Label: v.Name + ": packets lost CN → HoA, median", Value: v.ToMN.LostPackets.Median,
				Unit: "packets", Note: fmt.Sprintf("HoA → CN %s", report.FormatValue(v.FromMN.LostPackets.Median, "packets")),
			},
			report.Figure{
				ID: "handover." + v.Name + ".outage", Label: v.Name + ": outage, worse flow, median",
				Value: max(v.ToMN.OutageMs.Median, v.FromMN.OutageMs.Median), Unit: "ms",
				Note: fmt.Sprintf("CN → HoA %s, HoA → CN %s", report.FormatValue(v.ToMN.OutageMs.Median, "ms"), report.FormatValue(v.FromMN.OutageMs.Median, "ms")),
			},
			report.Figure{
				ID: "handover." + v.Name + ".reregistration", Label: v.Name + ": link event → Binding Acknowledgement, median",
				Value: v.ReregistrationMs.Median, Unit: "ms", Note: fmt.Sprintf("attached after %s", report.FormatValue(v.AttachMs.Median, "ms")),
			})
	}
	return figs
}

// Markdown implements report.Result: how it was measured, then a table
// per variant, median (min – max) over the runs.
func (r Result) Markdown(w io.Writer, _ report.Assets) error {
	e := report.NewErrWriter(w)
	dp := r.Dataplane
	if dp == "" {
		dp = "seg6"
	}
	e.Printf("The lab topology of `internal/lab` with the real daemons (Home Agent data plane `%s`). Two UDP flows of %s packets/s "+
		"each, %d-byte payloads carrying sequence numbers and send times: correspondent node → home address (received by a socket "+
		"bound to the home address in the mobile node's namespace) and home address → correspondent node (through the reverse "+
		"tunnel). Each run: %.0f ms of flow, the link event, %.0f ms more. %d runs of each variant, alternating in one lab; "+
		"median (min – max).\n\n", dp, report.Thousands(int64(r.RatePPS)), r.PayloadBytes, r.BeforeMs, r.AfterMs, r.Repetitions)
	for _, v := range []Variant{r.BreakBeforeMake, r.MakeBeforeBreak} {
		e.Printf("### %s\n\n%s.\n\n", capitalise(v.Name), capitalise(v.Description))
		_ = report.Table(e, []string{"", "CN → HoA", "HoA → CN"}, v.rows())
		e.Printf("Mobile node, from the link event: attached to the new care-of address after %s ms and released the previous "+
			"one after %s ms (its log, 1 ms resolution); Binding Acknowledgement received after %s ms (`/status` LastAck).\n\n",
			format(v.AttachMs, "ms"), format(v.ReleaseMs, "ms"), format(v.ReregistrationMs, "ms"))
	}
	e.Printf("_Outage: from sending the last packet that arrived before the first loss to sending the first that arrived " +
		"after the last loss (the sender's clock, so it does not include stalls of the receiver). Longest gap: between two arrivals, which also catches stalls of the sender or receiver. Link event → recovery: " +
		"to the arrival of the first packet after the last lost one._\n")
	return e.Err()
}

func (v Variant) rows() [][]string {
	rows := [][]string{}
	for _, row := range []struct {
		name string
		get  func(FlowSummary) udpflow.Spread
		unit string
	}{
		{"packets lost", func(f FlowSummary) udpflow.Spread { return f.LostPackets }, ""},
		{"separate runs of losses", func(f FlowSummary) udpflow.Spread { return f.LossRuns }, ""},
		{"outage, ms", func(f FlowSummary) udpflow.Spread { return f.OutageMs }, "ms"},
		{"longest gap in arrivals, ms", func(f FlowSummary) udpflow.Spread { return f.LongestGapMs }, "ms"},
		{"link event → recovery, ms", func(f FlowSummary) udpflow.Spread { return f.EventToRecoveryMs }, "ms"},
		{"refused by the sender's kernel", func(f FlowSummary) udpflow.Spread { return f.SendErrors }, ""},
		{"reordered", func(f FlowSummary) udpflow.Spread { return f.ReorderedPackets }, ""},
		{"duplicated", func(f FlowSummary) udpflow.Spread { return f.DuplicatePackets }, ""},
		{"sent between the link event and the BA", func(f FlowSummary) udpflow.Spread { return f.SentDuringHandoverPackets }, ""},
	} {
		rows = append(rows, []string{row.name, format(row.get(v.ToMN), row.unit), format(row.get(v.FromMN), row.unit)})
	}
	if v.ToMN.UnrecoveredRuns+v.FromMN.UnrecoveredRuns > 0 {
		rows = append(rows, []string{"runs never recovered", fmt.Sprint(v.ToMN.UnrecoveredRuns), fmt.Sprint(v.FromMN.UnrecoveredRuns)})
	}
	if v.ToMN.HeldBackRuns+v.FromMN.HeldBackRuns > 0 {
		rows = append(rows, []string{"runs with the sender held back during the handover", fmt.Sprint(v.ToMN.HeldBackRuns), fmt.Sprint(v.FromMN.HeldBackRuns)})
	}
	return rows
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// format renders a spread as "median (min – max)".
func format(s udpflow.Spread, unit string) string {
	f := "%.0f"
	if unit == "ms" {
		f = "%.1f"
	}
	if s.Min == s.Max {
		return fmt.Sprintf(f, s.Median)
	}
	return fmt.Sprintf(f+" ("+f+" – "+f+")", s.Median, s.Min, s.Max)
}
