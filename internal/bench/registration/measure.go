package registration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// progressEvery is how often a long fill reports its progress.
const progressEvery = 2 * time.Second

// warmups is how many register/deregister pairs run before the baseline:
// neighbour discovery, the daemon's first-use paths and caches.
const warmups = 100

// runner drives the generator against the Home Agent.
type runner struct {
	cfg      Config
	gen      *generator
	ha       *homeAgent
	klog     *kernelLog
	lifetime mh.Lifetime
	rng      *rand.Rand

	filled  int      // filled bindings: indices [0, filled) are live
	seq     []uint16 // last accepted sequence number of each filled binding
	sampled uint64   // sampled home addresses used so far (each once)
	pending map[netip.Addr]pending
}

type pending struct {
	index int
	seq   uint16
}

// refusal is a Binding Update the Home Agent refused: the end of a run.
type refusal struct {
	status mh.Status
	what   string // "registration 23,457", "move of 2001:db8:..."
}

func (e *refusal) Error() string {
	return fmt.Sprintf("%s answered status %s", e.what, e.status)
}

func newRunner(cfg Config, gen *generator, ha *homeAgent) *runner {
	return &runner{cfg: cfg, gen: gen, ha: ha, lifetime: mh.LifetimeOf(maxLifetime),
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x6d697036)), //nolint:gosec // G404: a reproducible choice of bindings, not a secret
		pending: make(map[netip.Addr]pending, cfg.Window)}
}

func (r *runner) narrate(format string, args ...any) {
	_, _ = fmt.Fprintf(r.cfg.Log, "registration: "+format+"\n", args...)
}

// careOf is the care-of address of filled binding i at sequence seq: the
// generation flips with every move.
func (r *runner) careOf(i int, seq uint16) netip.Addr {
	prefix := careOfPrefix
	if r.cfg.unroutedFrom > 0 && i >= r.cfg.unroutedFrom {
		prefix = unroutedPrefix
	}
	return careOfAddress(prefix, (seq-1)%2, uint64(i))
}

// fill registers filled bindings until there are to, with cfg.Window BUs
// in flight. It stops sending at the first refusal and at lost BAs, and
// then reports them in the Fill and the returned refusal.
func (r *runner) fill(ctx context.Context, to int) (*Fill, *refusal, error) {
	f := &Fill{From: r.filled, To: to, Refused: map[string]int{}}
	if len(r.seq) < to {
		r.seq = append(r.seq, make([]uint16, to-len(r.seq))...)
	}
	meter, err := r.startMeter()
	if err != nil {
		return nil, nil, err
	}
	clear(r.pending)
	next, lastReport := r.filled, time.Now()
	var stop *refusal
	for (next < to && stop == nil) || len(r.pending) > 0 {
		if err := ctx.Err(); err != nil {
			return f, nil, err
		}
		for next < to && stop == nil && len(r.pending) < r.cfg.Window {
			hoa := homeAddress(filledRange, uint64(next))
			if _, err := r.gen.send(hoa, r.careOf(next, 1), 1, r.lifetime); err != nil {
				return f, nil, err
			}
			r.pending[hoa] = pending{index: next, seq: 1}
			next++
			f.Sent++
		}
		a, ok, err := r.gen.receive(r.cfg.Wait)
		if err != nil {
			return f, nil, err
		}
		if !ok {
			f.Lost = len(r.pending)
			if err := r.ha.alive(); err != nil {
				return f, nil, err
			}
			if stop == nil { // a refusal came first: it is the story
				stop = &refusal{what: fmt.Sprintf("%d BUs got no BA within %v", f.Lost, r.cfg.Wait)}
			}
			break
		}
		p, found := r.pending[a.hoa]
		if !found || p.seq != a.seq {
			f.Unmatched++
			continue
		}
		delete(r.pending, a.hoa)
		if a.status != mh.StatusAccepted {
			f.Refused[a.status.String()]++
			if stop == nil {
				stop = &refusal{status: a.status, what: "registration " + report.Thousands(int64(p.index+1))}
			}
			continue
		}
		f.Accepted++
		r.seq[p.index] = 1
		if time.Since(lastReport) >= progressEvery {
			lastReport = time.Now()
			r.narrate("  %s / %s bindings", report.Thousands(int64(r.filled+f.Accepted)), report.Thousands(int64(to)))
		}
	}
	r.filled += f.Accepted
	return f, stop, meter.finish(f)
}

// meter measures CPU and wall time over a fill.
type meter struct {
	r           *runner
	start       time.Time
	haCPU, self float64
}

