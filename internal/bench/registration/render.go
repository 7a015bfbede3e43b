package registration

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// minRateSample is the smallest fill whose rate counts as sustained;
// minPerBinding the fewest bindings to divide memory growth by.
const (
	minRateSample = 500
	minPerBinding = 1000
)

const kib = 1024

// Figures implements report.Result.
func (r *Result) Figures() []report.Figure {
	figs := []report.Figure{r.meanAt1()}
	figs = append(figs, r.at100k()...)
	figs = append(figs, r.rate(), r.rssAt1M())
	for i := range r.Steps {
		s := &r.Steps[i]
		if l, ok := s.register(); ok {
			figs = append(figs, report.Figure{
				ID:    fmt.Sprintf("registration.bu-ba@%d", s.Target),
				Label: fmt.Sprintf("BU→BA p50 / p99 at %s", liveBindings(s.Target)),
				Value: l.P50, Unit: "µs", Note: fmt.Sprintf("p99 %s", report.FormatValue(l.P99, "µs")),
			})
		}
	}
	if s := r.largest(); s != nil && s.Usage.Bindings >= minPerBinding {
		figs = append(figs, report.Figure{
			ID: "registration.rss", Label: fmt.Sprintf("HA RSS at %s", liveBindings(s.Usage.Bindings)),
			Value: mib(s.Usage.RSS), Unit: "MiB",
			Note: fmt.Sprintf("%s bytes per binding above the baseline", report.FormatValue(perBinding(s.Usage.RSS, r.Baseline.RSS, s.Usage.Bindings)*kib, "")),
		})
	}
	return figs
}

func (r *Result) meanAt1() report.Figure {
	f := report.Figure{ID: report.FigBUBAMeanAt1, Label: "BU→BA mean, fresh registration, 1 live binding", Unit: "µs"}
	if s, ok := r.step(1); ok {
		if lat, ok := s.register(); ok {
			f.Value = lat.Mean
			f.Note = fmt.Sprintf("min %s, max %s", report.FormatValue(lat.Min, "µs"), report.FormatValue(lat.Max, "µs"))
			return f
		}
	}
	f.Missing, f.Blocked = r.missing(1)
	return f
}

func (r *Result) at100k() []report.Figure {
	const target = 100_000
	p50 := report.Figure{ID: report.FigBUBAP50At100k, Label: "BU→BA p50, fresh registration, 100,000 live bindings", Unit: "µs"}
	p99 := report.Figure{ID: report.FigBUBAP99At100k, Label: "BU→BA p99, fresh registration, 100,000 live bindings", Unit: "µs"}
	s, ok := r.step(target)
	var lat Latency
	if ok {
		lat, ok = s.register()
	}
	if ok {
		p50.Value, p99.Value = lat.P50, lat.P99
		return []report.Figure{p50, p99}
	}
	why, blocked := r.missing(target)
	p50.Missing, p50.Blocked, p99.Missing, p99.Blocked = why, blocked, why, blocked
	if s := r.largestTimed(); s != nil {
		if l, ok := s.register(); ok {
			at := liveBindings(s.Target)
			p50.Note = fmt.Sprintf("%s at %s", report.FormatValue(l.P50, "µs"), at)
			p99.Note = fmt.Sprintf("%s at %s", report.FormatValue(l.P99, "µs"), at)
		}
	}
	return []report.Figure{p50, p99}
}

func (r *Result) rate() report.Figure {
	f := report.Figure{ID: report.FigRegistrationRate, Label: "sustained registrations per second, every BA status 0", Unit: "/s"}
	// The longest fill is the most sustained.
	var best *Fill
	for i := range r.Steps {
		if fl := r.Steps[i].Fill; fl != nil && fl.Accepted >= minRateSample && (best == nil || fl.Accepted > best.Accepted) {
			best = fl
		}
	}
	if best == nil {
		f.Missing = fmt.Sprintf("no fill of at least %s registrations", report.Thousands(minRateSample))
		return f
	}
	f.Value = best.Rate
	f.Note = fmt.Sprintf("filling %s → %s bindings with %d BUs in flight; HA at %.0f %% of a core",
		report.Thousands(int64(best.From)), report.Thousands(int64(best.From+best.Accepted)), r.Window, 100*best.HALoad)
	return f
}

