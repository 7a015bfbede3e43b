package registration

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Kind is a kind of Binding Update timed at each step.
type Kind string

// The kinds of timed Binding Updates. All three program the data plane.
const (
	// KindRegister: the first registration of a home address that has no
	// binding (the live count goes up by one, then down again with the
	// deregistration that follows).
	KindRegister Kind = "register"
	// KindMove: one of the live bindings moves to a new care-of address
	// (a handover; the live count stays).
	KindMove Kind = "move"
	// KindDeregister: lifetime 0 for the home address just registered.
	KindDeregister Kind = "deregister"
)

// Kinds lists the kinds in the order they are timed and shown.
var Kinds = []Kind{KindRegister, KindMove, KindDeregister}

// Result is what Run measured.
type Result struct {
	// Dataplane is the driver asked for (NSM_DATAPLANE); Driver the one
	// the daemon logged it started, empty when its log level hid it.
	Dataplane string `json:"dataplane"`
	Driver    string `json:"driver,omitempty"`

	HomePrefix   string `json:"home_prefix"`
	CareOfPrefix string `json:"care_of_prefix"`
	HomeAgent    string `json:"home_agent"`
	Planned      []int  `json:"planned_steps"`
	Samples      int    `json:"samples"` // timed BUs of each kind per step
	Window       int    `json:"window"`  // BUs in flight while filling
	HALogLevel   string `json:"ha_log_level"`

	// Baseline is the Home Agent with no binding, after a warm-up.
	Baseline Usage  `json:"baseline"`
	Steps    []Step `json:"steps"`
	// Stopped says why the run ended before its last step, when it did:
	// a refusal by the Home Agent (its scale limit) or lost BAs.
	Stopped  *Stop    `json:"stopped,omitempty"`
	Shutdown Shutdown `json:"shutdown"`

	// HALogLines and HAWarnings count the daemon's output over the run.
	HALogLines int `json:"ha_log_lines"`
	HAWarnings int `json:"ha_warnings"`
	// UserStamps counts BAs timed at user space because the kernel gave
	// no receive timestamp (0 normally).
	UserStamps int `json:"user_timestamps"`
}

// Step is the measurement at one live-binding count.
type Step struct {
	Target int `json:"target"`
	// Live is the Home Agent's own count (mip6_bindings) after the step.
	Live int `json:"live"`
	// Fill is the registrations that brought the count to Target.
	Fill *Fill `json:"fill,omitempty"`
	// Latency has one summary per Kind, timed one BU at a time.
	Latency []Latency `json:"latency,omitempty"`
	// HAMean is the daemon's own mean from receiving a timed BU to sending
	// its BA (mip6_registration_latency_seconds), µs.
	HAMean float64 `json:"ha_mean_us,omitempty"`
	// HAProcessing is the part of HAMean spent processing the BU, data-plane
	// programming included (mip6_binding_update_processing_seconds), µs.
	HAProcessing float64 `json:"ha_processing_us,omitempty"`
	// Usage is the Home Agent after the step.
	Usage Usage `json:"usage"`
	// Error says what went wrong at this step; the run stopped there.
	Error string `json:"error,omitempty"`
}

// Fill is a burst of first registrations with a window of BUs in flight.
type Fill struct {
	From     int            `json:"from"`
	To       int            `json:"to"`
	Sent     int            `json:"sent"`
	Accepted int            `json:"accepted"`
	Refused  map[string]int `json:"refused,omitempty"` // by BA status, "130 (insufficient resources)"
	// Lost BUs got no BA within the wait; Unmatched BAs matched no BU.
	Lost      int     `json:"lost,omitempty"`
	Unmatched int     `json:"unmatched,omitempty"`
	Seconds   float64 `json:"seconds"`
	// Rate is accepted registrations per second.
	Rate float64 `json:"rate"`
	// HACPU is the daemon's CPU time (user+system) during the fill, s;
	// HALoad the same per second of wall time (1 = one core busy).
	HACPU  float64 `json:"ha_cpu_s"`
	HALoad float64 `json:"ha_load"`
	// GenLoad is the bench process's CPU per second of wall time.
	GenLoad float64 `json:"gen_load"`
}

