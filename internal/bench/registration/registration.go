package registration

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// Shutdown bounds: the daemon removes every binding from the data plane
// before it exits.
const (
	stopBase       = 30 * time.Second
	stopPerBinding = 200 * time.Microsecond
)

// Run builds the topology, starts the Home Agent and measures every step
// of cfg. A refusal by the Home Agent (status 130 at its scale limit) or
// lost BAs end the run with Result.Stopped set: that is a result, and the
// error is nil. An error comes with the partial result when there is one.
// Everything Run creates is gone when it returns, also when ctx ends.
func Run(ctx context.Context, cfg Config) (_ *Result, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bin := filepath.Join(cfg.BinDir, HomeAgentBinary)
	if err := checkBinary(ctx, bin, cfg.Dataplane); err != nil {
		return nil, err
	}
	topo, err := buildTopology(ctx, cfg.Namespaces, cfg.unroutedFrom > 0)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	defer func() { err = errors.Join(err, topo.close()) }()
	narrate(cfg, "namespaces %s (nse-homeagent) and %s (generator)", topo.ha.Name(), topo.gen.Name())

	klog := openKernelLog()
	defer klog.close()
	ha, err := startHomeAgent(ctx, topo.ha, bin, haEnv(cfg), cfg.Log)
	if err != nil {
		return nil, err
	}
	res := newResult(cfg)
	defer func() { err = errors.Join(err, stopHomeAgent(cfg, ha, res)) }()
	if err := checkDriver(cfg, ha); err != nil {
		return nil, err
	}
	narrate(cfg, "nse-homeagent pid %d serving, data plane %s", ha.pid(), cfg.Dataplane)

	gen, err := openGenerator(topo.gen, genIf, haAddr)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, gen.close()) }()
	r := newRunner(cfg, gen, ha)
	r.klog = klog
	err = measure(ctx, r, res)
	res.UserStamps = gen.userStamps
	return res, err
}

func newResult(cfg Config) *Result {
	return &Result{Dataplane: cfg.Dataplane, HomePrefix: homePrefix.String(), CareOfPrefix: careOfPrefix.String(),
		HomeAgent: haAddr.String(), Planned: cfg.Steps, Samples: cfg.Samples, Window: cfg.Window, HALogLevel: cfg.HALogLevel}
}

func narrate(cfg Config, format string, args ...any) {
	_, _ = fmt.Fprintf(cfg.Log, "registration: "+format+"\n", args...)
}

// checkDriver compares the driver the daemon logged with the one asked for.
func checkDriver(cfg Config, ha *homeAgent) error {
	if d := ha.log.facts().driver; d != "" && d != cfg.Dataplane {
		return fmt.Errorf("%w: asked for %s (NSM_DATAPLANE), nse-homeagent started %s", ErrDataplane, cfg.Dataplane, d)
	}
	return nil
}

func measure(ctx context.Context, r *runner, res *Result) error {
	if err := r.warmUp(ctx); err != nil {
		return err
	}
	var err error
	if res.Baseline, err = r.usage(ctx); err != nil {
		return err
	}
	res.Driver = r.ha.log.facts().driver
	for _, target := range r.cfg.Steps {
		step, stop, err := r.step(ctx, target)
		res.Steps = append(res.Steps, step)
		if err != nil {
			return err
		}
		if stop != nil {
			res.Stopped = r.stopOf(stop, step)
			r.narrate("stopped: %s", res.Stopped.Text(r.cfg.Dataplane))
			return nil
		}
	}
	return nil
}