func (r *Result) rssAt1M() report.Figure {
	const target = 1_000_000
	f := report.Figure{ID: report.FigRSSAt1M, Label: "HA RSS with 1,000,000 bindings", Unit: "MiB"}
	for i := range r.Steps {
		if s := &r.Steps[i]; s.Target == target && s.Error == "" && s.Usage.Bindings >= target {
			f.Value = mib(s.Usage.RSS)
			return f
		}
	}
	f.Missing, f.Blocked = r.missing(target)
	if s := r.largest(); s != nil && s.Usage.Bindings >= minPerBinding {
		per := perBinding(s.Usage.RSS, r.Baseline.RSS, s.Usage.Bindings)
		f.Note = fmt.Sprintf("%s at %s bindings; linear extrapolation to 1,000,000: %s (an estimate, not a measurement)",
			report.FormatValue(mib(s.Usage.RSS), "MiB"), report.Thousands(int64(s.Usage.Bindings)),
			report.FormatValue(mib(r.Baseline.RSS)+per*target/kib, "MiB"))
	}
	return f
}

// largest is the step with the most live bindings.
func (r *Result) largest() *Step {
	var best *Step
	for i := range r.Steps {
		if s := &r.Steps[i]; best == nil || s.Usage.Bindings > best.Usage.Bindings {
			best = s
		}
	}
	return best
}

// largestTimed is the largest step with timed BUs.
func (r *Result) largestTimed() *Step {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if len(r.Steps[i].Latency) > 0 {
			return &r.Steps[i]
		}
	}
	return nil
}

func mib(kibs int64) float64 { return float64(kibs) / kib }

// Markdown implements report.Result.
func (r *Result) Markdown(w io.Writer, assets report.Assets) error {
	e := report.NewErrWriter(w)
	e.Printf("%s\n\n", r.method())
	if r.Stopped != nil {
		e.Printf("**The run stopped early.** %s\n\n", r.Stopped.Text(r.Dataplane))
	}
	e.Printf("### BU→BA latency\n\n")
	_ = report.Table(e, []string{"live bindings", "BU", "timed", "p50", "p90", "p99", "max", "mean", "HA: BU in → BA out", "HA: processing"}, r.latencyRows())
	e.Printf("_The last two columns are the daemon's own means over all timed BUs of the step: from receiving the BU to sending " +
		"the BA (`mip6_registration_latency_seconds`), and the part of it spent processing the BU, data-plane programming " +
		"included (`mip6_binding_update_processing_seconds`)._\n\n")
	r.plots(e, assets)
	e.Printf("### Sustained registrations\n\n")
	_ = report.Table(e, []string{"bindings", "registrations", "time", "rate", "BA status", "HA CPU", "HA CPU per registration", "bench CPU"}, r.fillRows())
	e.Printf("_CPU as a share of one core over the fill's wall time; the bench process is the generator._\n\n")
	e.Printf("### Home Agent resources\n\n")
	_ = report.Table(e, []string{"live bindings", "RSS", "RSS per binding above baseline", "CPU since start", "kernel Percpu+Slab per binding (machine-wide)"}, r.usageRows())
	e.Printf("%s\n", r.footer())
	return e.Err()
}

func (r *Result) method() string {
	return fmt.Sprintf("One process (the generator, in namespace `gen`) simulates the mobile nodes: it sends each Binding Update "+
		"(flags A and H, a Home Address option, source a care-of address in `%s`) as a whole packet on a raw socket, "+
		"and reads the Binding Acknowledgements from an AF_PACKET socket; the Home Agent (`nse-homeagent`, data plane `%s`, "+
		"namespace `ha`, home prefix `%s`) routes the care-of prefix to `gen` over a veth pair. "+
		"**BU→BA latency** runs from just before the BU's `sendto` to the kernel's receive timestamp of the matching BA "+
		"(home address from its type 2 routing header, and sequence number); the Home Agent sends a BA only once its data plane is programmed. "+
		"At each step the bindings are first **filled in** to the step's count with %d BUs in flight (that rate is the sustained registration rate), "+
		"then %s BUs of each kind are **timed one at a time**, interleaved: *register* (a home address without a binding), "+
		"*move* (a random live binding to a new care-of address), *deregister* (the one just registered, lifetime 0), "+
		"so the live count stays at the step's. Every BU asks for a lifetime of %v and nothing expires during a run. "+
		"**CPU** is the daemon's user+system time from `/proc/<pid>/stat` (10 ms resolution), **RSS** its `VmRSS`.",
		r.CareOfPrefix, r.dataplaneText(), r.HomePrefix, r.Window, report.Thousands(int64(r.Samples)), maxLifetime)
}

func (r *Result) dataplaneText() string {
	if r.Driver != "" && r.Driver != r.Dataplane {
		return fmt.Sprintf("%s (asked for %s)", r.Driver, r.Dataplane)
	}
	return r.Dataplane
}

func (r *Result) latencyRows() [][]string {
	var rows [][]string
	for _, s := range r.Steps {
		for i, l := range s.Latency {
			live, ha, proc := "", "", ""
			if i == 0 {
				live, ha, proc = report.Thousands(int64(s.Target)), us(s.HAMean), us(s.HAProcessing)
			}
			rows = append(rows, []string{live, string(l.Kind), report.Thousands(int64(l.Samples)),
				us(l.P50), us(l.P90), us(l.P99), us(l.Max), us(l.Mean), ha, proc})
		}
	}
	return rows
}

