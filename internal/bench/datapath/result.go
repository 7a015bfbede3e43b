package datapath

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/bench/udpflow"
	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// Result is what Run measured. Every figure is the median over the
// repetitions; the ...Runs fields keep each repetition's value. It
// implements report.Result.
type Result struct {
	// Dataplane is the Home Agent's data-plane driver (NSM_DATAPLANE);
	// empty: the daemon's default, seg6.
	Dataplane    string
	IperfSeconds int
	// Repetitions is the number completed: fewer than asked for when Run
	// failed midway.
	Repetitions    int
	ProbesPerRun   int // one-way probes, and echo requests, per path and repetition
	ProbeRatePPS   int
	ProbeSizeBytes int // UDP payload of a one-way probe
	Iperf3Version  string
	// Directions: [0] CN → MN, [1] MN → CN.
	Directions []Direction
	// RTT is the ICMPv6 echo round trip from the correspondent node to
	// the home address (through the tunnel both ways) and to CoA1.
	RTT RTT
}

// Direction compares the tunnelled path with the direct one, one way.
type Direction struct {
	Name           string // "CN → MN" or "MN → CN"
	Tunnel, Direct Path
	// ThroughputRatio is tunnel / direct: the median of each
	// repetition's ratio (the two were measured back to back).
	ThroughputRatio float64
	// OneWayAdded...Us is tunnel − direct one-way latency, the median of
	// each repetition's difference, in microseconds.
	OneWayAddedP50Us, OneWayAddedP99Us float64
}

// Path is one direction of one path.
type Path struct {
	Description string // "CN → HoA (tunnel)", ...
	// ThroughputGbps is the TCP goodput iperf3 measured at the
	// receiver, in Gbit/s.
	ThroughputGbps     float64
	ThroughputGbpsRuns []float64
	// Retransmits are the sender's TCP retransmissions in a run.
	Retransmits float64
	// CPU utilisation of the sending and receiving iperf3 processes,
	// user + system, in percent of one core.
	SenderCPUPercent, ReceiverCPUPercent float64
	// OneWay...Us are percentiles of the one-way latency of the UDP
	// probes, in microseconds: sent from user space in one namespace,
	// received in user space in the other.
	OneWayP50Us, OneWayP99Us float64
	// ProbesSent and ProbesLost are totals over the repetitions.
	ProbesSent, ProbesLost int
}

// RTT is the round-trip time of echo requests to the home address and to
// CoA1, in microseconds.
type RTT struct {
	TunnelP50Us, TunnelP99Us, DirectP50Us, DirectP99Us float64
	// Added...Us is tunnel − direct, the median of each repetition's
	// difference: what the tunnel adds to a round trip.
	AddedP50Us, AddedP99Us float64
	// EchoesSent is the total per path; Lost... counts those unanswered.
	EchoesSent, LostTunnel, LostDirect int
}

var (
	directionNames = [2]string{"CN → MN", "MN → CN"}
	pathNames      = [2][2]string{
		{"CN → HoA (tunnel)", "CN → CoA1 (direct)"},
		{"HoA → CN (reverse tunnel)", "CoA1 → CN (direct)"},
	}
)

// summarise turns the repetitions into the Result.
func summarise(cfg Config, reps []repetition) Result {
	res := Result{
		Dataplane: cfg.Dataplane, IperfSeconds: cfg.iperfSeconds(), Repetitions: len(reps),
		ProbesPerRun: cfg.Probes, ProbeRatePPS: cfg.ProbeRate, ProbeSizeBytes: cfg.ProbeSize,
	}
	if len(reps) > 0 {
		res.Iperf3Version = reps[0].iperf[toMN][tunnel].Version
	}
	for dir := range 2 {
		d := Direction{Name: directionNames[dir]}
		for path, p := range []*Path{&d.Tunnel, &d.Direct} {
			*p = summarisePath(reps, dir, path)
		}
		d.ThroughputRatio = medianOf(reps, func(r repetition) float64 {
			if r.iperf[dir][direct].Gbps == 0 {
				return 0
			}
			return r.iperf[dir][tunnel].Gbps / r.iperf[dir][direct].Gbps
		})
		d.OneWayAddedP50Us = medianOf(reps, func(r repetition) float64 {
			return us(r.oneWay[dir][tunnel].P50 - r.oneWay[dir][direct].P50)
		})
		d.OneWayAddedP99Us = medianOf(reps, func(r repetition) float64 {
			return us(r.oneWay[dir][tunnel].P99 - r.oneWay[dir][direct].P99)
		})
		res.Directions = append(res.Directions, d)
	}
	res.RTT = summariseRTT(reps)
	return res
}

