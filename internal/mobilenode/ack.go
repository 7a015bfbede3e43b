package mobilenode

import (
	"fmt"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

func (r *Registration) ignore(ba *mh.BindingAck, why string, attrs ...any) {
	r.counters.BAsIgnored++
	r.log.Debug("binding acknowledgement ignored: "+why,
		append([]any{"seq", ba.Sequence, "status", ba.Status}, attrs...)...)
}

// answer handles the BA that matches the last BU sent.
func (r *Registration) answer(ba *mh.BindingAck) {
	now := r.clock.Now()
	out := r.out
	r.out = nil
	r.disarm(&r.ackTimer)
	r.counters.BAsMatched++
	r.lastAck, r.lastStatus = now, ba.Status
	switch {
	// A home agent without a binding for us answers a deregistration
	// with 133: the binding is gone either way.
	case ba.Status.Accepted(), out.lifetime == 0 && ba.Status == mh.StatusNotHomeAgentForThisMobileNode:
		r.accepted(out, ba, now)
	default:
		r.fail(out, &StatusError{Status: ba.Status})
	}
}

func (r *Registration) accepted(out *update, ba *mh.BindingAck, now time.Time) {
	r.resyncs = 0
	switch {
	case out.lifetime == 0:
		r.unbind()
		r.lastErr = nil
		r.setState(StateUnregistered)
		r.log.Info("deregistered", "care_of", out.coa, "status", ba.Status)
		r.finishDereg(nil)
	case ba.Lifetime == 0:
		r.unbind()
		r.fail(out, fmt.Errorf("%w (status %s)", ErrZeroLifetime, ba.Status))
		return
	default:
		r.bind(out, ba, now)
	}
	if out.coa == r.coa && out.lifetime == r.wantLifetime() {
		r.disarm(&r.sendTimer)
	} else if r.coa.IsValid() {
		r.startUpdate() // things changed while the BU was on its way
	}
}

// bind records the binding an accepted BA grants and plans its refresh.
// The lifetime counts from when the BU was sent (RFC 6275 §11.7.3), the
// Binding Refresh Advice from when the BA arrived.
func (r *Registration) bind(out *update, ba *mh.BindingAck, now time.Time) {
	moved := !r.bound || r.boundCoA != out.coa
	r.granted = min(ba.Lifetime, out.lifetime).Duration()
	r.bound, r.boundCoA, r.expiry = true, out.coa, out.at.Add(r.granted)
	refresh := out.at.Add(r.granted * refreshPercent / 100)
	if bra, ok := ba.RefreshInterval(); ok && bra > 0 {
		refresh = minTime(refresh, now.Add(bra.Duration()))
	}
	r.arm(&r.expiryTimer, r.expiry.Sub(now), r.expire)
	r.arm(&r.wakeTimer, refresh.Sub(now), r.wake)
	r.lastErr = nil
	r.setState(StateRegistered)
	log := r.log.Debug
	if moved {
		log = r.log.Info
	}
	log("registered", "care_of", out.coa, "seq", out.seq, "status", ba.Status,
		"lifetime", r.granted, "refresh", refresh.Sub(now))
}

func (r *Registration) unbind() {
	r.bound = false
	r.disarm(&r.expiryTimer)
	r.disarm(&r.wakeTimer)
}

// fail records a failed update; a registration retries after
// FailureBackoff, a deregistration returns the error to Deregister.
func (r *Registration) fail(out *update, err error) {
	r.disarm(&r.sendTimer)
	r.failedCoA = out.coa
	r.lastErr = err
	r.setState(StateFailed)
	r.log.Warn("home registration failed", "care_of", out.coa, "seq", out.seq, "error", err)
	switch {
	case r.dereg == nil:
		r.arm(&r.wakeTimer, FailureBackoff, r.wake)
	case out.lifetime == 0:
		r.finishDereg(err)
	default: // a registration failed while the deregistration waited
		r.startUpdate()
	}
}

// resync handles status 135: the BA carries the last sequence number the
// home agent accepted, and the next BU must be newer.
func (r *Registration) resync(ba *mh.BindingAck) {
	out := r.out
	if mh.SequenceNewer(out.seq, ba.Sequence) {
		// The home agent would have accepted out: this answers an older BU.
		r.ignore(ba, "sequence number out of window for an older binding update", "outstanding", out.seq)
		return
	}
	r.counters.BAsMatched++
	r.lastAck, r.lastStatus = r.clock.Now(), ba.Status
	r.resyncs++
	if r.resyncs > maxResyncs {
		r.out = nil
		r.disarm(&r.ackTimer)
		r.fail(out, &StatusError{Status: ba.Status})
		return
	}
	r.log.Info("sequence number out of window; resynchronising", "sent", out.seq, "last_accepted", ba.Sequence)
	r.seq = ba.Sequence
	r.startUpdate()
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
