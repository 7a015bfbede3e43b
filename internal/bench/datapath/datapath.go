package datapath

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// registerWithin bounds the mobile node's first registration.
const registerWithin = 10 * time.Second

// Ports of the iperf3 servers in the mobile node's namespace.
const (
	tunnelPort = 5201 // bound to the home address
	directPort = 5202 // bound to CoA1
)

// The two directions and the two paths measured, as indices.
const (
	toMN   = 0 // CN → MN: the correspondent sends
	fromMN = 1 // MN → CN: the mobile node sends
	tunnel = 0 // to or from the home address, through the tunnel
	direct = 1 // to or from CoA1, routed natively by the Home Agent
)

// repetition is one round of every measurement, by [direction][path]
// (and by path for the round-trip time, pinged from the correspondent).
type repetition struct {
	iperf  [2][2]iperfRun
	oneWay [2][2]latency
	rtt    [2]latency
}

// Run builds the lab, starts both daemons, waits for the mobile node to
// register from CoA1 and measures cfg.Repetitions rounds; it removes the
// lab whatever happens. It needs root and iperf3. If a round fails, the
// Result summarises the rounds before it (Result.Repetitions of them).
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return res, err
	}
	if _, err := exec.LookPath(Iperf3Binary); err != nil {
		return res, ErrNoIperf3
	}
	l, err := startLab(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, l.Close()) }()

	var servers [2]*iperfServer
	defer func() {
		for _, s := range servers {
			if s != nil {
				s.stop()
			}
		}
	}()
	for path, addr := range [2]netip.Addr{lab.HoA, lab.CoA1} {
		if servers[path], err = startIperfServer(l.MN, addr, [2]int{tunnelPort, directPort}[path]); err != nil {
			return res, err
		}
	}
	var reps []repetition
	for i := range cfg.Repetitions {
		rep, err := measure(ctx, l, servers, cfg, i%2 == 1)
		if err != nil {
			return summarise(cfg, reps), fmt.Errorf("repetition %d: %w", i+1, err)
		}
		reps = append(reps, rep)
		progress(cfg, i, rep)
	}
	return summarise(cfg, reps), nil
}

// progress tells cfg.Progress what repetition i measured.
func progress(cfg Config, i int, rep repetition) {
	for dir, name := range directionNames {
		t, d := rep.iperf[dir][tunnel], rep.iperf[dir][direct]
		ot, od := rep.oneWay[dir][tunnel], rep.oneWay[dir][direct]
		_, _ = fmt.Fprintf(cfg.Progress, "datapath %d/%d %s: tunnel %.2f Gbit/s, direct %.2f Gbit/s; one-way p50 tunnel %.1f µs, direct %.1f µs\n",
			i+1, cfg.Repetitions, name, t.Gbps, d.Gbps, us(ot.P50), us(od.P50))
	}
}

// startLab builds the lab and returns it with the mobile node registered
// from CoA1.
func startLab(ctx context.Context, cfg Config) (*lab.Lab, error) {
	l, err := lab.New(ctx, lab.Options{Name: cfg.Name, BinDir: cfg.BinDir, Log: cfg.Log})
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

// measure runs one round: per direction, iperf3 over the tunnel and
// direct, then one-way probes over both at once; then pings to both.
// directFirst swaps the order of the paths in the measurements taken one
// after the other, so neither always goes first.
func measure(ctx context.Context, l *lab.Lab, servers [2]*iperfServer, cfg Config, directFirst bool) (repetition, error) {
	var rep repetition
	order := [2]int{tunnel, direct}
	if directFirst {
		order = [2]int{direct, tunnel}
	}
	mnAddr := [2]netip.Addr{lab.HoA, lab.CoA1}
	for _, dir := range [2]int{toMN, fromMN} {
		for _, path := range order {
			run, err := runIperf(ctx, l.CN, servers[path], cfg.iperfSeconds(), dir == fromMN)
			if err != nil {
				return rep, err
			}
			rep.iperf[dir][path] = run
		}
		from, to, srcs, dsts := l.CN, l.MN, [2]netip.Addr{}, mnAddr
		if dir == fromMN {
			from, to, srcs, dsts = l.MN, l.CN, mnAddr, [2]netip.Addr{lab.CNAddr, lab.CNAddr}
		}
		var err error
		if rep.oneWay[dir], err = measureOneWay(ctx, from, to, srcs, dsts, cfg); err != nil {
			return rep, err
		}
	}
	for _, path := range order {
		lat, err := measureRTT(ctx, l.CN, mnAddr[path], cfg)
		if err != nil {
			return rep, err
		}
		rep.rtt[path] = lat
	}
	return rep, nil
}
