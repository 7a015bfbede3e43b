package mobilenode

import "fmt"

// deregistration is a Deregister call in progress; err is set before done
// is closed.
type deregistration struct {
	done chan struct{}
	err  error
}

// startDeregistration returns the deregistration to wait for, or nil and
// the result when there is nothing to wait for.
func (r *Registration) startDeregistration() (*deregistration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.notify()
	if r.closed {
		return nil, ErrClosed
	}
	if r.dereg != nil {
		return r.dereg, nil
	}
	if !r.bound && r.out == nil && !r.sendTimer.armed() {
		r.active = false // nothing at the home agent; stop any retry
		r.disarm(&r.wakeTimer)
		return nil, nil
	}
	if !r.coa.IsValid() {
		return nil, fmt.Errorf("deregister: %w", ErrNoCareOf)
	}
	r.active = false
	r.disarm(&r.wakeTimer)
	r.dereg = &deregistration{done: make(chan struct{})}
	r.startUpdate()
	return r.dereg, nil
}

// abandon ends a deregistration that got no answer.
func (r *Registration) abandon(cause error) {
	r.out = nil
	r.disarm(&r.ackTimer)
	r.disarm(&r.sendTimer)
	err := fmt.Errorf("%w from %s to deregistration: %w", ErrNoAck, r.ha, cause)
	r.lastErr = err
	r.setState(StateFailed)
	r.log.Warn("deregistration abandoned; the binding lives until it expires", "expiry", r.expiry, "error", err)
	r.finishDereg(err)
}

func (r *Registration) finishDereg(err error) {
	if d := r.dereg; d != nil {
		d.err = err
		close(d.done)
		r.dereg = nil
	}
}