func (r *Result) fillRows() [][]string {
	var rows [][]string
	for _, s := range r.Steps {
		f := s.Fill
		if f == nil {
			continue
		}
		row := []string{
			fmt.Sprintf("%s → %s", report.Thousands(int64(f.From)), report.Thousands(int64(f.To))),
			report.Thousands(int64(f.Accepted)), fmt.Sprintf("%.2f s", f.Seconds), report.FormatValue(f.Rate, "/s"),
			statusText(f), fmt.Sprintf("%.0f %%", 100*f.HALoad), us(f.CPUPerRegistration()), fmt.Sprintf("%.0f %%", 100*f.GenLoad),
		}
		if f.Accepted < minRateSample { // too short to time
			row[3], row[5], row[6], row[7] = "—", "—", "—", "—"
		}
		rows = append(rows, row)
	}
	return rows
}

func statusText(f *Fill) string {
	parts := []string{fmt.Sprintf("%s × 0", report.Thousands(int64(f.Accepted)))}
	keys := make([]string, 0, len(f.Refused))
	for k := range f.Refused {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("**%d × %s**", f.Refused[k], k))
	}
	if f.Lost > 0 {
		parts = append(parts, fmt.Sprintf("**%d lost**", f.Lost))
	}
	return strings.Join(parts, ", ")
}

func (r *Result) usageRows() [][]string {
	rows := [][]string{{"0 (baseline)", report.FormatValue(mib(r.Baseline.RSS), "MiB"), "", fmt.Sprintf("%.2f s", r.Baseline.CPU), ""}}
	for _, s := range r.Steps {
		u := s.Usage
		rss, kernel := "—", "—"
		if u.Bindings >= minPerBinding {
			rss = report.FormatValue(perBinding(u.RSS, r.Baseline.RSS, u.Bindings)*kib, "B")
			kernel = report.FormatValue(perBinding(u.Percpu+u.Slab, r.Baseline.Percpu+r.Baseline.Slab, u.Bindings)*kib, "B")
		}
		rows = append(rows, []string{report.Thousands(int64(u.Bindings)), report.FormatValue(mib(u.RSS), "MiB"),
			rss, fmt.Sprintf("%.2f s", u.CPU), kernel})
	}
	return rows
}

func (r *Result) footer() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shutdown: the daemon removed %s bindings and exited in %.2f s",
		report.Thousands(int64(r.Shutdown.Bindings)), r.Shutdown.Seconds)
	if r.Shutdown.Error != "" {
		fmt.Fprintf(&b, " (**%s**)", r.Shutdown.Error)
	}
	fmt.Fprintf(&b, ". Its log level was %s: %d lines over the run, %d warnings or errors.", r.HALogLevel, r.HALogLines, r.HAWarnings)
	if r.UserStamps > 0 {
		fmt.Fprintf(&b, " %d BAs had no kernel receive timestamp and were timed in user space.", r.UserStamps)
	}
	b.WriteString("\n")
	return b.String()
}

func (r *Result) plots(e *report.ErrWriter, assets report.Assets) {
	var byStep []report.CDFSeries
	for _, s := range r.Steps {
		if l, ok := s.register(); ok {
			byStep = append(byStep, report.CDFSeries{Label: report.Thousands(int64(s.Target)) + " live", CDF: l.CDF})
		}
	}
	if len(byStep) == 0 {
		return
	}
	_ = assets.Image(e, "registration-latency.png", "BU→BA latency CDF of fresh registrations by live bindings",
		func(path string) error {
			return report.LatencyCDF(path, "BU→BA latency, fresh registration ("+r.dataplaneText()+")", byStep, goalMarks()...)
		})
	s := r.largestTimed()
	var kinds []report.CDFSeries
	for _, l := range s.Latency {
		kinds = append(kinds, report.CDFSeries{Label: string(l.Kind), CDF: l.CDF})
	}
	title := fmt.Sprintf("BU→BA latency by kind, %s", liveBindings(s.Target))
	_ = assets.Image(e, "registration-kinds.png", title, func(path string) error {
		return report.LatencyCDF(path, title, kinds)
	})
}

// goalMarks are the latency goals, drawn on the plots.
func goalMarks() []report.Mark {
	var marks []report.Mark
	for _, g := range report.Goals {
		if g.Unit == "µs" {
			marks = append(marks, report.Mark{Micros: g.Target, Label: "goal " + strings.TrimPrefix(g.Figure, "registration.bu-ba-") + " " + g.TargetText()})
		}
	}
	return marks
}

func us(v float64) string {
	if v == 0 {
		return ""
	}
	return report.FormatValue(v, "µs")
}