// step fills to target, times the samples and reads the usage.
func (r *runner) step(ctx context.Context, target int) (Step, *refusal, error) {
	s := Step{Target: target}
	if target > r.filled {
		r.narrate("filling %s → %s bindings, %d BUs in flight", report.Thousands(int64(r.filled)),
			report.Thousands(int64(target)), r.cfg.Window)
		fill, stop, err := r.fill(ctx, target)
		s.Fill = fill
		if fill != nil {
			r.narrate("  %s registrations in %.2f s: %s, %s; HA CPU %.0f %% of a core",
				report.Thousands(int64(fill.Accepted)), fill.Seconds, report.FormatValue(fill.Rate, "/s"), statusText(fill), 100*fill.HALoad)
		}
		if err != nil || stop != nil {
			return r.endStep(ctx, s, stop, err)
		}
	}
	r.narrate("timing %s BUs of each kind (register, move, deregister) one at a time at %s",
		report.Thousands(int64(r.cfg.Samples)), liveBindings(target))
	before, err := r.ha.metrics(ctx)
	if err != nil {
		return s, nil, err
	}
	lat, err := r.sample(ctx)
	var stop *refusal
	if errors.As(err, &stop) {
		return r.endStep(ctx, s, stop, nil)
	}
	if err != nil {
		return s, nil, err
	}
	s.Latency = lat
	after, err := r.ha.metrics(ctx)
	if err != nil {
		return s, nil, err
	}
	if n := after.latencyCount - before.latencyCount; n > 0 {
		s.HAMean = (after.latencySum - before.latencySum) / n * 1e6
	}
	if n := after.processingCnt - before.processingCnt; n > 0 {
		s.HAProcessing = (after.processingSum - before.processingSum) / n * 1e6
	}
	for _, l := range lat {
		r.narrate("  %-10s p50 %s  p90 %s  p99 %s  max %s", l.Kind, us(l.P50), us(l.P90), us(l.P99), us(l.Max))
	}
	s.Usage, err = r.usage(ctx)
	s.Live = s.Usage.Bindings
	if err == nil {
		r.narrate("  HA RSS %s, CPU %.2f s since start", report.FormatValue(mib(s.Usage.RSS), "MiB"), s.Usage.CPU)
	}
	return s, nil, err
}

// endStep records the usage of a step that ended early.
func (r *runner) endStep(ctx context.Context, s Step, stop *refusal, err error) (Step, *refusal, error) {
	if stop != nil {
		s.Error = stop.Error()
	}
	if err != nil {
		s.Error = err.Error()
	}
	if u, uerr := r.usage(ctx); uerr == nil {
		s.Usage, s.Live = u, u.Bindings
	}
	return s, stop, err
}

// stopOf records the end of a run, with the daemon's own reason for a
// refusal when its log level showed it, and the kernel's complaints.
func (r *runner) stopOf(stop *refusal, s Step) *Stop {
	st := &Stop{Live: s.Live, Status: int(stop.status), What: stop.what, KernelLog: r.klog.evidence(3)}
	if why := r.ha.log.facts().refusal; why != "" && stop.status != 0 {
		// "binding update refused: 130 (...): data plane: bind ...: add route ...: cannot allocate memory"
		if i := strings.Index(why, "data plane: "); i >= 0 {
			why = why[i:]
		}
		st.Reason = why
	}
	return st
}

// stopHomeAgent stops the daemon and records the shutdown and its log.
func stopHomeAgent(cfg Config, ha *homeAgent, res *Result) error {
	if u, err := metricsNow(ha); err == nil {
		res.Shutdown.Bindings = u
	}
	narrate(cfg, "stopping nse-homeagent (%s bindings to remove)", report.Thousands(int64(res.Shutdown.Bindings)))
	took, err := ha.stop(stopBase + time.Duration(res.Shutdown.Bindings)*stopPerBinding)
	res.Shutdown.Seconds = took.Seconds()
	if err != nil {
		res.Shutdown.Error = err.Error()
	}
	facts := ha.log.facts()
	res.HALogLines, res.HAWarnings = facts.lines, facts.warnings
	return err
}

func metricsNow(ha *homeAgent) (int, error) {
	if err := ha.alive(); err != nil {
		return 0, err
	}
	m, err := ha.metrics(context.Background())
	return m.bindings, err
}
