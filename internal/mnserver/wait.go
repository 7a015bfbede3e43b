package mnserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// RefusedError is the Home Agent's answer to the registration at CareOf
// when it does not bind it: a Binding Acknowledgement with Status. It
// wraps the registration's error (a *mobilenode.StatusError or
// mobilenode.ErrZeroLifetime).
type RefusedError struct {
	CareOf netip.Addr
	Status mh.Status
	Err    error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("home agent refused the registration at %s (status %s): %v", e.CareOf, e.Status, e.Err)
}

// Unwrap returns the registration's error.
func (e *RefusedError) Unwrap() error { return e.Err }

// ErrNotRegistered means WaitRegistered's context ended, or the
// registration failed without an answer from the Home Agent; the error
// says why.
var ErrNotRegistered = errors.New("care-of address not registered")

// waiters are the WaitRegistered calls in progress; onState settles them.
type waiters struct {
	mu     sync.Mutex
	set    map[*waiter]struct{}
	closed bool
}

// waiter is one WaitRegistered call: done receives its outcome once.
type waiter struct {
	coa  netip.Addr
	done chan error
}

// WaitRegistered waits until the Home Agent has accepted a registration
// at coa (nil) or answered one with a refusal (*RefusedError), or the
// registration failed at coa otherwise, or ctx ends (both ErrNotRegistered).
// Call it after Attach to coa. A refusal already recorded at coa is
// returned at once: the registration retries only after its failure
// backoff.
func (n *Node) WaitRegistered(ctx context.Context, coa netip.Addr) error {
	w := &waiter{coa: coa, done: make(chan error, 1)}
	if err := n.waiting.add(w); err != nil {
		return err
	}
	defer n.waiting.remove(w)
	// A state reached before w was added produces no OnState call.
	if ok, err := outcome(coa, n.reg.Status()); ok {
		return err
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		s := n.reg.Status()
		err := fmt.Errorf("%w: %s (state %s, bound at %v): %w", ErrNotRegistered, coa, s.State, s.BoundCareOf, ctx.Err())
		if s.LastError != nil {
			err = fmt.Errorf("%w; last error: %w", err, s.LastError)
		}
		return err
	}
}

// outcome reports whether s ends a wait for coa, and how.
func outcome(coa netip.Addr, s mobilenode.Status) (done bool, err error) {
	switch {
	case s.State == mobilenode.StateRegistered && s.BoundCareOf == coa:
		return true, nil
	case s.State != mobilenode.StateFailed || s.CareOf != coa:
		return false, nil
	}
	var se *mobilenode.StatusError
	if errors.As(s.LastError, &se) || errors.Is(s.LastError, mobilenode.ErrZeroLifetime) {
		return true, &RefusedError{CareOf: coa, Status: s.LastStatus, Err: s.LastError}
	}
	return true, fmt.Errorf("%w: registration at %s failed: %w", ErrNotRegistered, coa, s.LastError)
}

func (ws *waiters) add(w *waiter) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return mobilenode.ErrClosed
	}
	if ws.set == nil {
		ws.set = map[*waiter]struct{}{}
	}
	ws.set[w] = struct{}{}
	return nil
}

func (ws *waiters) remove(w *waiter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.set, w)
}

// settle hands s to every waiter it concerns; it never blocks (OnState
// calls it with the Registration's lock held).
func (ws *waiters) settle(s mobilenode.Status) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.set {
		if ok, err := outcome(w.coa, s); ok {
			deliver(w, err)
			delete(ws.set, w)
		}
	}
}

// close ends every wait with mobilenode.ErrClosed, and later ones at once.
func (ws *waiters) close() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.closed = true
	for w := range ws.set {
		deliver(w, mobilenode.ErrClosed)
		delete(ws.set, w)
	}
}

func deliver(w *waiter, err error) {
	select {
	case w.done <- err:
	default:
	}
}
