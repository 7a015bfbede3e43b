package handover

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/udpflow"
	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// The two flows, as indices.
const (
	toMN   = 0 // correspondent node → home address
	fromMN = 1 // home address → correspondent node
)

// Where the flows are received: on the home address in the mobile node's
// namespace, on the correspondent node.
const (
	portToMN   = 7200
	portFromMN = 7201
)

// drain is how long the receivers stay open after the last packet left.
const drain = 200 * time.Millisecond

// flows are the two flows of a run, under way.
type flows struct {
	recv   [2]*udpflow.Receiver
	cancel context.CancelFunc
	done   chan sendResult
}

type sendResult struct {
	dir  int
	sent udpflow.Sent
	err  error
}

// startFlows opens both receivers and starts both senders, each sending
// cfg.packets() packets at cfg.Rate. The caller must finish them.
func startFlows(ctx context.Context, l *lab.Lab, cfg Config) (*flows, error) {
	ids := [2]uint32{udpflow.NewID(), udpflow.NewID()}
	specs := [2]udpflow.Spec{
		{Dst: netip.AddrPortFrom(lab.HoA, portToMN)},
		{Src: lab.HoA, Dst: netip.AddrPortFrom(lab.CNAddr, portFromMN)},
	}
	from, to := [2]*netns.NS{l.CN, l.MN}, [2]*netns.NS{l.MN, l.CN}
	f := &flows{done: make(chan sendResult, 2)}
	for dir := range 2 {
		r, err := udpflow.Listen(to[dir], udpflow.ReceiveSpec{
			Addr: specs[dir].Dst, IDs: ids[dir : dir+1], Mode: udpflow.Block, Capacity: cfg.packets(),
		})
		if err != nil {
			if dir > 0 {
				_, _ = f.recv[0].Close() // the Listen error is the one to report
			}
			return nil, err
		}
		f.recv[dir] = r
	}
	sendCtx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	for dir := range 2 {
		spec := specs[dir]
		spec.ID, spec.Rate, spec.Count, spec.Size = ids[dir], cfg.Rate, cfg.packets(), cfg.Size
		go func() {
			var r sendResult
			sent, err := udpflow.Send(sendCtx, from[dir], spec)
			if len(sent) > 0 {
				r.sent = sent[0]
			}
			r.dir, r.err = dir, err
			f.done <- r
		}()
	}
	return f, nil
}

// finish waits for both senders (stopping them first if abort), lets the
// last packets arrive, closes the receivers and analyses both flows.
func (f *flows) finish(abort bool) (stats [2]udpflow.Stats, sent [2]udpflow.Sent, err error) {
	if abort {
		f.cancel()
	}
	var errs []error
	for range 2 {
		r := <-f.done
		sent[r.dir] = r.sent
		if !abort || !errors.Is(r.err, context.Canceled) {
			errs = append(errs, r.err)
		}
	}
	f.cancel()
	time.Sleep(drain)
	for dir, r := range f.recv {
		arrivals, err := r.Close()
		errs = append(errs, err)
		stats[dir] = udpflow.Analyze(sent[dir], arrivals)
	}
	return stats, sent, errors.Join(errs...)
}