func summarisePath(reps []repetition, dir, path int) Path {
	p := Path{Description: pathNames[dir][path]}
	for _, r := range reps {
		p.ThroughputGbpsRuns = append(p.ThroughputGbpsRuns, r.iperf[dir][path].Gbps)
		p.ProbesSent += r.oneWay[dir][path].Sent
		p.ProbesLost += r.oneWay[dir][path].Lost
	}
	p.ThroughputGbps = udpflow.Median(p.ThroughputGbpsRuns)
	p.Retransmits = medianOf(reps, func(r repetition) float64 { return float64(r.iperf[dir][path].Retransmits) })
	p.SenderCPUPercent = medianOf(reps, func(r repetition) float64 { return r.iperf[dir][path].SenderCPU })
	p.ReceiverCPUPercent = medianOf(reps, func(r repetition) float64 { return r.iperf[dir][path].ReceiverCPU })
	p.OneWayP50Us = medianOf(reps, func(r repetition) float64 { return us(r.oneWay[dir][path].P50) })
	p.OneWayP99Us = medianOf(reps, func(r repetition) float64 { return us(r.oneWay[dir][path].P99) })
	return p
}

func summariseRTT(reps []repetition) RTT {
	var rtt RTT
	rtt.TunnelP50Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[tunnel].P50) })
	rtt.TunnelP99Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[tunnel].P99) })
	rtt.DirectP50Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[direct].P50) })
	rtt.DirectP99Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[direct].P99) })
	rtt.AddedP50Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[tunnel].P50 - r.rtt[direct].P50) })
	rtt.AddedP99Us = medianOf(reps, func(r repetition) float64 { return us(r.rtt[tunnel].P99 - r.rtt[direct].P99) })
	for _, r := range reps {
		rtt.EchoesSent += r.rtt[tunnel].Sent
		rtt.LostTunnel += r.rtt[tunnel].Lost
		rtt.LostDirect += r.rtt[direct].Lost
	}
	return rtt
}

