package mobilenode

import (
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
)

// timer is one of a Registration's timers. Its callback runs with the lock
// held, and only if the timer is still armed as it was when it fired: a
// callback that lost the race with disarm or a new arm does nothing.
type timer struct {
	t  clock.Timer
	at time.Time
}

func (t *timer) armed() bool { return t.t != nil }

// arm (re)starts t to call f after d.
func (r *Registration) arm(t *timer, d time.Duration, f func()) {
	r.disarm(t)
	var ct clock.Timer
	ct = r.clock.AfterFunc(d, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed || t.t != ct {
			return
		}
		t.t = nil
		f()
		r.notify()
	})
	t.t, t.at = ct, r.clock.Now().Add(d)
}

func (r *Registration) disarm(t *timer) {
	if t.t != nil {
		t.t.Stop()
		t.t = nil
	}
}

// noted is what OnState reports changes of.
type noted struct {
	state    State
	boundCoA netip.Addr
}

func (r *Registration) setState(s State) {
	if r.state != s {
		r.log.Debug("state changed", "from", r.state, "to", s)
		r.state = s
	}
}

// notify calls OnState if the state or the bound care-of address changed.
func (r *Registration) notify() {
	now := noted{state: r.state}
	if r.bound {
		now.boundCoA = r.boundCoA
	}
	if now == r.noted {
		return
	}
	r.noted = now
	if r.onState != nil {
		r.onState(r.snapshot())
	}
}

func (r *Registration) snapshot() Status {
	s := Status{
		State:       r.state,
		HomeAddress: r.hoa,
		HomeAgent:   r.ha,
		CareOf:      r.coa,
		Sequence:    r.seq,
		Pending:     r.out != nil || r.sendTimer.armed(),
		Requested:   r.lifetime.Duration(),
		LastAck:     r.lastAck,
		LastStatus:  r.lastStatus,
		LastError:   r.lastErr,
		Counters:    r.counters,
	}
	if s.Pending {
		s.Attempts = r.attempt.sent
	}
	if r.bound {
		s.BoundCareOf, s.Granted, s.Expiry = r.boundCoA, r.granted, r.expiry
	}
	if r.wakeTimer.armed() {
		s.RefreshDue = r.wakeTimer.at
	}
	return s
}
