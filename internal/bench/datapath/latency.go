package datapath

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/udpflow"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// probePort is where one-way probes are received.
const probePort = 7100

// drain is how long a probe receiver stays open after the last probe left.
const drain = 100 * time.Millisecond

// latency is the distribution of one path's probes in one repetition.
type latency struct {
	P50, P99   time.Duration
	Sent, Lost int
}

// measureOneWay sends cfg.Probes UDP probes over each path (by index:
// tunnel, direct), from srcs[path] in from to dsts[path] in to, the two
// paths' probes interleaved so that both see the same conditions, and
// returns their one-way latency.
func measureOneWay(ctx context.Context, from, to *netns.NS, srcs, dsts [2]netip.Addr, cfg Config) ([2]latency, error) {
	var res [2]latency
	ids := [2]uint32{udpflow.NewID(), udpflow.NewID()}
	r, err := udpflow.Listen(to, udpflow.ReceiveSpec{
		Addr: netip.AddrPortFrom(netip.Addr{}, probePort), IDs: ids[:], Mode: udpflow.BusyPoll, Capacity: 2 * cfg.Probes,
	})
	if err != nil {
		return res, err
	}
	var specs []udpflow.Spec
	for path := range 2 {
		specs = append(specs, udpflow.Spec{
			Src: srcs[path], Dst: netip.AddrPortFrom(dsts[path], probePort), ID: ids[path],
			Rate: cfg.ProbeRate, Count: cfg.Probes, Size: cfg.ProbeSize,
		})
	}
	sent, sendErr := udpflow.Send(ctx, from, specs...)
	if sendErr == nil {
		sendErr = sleep(ctx, drain)
	}
	arrivals, closeErr := r.Close()
	if err := errors.Join(sendErr, closeErr); err != nil {
		return res, err
	}
	for path := range 2 {
		of := udpflow.Of(arrivals, ids[path])
		s := udpflow.Analyze(sent[path], of)
		d := udpflow.OneWay(of)
		res[path] = latency{P50: udpflow.Percentile(d, 50), P99: udpflow.Percentile(d, 99), Sent: s.Sent, Lost: s.Lost}
	}
	return res, nil
}

// measureRTT pings dst from ns cfg.Probes times, cfg.ProbeRate per second.
func measureRTT(ctx context.Context, ns *netns.NS, dst netip.Addr, cfg Config) (latency, error) {
	series, err := ns.PingEvery(ctx, netip.Addr{}, dst, time.Second/time.Duration(cfg.ProbeRate), cfg.Probes)
	if err != nil {
		return latency{}, err
	}
	var rtts []time.Duration
	for _, e := range series {
		if e.Replied {
			rtts = append(rtts, e.RTT)
		}
	}
	slices.Sort(rtts)
	return latency{P50: udpflow.Percentile(rtts, 50), P99: udpflow.Percentile(rtts, 99), Sent: len(series), Lost: series.Lost()}, nil
}

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
