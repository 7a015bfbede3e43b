package handover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// Bounds of the steps; a healthy run needs a small fraction of each.
const (
	registerWithin = 10 * time.Second
	releaseWithin  = 5 * time.Second
	settle         = 200 * time.Millisecond // between runs
)

// variant is a kind of handover: what happens to access link 1, and the
// care-of addresses before and after.
type variant struct {
	name, description string
	linkUp            bool
	from, to          netip.Addr
}

var (
	breakBeforeMake = variant{
		name:        "break-before-make",
		description: "access link 1 goes down under the mobile node; it re-registers from CoA2 on link 2",
		from:        lab.CoA1, to: lab.CoA2,
	}
	makeBeforeBreak = variant{
		name:        "make-before-break",
		description: "access link 1 comes back up while the mobile node is on link 2; it moves to CoA1, link 2 staying up",
		linkUp:      true,
		from:        lab.CoA2, to: lab.CoA1,
	}
)

// Run builds the lab, starts both daemons, waits for the mobile node to
// register from CoA1, then alternates break-before-make and
// make-before-break handovers cfg.Repetitions times each; it removes the
// lab whatever happens. It needs root. If a handover fails, the Result
// summarises those before it.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return res, err
	}
	var runs [2][]RunResult
	defer func() { res = result(cfg, runs) }()
	logs := &logWatch{out: cfg.Log}
	l, err := startLab(ctx, cfg, logs)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, l.Close()) }()
	for i := range cfg.Repetitions {
		for v, vr := range []variant{breakBeforeMake, makeBeforeBreak} {
			r, err := measure(ctx, l, logs, cfg, vr)
			if err != nil {
				return res, fmt.Errorf("%s, repetition %d: %w", vr.name, i+1, err)
			}
			runs[v] = append(runs[v], r)
			_, _ = fmt.Fprintf(cfg.Progress, "handover %d/%d %s: lost %d CN → HoA, %d HoA → CN; outage %.1f ms, %.1f ms; BA %.1f ms after the link event, %d and %d packets sent meanwhile\n",
				i+1, cfg.Repetitions, vr.name, r.ToMN.LostPackets, r.FromMN.LostPackets, r.ToMN.OutageMs, r.FromMN.OutageMs, r.ReregistrationMs,
				r.ToMN.SentDuringHandoverPackets, r.FromMN.SentDuringHandoverPackets)
		}
	}
	return res, nil
}

func result(cfg Config, runs [2][]RunResult) Result {
	return Result{
		Dataplane: cfg.Dataplane, RatePPS: cfg.Rate, PayloadBytes: cfg.Size, Repetitions: len(runs[1]),
		BeforeMs: ms(cfg.Before), AfterMs: ms(cfg.After),
		BreakBeforeMake: summarise(breakBeforeMake, runs[0]),
		MakeBeforeBreak: summarise(makeBeforeBreak, runs[1]),
	}
}

// startLab builds the lab and returns it with the mobile node registered
// from CoA1.
func startLab(ctx context.Context, cfg Config, logs *logWatch) (*lab.Lab, error) {
	l, err := lab.New(ctx, lab.Options{Name: cfg.Name, BinDir: cfg.BinDir, Log: logs})
	if err != nil {
		return nil, err
	}
	regCtx, cancel := context.WithTimeout(ctx, registerWithin)
	defer cancel()
	var env []string
	if cfg.Dataplane != "" {
		env = append(env, "NSM_DATAPLANE="+cfg.Dataplane)
	}
	if err := l.StartRegistered(regCtx, env...); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

// measure runs the flows across one handover of kind v. The mobile node
// must be registered from v.from; it is registered from v.to afterwards.
func measure(ctx context.Context, l *lab.Lab, logs *logWatch, cfg Config, v variant) (RunResult, error) {
	r := RunResult{Variant: v.name}
	if err := sleep(ctx, settle); err != nil {
		return r, err
	}
	f, err := startFlows(ctx, l, cfg)
	if err != nil {
		return r, err
	}
	event, eventErr := handover(ctx, l, cfg, v)
	var ack time.Time
	if eventErr == nil {
		ack, eventErr = lastAck(ctx, l)
	}
	stats, sent, flowErr := f.finish(eventErr != nil)
	if err := errors.Join(eventErr, flowErr); err != nil {
		return r, err
	}
	r.ReregistrationMs = ms(ack.Sub(event))
	if at, ok := logs.find(event, "[mn] ", "msg=attached", "care_of="+v.to.String()); ok {
		r.AttachMs = ms(max(0, at.Sub(event)))
	}
	if at, ok := logs.await(ctx, releaseWithin, event, "[mn] ", "released care-of address", "care_of="+v.from.String()); ok {
		r.ReleaseMs = ms(max(0, at.Sub(event)))
	}
	r.ToMN = flowResult(stats[toMN], sent[toMN], event, ack, cfg.Rate)
	r.FromMN = flowResult(stats[fromMN], sent[fromMN], event, ack, cfg.Rate)
	return r, nil
}

// handover waits cfg.Before, changes access link 1 and waits until the
// mobile node is registered from v.to; it returns when the link changed.
func handover(ctx context.Context, l *lab.Lab, cfg Config, v variant) (time.Time, error) {
	if err := sleep(ctx, cfg.Before); err != nil {
		return time.Time{}, err
	}
	event := time.Now()
	if err := l.SetLink(l.MN, lab.MNLink1, v.linkUp); err != nil {
		return event, err
	}
	regCtx, cancel := context.WithTimeout(ctx, registerWithin)
	defer cancel()
	return event, l.WaitRegistered(regCtx, v.to)
}

// lastAck asks the mobile node when its last Binding Acknowledgement came
// (GET /status, LastAck: the lab's MobileStatus leaves it out).
func lastAck(ctx context.Context, l *lab.Lab) (time.Time, error) {
	body, err := l.HTTPGet(ctx, l.MN, "/status")
	if err != nil {
		return time.Time{}, err
	}
	var s struct{ LastAck time.Time }
	if err := json.Unmarshal(body, &s); err != nil {
		return time.Time{}, fmt.Errorf("decode /status: %w", err)
	}
	if s.LastAck.IsZero() {
		return time.Time{}, errors.New("mobile node /status: registered, but no LastAck")
	}
	return s.LastAck, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