// CPUPerRegistration is the daemon's CPU time per accepted registration, µs.
func (f *Fill) CPUPerRegistration() float64 {
	if f.Accepted == 0 {
		return 0
	}
	return f.HACPU / float64(f.Accepted) * 1e6
}

// Usage is the Home Agent's resource use at a moment.
type Usage struct {
	Bindings int `json:"bindings"`
	// CPU is user+system time since the daemon started (/proc/<pid>/stat), s.
	CPU float64 `json:"cpu_s"`
	// RSS is the daemon's resident memory (/proc/<pid>/status VmRSS), KiB.
	RSS int64 `json:"rss_kib"`
	// Percpu and Slab are the machine's kernel memory (/proc/meminfo),
	// KiB: the kernel's share of the bindings (routes, nftables elements)
	// shows in their growth, along with anything else the machine does.
	Percpu int64 `json:"percpu_kib"`
	Slab   int64 `json:"slab_kib"`
}

// Stop is why a run ended before its last step.
type Stop struct {
	// Live is the bindings the Home Agent held (its own count).
	Live int `json:"live"`
	// Status is the refusing BA's status; 0 when BAs were lost instead.
	Status int `json:"status,omitempty"`
	// What is the BU refused ("registration 1,506") or the loss.
	What string `json:"what"`
	// Reason is the daemon's own, from its log (level INFO or lower).
	Reason string `json:"reason,omitempty"`
	// KernelLog quotes the machine's kernel messages about failed
	// allocations during the run.
	KernelLog []string `json:"kernel_log,omitempty"`
}

// Text is the whole story in a sentence or two.
func (s *Stop) Text(dataplane string) string {
	var b strings.Builder
	if s.Status == 0 {
		fmt.Fprintf(&b, "%s: %s at %s", dataplane, s.What, liveBindings(s.Live))
	} else {
		fmt.Fprintf(&b, "%s: the Home Agent refused %s with status %s at %s", dataplane, s.What,
			mh.Status(s.Status), liveBindings(s.Live))
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, ": %s", s.Reason)
	}
	b.WriteString(".")
	if len(s.KernelLog) > 0 {
		fmt.Fprintf(&b, " Kernel log during the run: %s.", strings.Join(s.KernelLog, "; "))
	}
	return b.String()
}

// Short is the gist: "seg6 stopped at 1,505 live bindings: status 130 (insufficient resources)".
func (s *Stop) Short(dataplane string) string {
	why := s.What
	if s.Status != 0 {
		why = "status " + mh.Status(s.Status).String()
	}
	return fmt.Sprintf("%s stopped at %s: %s", dataplane, liveBindings(s.Live), why)
}

// Shutdown is how the daemon stopped at the end of the run.
type Shutdown struct {
	Bindings int     `json:"bindings"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// register returns the step's summary of fresh registrations, the kind
// the goals are about.
func (s *Step) register() (Latency, bool) {
	i := slices.IndexFunc(s.Latency, func(l Latency) bool { return l.Kind == KindRegister })
	if i < 0 {
		return Latency{}, false
	}
	return s.Latency[i], true
}

// step returns the step with target bindings that was measured.
func (r *Result) step(target int) (*Step, bool) {
	for i := range r.Steps {
		if s := &r.Steps[i]; s.Target == target && len(s.Latency) > 0 {
			return s, true
		}
	}
	return nil, false
}

// missing explains a missing step: not reached, or not asked for.
func (r *Result) missing(target int) (why string, blocked bool) {
	switch {
	case r.Stopped != nil:
		return fmt.Sprintf("%s not reached (%s)", liveBindings(target), r.Stopped.Short(r.Dataplane)), true
	case slices.Contains(r.Planned, target):
		return fmt.Sprintf("%s not reached: the run ended early", liveBindings(target)), false
	}
	return fmt.Sprintf("no step of %s in this run (--steps)", liveBindings(target)), false
}

// liveBindings is "1 live binding", "1,000 live bindings".
func liveBindings(n int) string {
	if n == 1 {
		return "1 live binding"
	}
	return report.Thousands(int64(n)) + " live bindings"
}

// perBinding is the growth of x over the baseline per live binding.
func perBinding(x, base int64, live int) float64 {
	if live <= 0 {
		return 0
	}
	return float64(x-base) / float64(live)
}