func medianOf(reps []repetition, f func(repetition) float64) float64 {
	v := make([]float64, len(reps))
	for i, r := range reps {
		v[i] = f(r)
	}
	return udpflow.Median(v)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Figures implements report.Result: the tunnel's throughput relative to
// the direct path (the goal's figure: the worse direction), and per
// direction the tunnelled throughput and the one-way latency it adds.
func (r Result) Figures() []report.Figure {
	tp := report.Figure{ID: report.FigTunnelThroughput, Label: "tunnel throughput relative to the direct path, worse direction", Unit: "%"}
	if len(r.Directions) != 2 || r.Repetitions == 0 {
		tp.Missing = "no repetition completed"
		return []report.Figure{tp}
	}
	worst := min(r.Directions[0].ThroughputRatio, r.Directions[1].ThroughputRatio)
	tp.Value = 100 * worst
	tp.Note = fmt.Sprintf("%s %.0f %%, %s %.0f %%; one TCP stream, iperf3", r.Directions[0].Name, 100*r.Directions[0].ThroughputRatio,
		r.Directions[1].Name, 100*r.Directions[1].ThroughputRatio)
	figs := []report.Figure{tp}
	for _, d := range r.Directions {
		key := directionKeys[d.Name]
		figs = append(figs,
			report.Figure{
				ID: "datapath.throughput-tunnel." + key, Label: "TCP throughput through the tunnel, " + d.Name,
				Value: d.Tunnel.ThroughputGbps, Unit: "Gbit/s", Note: fmt.Sprintf("direct %.2f Gbit/s", d.Direct.ThroughputGbps),
			},
			report.Figure{
				ID: "datapath.one-way-added-p50." + key, Label: "one-way latency the tunnel adds, p50, " + d.Name,
				Value: d.OneWayAddedP50Us, Unit: "µs", Note: fmt.Sprintf("p99 %+.1f µs; tunnel p50 %.1f µs, direct %.1f µs",
					d.OneWayAddedP99Us, d.Tunnel.OneWayP50Us, d.Direct.OneWayP50Us),
			})
	}
	return append(figs, report.Figure{
		ID: "datapath.rtt-added-p50", Label: "round trip the tunnel adds, p50 (ICMPv6 echo)",
		Value: r.RTT.AddedP50Us, Unit: "µs", Note: fmt.Sprintf("p99 %+.1f µs", r.RTT.AddedP99Us),
	})
}

// directionKeys name the directions in figure IDs.
var directionKeys = map[string]string{directionNames[toMN]: "cn-mn", directionNames[fromMN]: "mn-cn"}

// Markdown implements report.Result: how it was measured, then a table of
// throughput and one of latency.
func (r Result) Markdown(w io.Writer, assets report.Assets) error {
	e := report.NewErrWriter(w)
	e.Printf("The lab topology of `internal/lab` with both daemons running (Home Agent data plane `%s`), the mobile node registered "+
		"from CoA1 (`%s`). **Tunnel**: the correspondent node (`%s`) to the home address (`%s`): IPv6-in-IPv6 from the Home Agent "+
		"to the mobile node, and back through the reverse tunnel. **Direct**: the correspondent node to CoA1, which the Home Agent "+
		"routes natively over the same links, so the only difference is the encapsulation. Median of %d repetitions; within each, "+
		"the two paths are measured back to back (throughput, alternating which goes first) or interleaved packet by packet "+
		"(one-way latency).\n\n",
		r.dataplane(), lab.CoA1, lab.CNAddr, lab.HoA, r.Repetitions)
	e.Printf("### Throughput\n\n")
	e.Printf("One TCP stream, iperf3 %s, %d s per run; CPU is the iperf3 process's, user + system, in %% of one core.\n\n",
		strings.TrimPrefix(r.Iperf3Version, "iperf "), r.IperfSeconds)
	_ = report.Table(e, []string{"direction", "path", "Gbit/s", "each run", "retransmits", "sender CPU", "receiver CPU"}, r.throughputRows())
	_ = assets.Image(e, "datapath-throughput.png", "TCP throughput through the tunnel and on the direct path",
		func(path string) error {
			return report.BarChart(path, "TCP throughput, tunnel vs direct ("+r.dataplane()+")", "Gbit/s", r.throughputBars())
		})
	e.Printf("### Latency\n\n")
	e.Printf("One way, user space to user space: %d UDP probes of %d bytes per path and run, %d/s per path, each carrying its send "+
		"time; the namespaces share the host's clock, and the receiver busy-polls, so a probe is timed when the kernel queues it. "+
		"In µs.\n\n", r.ProbesPerRun, r.ProbeSizeBytes, r.ProbeRatePPS)
	_ = report.Table(e, []string{"direction", "path", "p50", "p99", "probes lost"}, r.oneWayRows())
	e.Printf("Round trip: ICMPv6 echo from the correspondent node, %d per path and run at %d/s, in µs.\n\n", r.ProbesPerRun, r.ProbeRatePPS)
	_ = report.Table(e, []string{"to", "p50", "p99", "lost"}, r.rttRows())
	return e.Err()
}

func (r Result) dataplane() string {
	if r.Dataplane == "" {
		return "seg6"
	}
	return r.Dataplane
}

func (r Result) throughputRows() [][]string {
	var rows [][]string
	for _, d := range r.Directions {
		for _, p := range []Path{d.Tunnel, d.Direct} {
			rows = append(rows, []string{d.Name, p.Description, fmt.Sprintf("%.2f", p.ThroughputGbps), runs(p.ThroughputGbpsRuns),
				fmt.Sprintf("%.0f", p.Retransmits), fmt.Sprintf("%.0f %%", p.SenderCPUPercent), fmt.Sprintf("%.0f %%", p.ReceiverCPUPercent)})
		}
		rows = append(rows, []string{d.Name, "**tunnel / direct**", fmt.Sprintf("**%.2f**", d.ThroughputRatio), "", "", "", ""})
	}
	return rows
}

// throughputBars are the medians of the throughput table, tunnel and
// direct side by side for each direction.
func (r Result) throughputBars() []report.Bar {
	var bars []report.Bar
	for _, d := range r.Directions {
		bars = append(bars, report.Bar{Label: d.Name + " tunnel", Value: d.Tunnel.ThroughputGbps},
			report.Bar{Label: d.Name + " direct", Value: d.Direct.ThroughputGbps})
	}
	return bars
}

func (r Result) oneWayRows() [][]string {
	var rows [][]string
	for _, d := range r.Directions {
		for _, p := range []Path{d.Tunnel, d.Direct} {
			rows = append(rows, []string{d.Name, p.Description, fmt.Sprintf("%.1f", p.OneWayP50Us), fmt.Sprintf("%.1f", p.OneWayP99Us),
				fmt.Sprintf("%d of %d", p.ProbesLost, p.ProbesSent)})
		}
		rows = append(rows, []string{d.Name, "**added by the tunnel**", fmt.Sprintf("**%+.1f**", d.OneWayAddedP50Us),
			fmt.Sprintf("**%+.1f**", d.OneWayAddedP99Us), ""})
	}
	return rows
}

func (r Result) rttRows() [][]string {
	t := r.RTT
	return [][]string{
		{"HoA (tunnel both ways)", fmt.Sprintf("%.1f", t.TunnelP50Us), fmt.Sprintf("%.1f", t.TunnelP99Us), fmt.Sprintf("%d of %d", t.LostTunnel, t.EchoesSent)},
		{"CoA1 (direct)", fmt.Sprintf("%.1f", t.DirectP50Us), fmt.Sprintf("%.1f", t.DirectP99Us), fmt.Sprintf("%d of %d", t.LostDirect, t.EchoesSent)},
		{"**added by the tunnel, round trip**", fmt.Sprintf("**%+.1f**", t.AddedP50Us), fmt.Sprintf("**%+.1f**", t.AddedP99Us), ""},
	}
}

// runs lists each repetition's value.
func runs(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, ", ")
}
