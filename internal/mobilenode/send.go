package mobilenode

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// update is a BU as sent.
type update struct {
	seq      uint16
	coa      netip.Addr
	lifetime mh.Lifetime
	at       time.Time
}

// attempt is one update of the binding: its first BU and the
// retransmissions that follow until a BA answers.
type attempt struct {
	timeout time.Duration // to wait for the BA of the next BU
	sent    int           // BUs sent so far
}

// rateLimiter remembers when the last MaxUpdateRate BUs were sent.
type rateLimiter struct {
	sent [MaxUpdateRate]time.Time // a ring, oldest at next
	next int
}

// wait returns how long from now until another BU may be sent.
func (l *rateLimiter) wait(now time.Time) time.Duration {
	oldest := l.sent[l.next]
	if oldest.IsZero() {
		return 0
	}
	return max(0, oldest.Add(time.Second).Sub(now))
}

func (l *rateLimiter) record(now time.Time) {
	l.sent[l.next] = now
	l.next = (l.next + 1) % MaxUpdateRate
}

// wantLifetime is the lifetime the binding should have: 0 when it is not
// wanted or the node is at home.
func (r *Registration) wantLifetime() mh.Lifetime {
	if !r.active || r.coa == r.hoa {
		return 0
	}
	return r.lifetime
}

// startUpdate begins a new attempt to bring the home agent's binding to
// what is wanted, from the current care-of address.
func (r *Registration) startUpdate() {
	r.disarm(&r.ackTimer)
	r.attempt = attempt{timeout: InitialBindackTimeoutFirstReg}
	if r.bound {
		r.attempt.timeout = InitialBindackTimeout
	}
	switch {
	case r.wantLifetime() == 0:
		r.setState(StateDeregistering)
	case r.bound:
		r.setState(StateRegistered)
	default:
		r.setState(StateRegistering)
	}
	r.trySend()
}

// trySend sends the next BU of the attempt now, or once the rate limit
// allows; a BU already waiting is the same BU, taking the latest state.
func (r *Registration) trySend() {
	if !r.coa.IsValid() {
		return
	}
	now := r.clock.Now()
	if wait := r.rate.wait(now); wait > 0 {
		r.disarm(&r.ackTimer)
		if !r.sendTimer.armed() {
			r.arm(&r.sendTimer, wait, r.trySend)
		}
		return
	}
	r.disarm(&r.sendTimer)
	r.send(now)
}

func (r *Registration) send(now time.Time) {
	r.seq++
	out := &update{seq: r.seq, coa: r.coa, lifetime: r.wantLifetime(), at: now}
	r.out = out
	r.rate.record(now)
	r.attempt.sent++
	if r.attempt.sent > 1 {
		r.counters.Retransmissions++
	}
	bu := &mh.BindingUpdate{Sequence: out.seq, Flags: mh.FlagA | mh.FlagH, Lifetime: out.lifetime}
	if err := r.sender.SendBindingUpdate(out.coa, bu); err != nil {
		r.counters.SendErrors++
		r.lastErr = fmt.Errorf("send binding update %d from %s: %w", out.seq, out.coa, err)
		r.log.Warn("sending binding update failed", "seq", out.seq, "care_of", out.coa, "error", err)
	} else {
		r.counters.BUsSent++
		r.log.Debug("binding update sent", "seq", out.seq, "care_of", out.coa,
			"lifetime", out.lifetime.Duration(), "attempt", r.attempt.sent)
	}
	r.arm(&r.ackTimer, r.attempt.timeout, r.retransmit)
}

// retransmit runs when the BA for the last BU is overdue.
func (r *Registration) retransmit() {
	prev := r.attempt.timeout
	r.attempt.timeout = min(2*prev, MaxBindackTimeout)
	if r.attempt.timeout == MaxBindackTimeout {
		r.lastErr = fmt.Errorf("%w from %s after %d binding updates", ErrNoAck, r.ha, r.attempt.sent)
		if prev < MaxBindackTimeout {
			r.log.Warn("no binding acknowledgement; retransmitting every 32 s", "care_of", r.coa, "sent", r.attempt.sent)
		}
	}
	r.trySend()
}

// wake refreshes the binding, or retries after a failure.
func (r *Registration) wake() {
	switch {
	case !r.active || !r.coa.IsValid() || r.dereg != nil:
	case r.state == StateFailed:
		r.log.Info("retrying home registration", "care_of", r.coa)
		r.startUpdate()
	case r.out == nil && !r.sendTimer.armed():
		r.log.Debug("refreshing binding", "care_of", r.coa)
		r.startUpdate()
	}
}

// expire runs when the binding's lifetime ends without a refresh.
func (r *Registration) expire() {
	r.bound = false
	r.log.Warn("binding expired at the home agent", "care_of", r.boundCoA)
	if r.state != StateRegistered {
		return
	}
	if r.out != nil || r.sendTimer.armed() {
		r.setState(StateRegistering)
	} else {
		r.setState(StateUnregistered)
	}
}

// detach stops signalling: there is no care-of address.
func (r *Registration) detach() {
	if !r.coa.IsValid() {
		return
	}
	r.log.Info("no care-of address; binding updates paused", "care_of", r.coa)
	r.coa = netip.Addr{}
	r.out = nil
	r.disarm(&r.ackTimer)
	r.disarm(&r.sendTimer)
	switch {
	case r.state == StateFailed || r.dereg != nil:
	case r.bound:
		r.setState(StateRegistered)
	default:
		r.setState(StateUnregistered)
	}
}

// waitingToRetry reports whether a failed registration should leave coa to
// the retry timer: only a new care-of address after status 174 (invalid
// care-of address) is worth trying at once.
func (r *Registration) waitingToRetry(coa netip.Addr) bool {
	if r.state != StateFailed || !r.wakeTimer.armed() {
		return false
	}
	return r.lastStatus != mh.StatusInvalidCareOfAddress || coa == r.failedCoA
}
