package mnserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// DefaultReleaseAfter is how long a previous care-of address keeps
// accepting tunnelled packets when no Binding Acknowledgement for the new
// one comes: twice the first retransmission timeout of a registration.
const DefaultReleaseAfter = 2 * mobilenode.InitialBindackTimeoutFirstReg

// releaseTimeout bounds one data-plane Release.
const releaseTimeout = 5 * time.Second

// held is a previous attachment whose care-of address the data plane still
// accepts tunnelled packets at.
type held struct {
	at    dataplane.Attachment
	since time.Time
}

// move is a data-plane Attach that succeeded.
type move struct {
	to dataplane.Attachment
	at time.Time
}

// releaser releases previous care-of addresses once they are no longer
// needed. One goroutine (run) owns its state; Node.Attach tells it about
// moves, OnState and its timer wake it.
type releaser struct {
	dp       dataplane.MobileNode
	log      *slog.Logger
	clock    clock.Clock
	after    time.Duration
	attached func(dataplane.Attachment) bool
	status   func() mobilenode.Status

	moves chan move
	wake  chan struct{} // something may have become releasable
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Owned by run.
	current dataplane.Attachment
	held    map[netip.Addr]held
	timer   clock.Timer
}

func (r *releaser) start() {
	r.moves = make(chan move)
	r.wake = make(chan struct{}, 1)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	r.held = map[netip.Addr]held{}
	go r.run()
}

// moved tells the releaser that the data plane is now attached at at; the
// previous attachment is held from now. It returns once the releaser has
// taken note, or at once after close.
func (r *releaser) moved(at dataplane.Attachment) {
	select {
	case r.moves <- move{to: at, at: r.clock.Now()}:
	case <-r.done:
	}
}

// poke wakes the releaser without blocking; OnState calls it with the
// Registration's lock held.
func (r *releaser) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// close stops the releaser and waits for it; previous care-of addresses
// it still holds stay for the data plane's Close.
func (r *releaser) close() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

func (r *releaser) run() {
	defer close(r.done)
	defer r.disarm()
	for {
		select {
		case <-r.stop:
			return
		case m := <-r.moves:
			r.move(m)
		case <-r.wake:
		}
		r.releaseDone()
		r.arm()
	}
}

func (r *releaser) move(m move) {
	previous := r.current
	r.current = m.to
	delete(r.held, m.to.CoA)
	if previous.CoA.IsValid() && previous.CoA != m.to.CoA {
		r.held[previous.CoA] = held{at: previous, since: m.at}
	}
}

// releaseDone releases every held care-of address that is done with: all
// of them once the Home Agent has acknowledged the binding at the current
// care-of address, one whose link is gone, and one held for r.after.
func (r *releaser) releaseDone() {
	if len(r.held) == 0 {
		return
	}
	s := r.status()
	moved := s.BoundCareOf.IsValid() && s.BoundCareOf == r.current.CoA && !s.Pending
	now := r.clock.Now()
	for coa, h := range r.held {
		var reason string
		switch {
		case moved:
			reason = "home agent bound the new care-of address"
		case !r.attached(h.at):
			reason = "interface gone"
		case now.Sub(h.since) >= r.after:
			reason = "no binding acknowledgement in time"
		default:
			continue
		}
		delete(r.held, coa)
		r.release(h, reason, now)
	}
}

func (r *releaser) release(h held, reason string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := r.dp.Release(ctx, h.at.CoA)
	switch {
	case errors.Is(err, dataplane.ErrNotPrevious):
		r.log.Debug("care-of address already released", "care_of", h.at.CoA)
	case err != nil:
		r.log.Error("releasing care-of address failed", "care_of", h.at.CoA, "error", err)
	default:
		r.log.Info("released care-of address", "care_of", h.at.CoA, "interface", h.at.Interface,
			"reason", reason, "held", now.Sub(h.since).Round(time.Microsecond))
	}
}

// arm sets the timer for the earliest held care-of address to run out.
func (r *releaser) arm() {
	r.disarm()
	var first time.Time
	for _, h := range r.held {
		if first.IsZero() || h.since.Before(first) {
			first = h.since
		}
	}
	if !first.IsZero() {
		r.timer = r.clock.AfterFunc(first.Add(r.after).Sub(r.clock.Now()), r.poke)
	}
}

func (r *releaser) disarm() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// linkHolds reports whether at's interface, in this process's network
// namespace, is up with a carrier and still holds at.CoA.
func linkHolds(at dataplane.Attachment) bool {
	ifi, err := net.InterfaceByName(at.Interface)
	if err != nil || ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagRunning == 0 {
		return false
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(p.IP); ok && ip.Unmap() == at.CoA {
				return true
			}
		}
	}
	return false
}