func (r *runner) startMeter() (*meter, error) {
	m := &meter{r: r, start: time.Now()}
	var err error
	if m.haCPU, err = cpuSeconds(strconv.Itoa(r.ha.pid())); err != nil {
		return nil, err
	}
	if m.self, err = cpuSeconds("self"); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *meter) finish(f *Fill) error {
	f.Seconds = time.Since(m.start).Seconds()
	haCPU, err := cpuSeconds(strconv.Itoa(m.r.ha.pid()))
	if err != nil {
		return err
	}
	self, err := cpuSeconds("self")
	if err != nil {
		return err
	}
	f.HACPU = haCPU - m.haCPU
	if f.Seconds > 0 {
		f.Rate = float64(f.Accepted) / f.Seconds
		f.HALoad = f.HACPU / f.Seconds
		f.GenLoad = (self - m.self) / f.Seconds
	}
	return nil
}

// timed sends one Binding Update and waits for its BA: the latency in µs.
func (r *runner) timed(hoa, coa netip.Addr, seq uint16, lifetime mh.Lifetime) (float64, mh.Status, error) {
	sent, err := r.gen.send(hoa, coa, seq, lifetime)
	if err != nil {
		return 0, 0, err
	}
	for {
		a, ok, err := r.gen.receive(r.cfg.Wait)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			if err := r.ha.alive(); err != nil {
				return 0, 0, err
			}
			return 0, 0, &refusal{what: fmt.Sprintf("BU for %s (sequence %d) got no BA within %v", hoa, seq, r.cfg.Wait)}
		}
		if a.hoa == hoa && a.seq == seq {
			return float64(a.at-sent) / 1e3, a.status, nil
		}
	}
}

// sample times cfg.Samples BUs of each kind, one at a time, interleaved:
// register a fresh home address, move a random filled binding, deregister
// the fresh one. The live count is the same before and after.
func (r *runner) sample(ctx context.Context) ([]Latency, error) {
	n := r.cfg.Samples
	got := map[Kind][]float64{}
	for _, k := range Kinds {
		got[k] = make([]float64, 0, n)
	}
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.registerDeregister(sampledRange, r.sampled, got); err != nil {
			return nil, err
		}
		r.sampled++
		if r.filled == 0 {
			continue
		}
		i := r.rng.IntN(r.filled)
		seq := r.seq[i] + 1
		lat, status, err := r.timed(homeAddress(filledRange, uint64(i)), r.careOf(i, seq), seq, r.lifetime)
		if err := check(err, status, "move of binding "+report.Thousands(int64(i+1))); err != nil {
			return nil, err
		}
		r.seq[i] = seq
		got[KindMove] = append(got[KindMove], lat)
	}
	out := make([]Latency, 0, len(Kinds))
	for _, k := range Kinds {
		if len(got[k]) > 0 {
			out = append(out, summarize(k, got[k]))
		}
	}
	return out, nil
}

// registerDeregister times the registration and the deregistration of
// home address index of rangeID, which has no binding, and appends the
// latencies to got (nil: not recorded).
func (r *runner) registerDeregister(rangeID uint16, index uint64, got map[Kind][]float64) error {
	hoa := homeAddress(rangeID, index)
	coa := careOfAddress(careOfPrefix, 0x100+rangeID, index) // never a filled binding's
	reg, status, err := r.timed(hoa, coa, 1, r.lifetime)
	if err := check(err, status, "registration of "+hoa.String()); err != nil {
		return err
	}
	dereg, status, err := r.timed(hoa, coa, 2, 0)
	if err := check(err, status, "deregistration of "+hoa.String()); err != nil {
		return err
	}
	if got != nil {
		got[KindRegister] = append(got[KindRegister], reg)
		got[KindDeregister] = append(got[KindDeregister], dereg)
	}
	return nil
}

// check turns a refused BA into a *refusal.
func check(err error, status mh.Status, what string) error {
	if err != nil {
		return err
	}
	if status != mh.StatusAccepted {
		return &refusal{status: status, what: what}
	}
	return nil
}

// warmUp runs register/deregister pairs that are not measured.
func (r *runner) warmUp(ctx context.Context) error {
	for i := range uint64(warmups) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.registerDeregister(warmupRange, i, nil); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	return nil
}

// usage reads the Home Agent's resource use.
func (r *runner) usage(ctx context.Context) (Usage, error) {
	pid := strconv.Itoa(r.ha.pid())
	var u Usage
	var err error
	if u.CPU, err = cpuSeconds(pid); err != nil {
		return u, err
	}
	if u.RSS, err = rssKiB(pid); err != nil {
		return u, err
	}
	u.Percpu, u.Slab = kernelMemory()
	m, err := r.ha.metrics(ctx)
	if err != nil {
		return u, err
	}
	u.Bindings = m.bindings
	return u, nil
}
