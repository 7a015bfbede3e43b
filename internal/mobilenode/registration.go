package mobilenode

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Registration is the home registration of one home address with one home
// agent. Its methods and timers are safe for concurrent use.
type Registration struct {
	hoa, ha  netip.Addr
	lifetime mh.Lifetime
	clock    clock.Clock
	sender   Sender
	log      *slog.Logger
	onState  func(Status)

	mu      sync.Mutex
	closed  bool
	state   State
	noted   noted      // what OnState last heard
	coa     netip.Addr // where BUs are sent from; zero while detached
	active  bool       // a binding is wanted: Move came after New or the last Deregister
	seq     uint16     // the sequence number of the last BU sent
	out     *update    // the last BU sent, until its BA
	attempt attempt
	rate    rateLimiter
	dereg   *deregistration // the Deregister call in progress
	resyncs int             // status 135 answers in a row

	bound    bool // the home agent holds a binding we know of
	boundCoA netip.Addr
	granted  time.Duration
	expiry   time.Time

	failedCoA  netip.Addr // the care-of address of the last rejected BU
	lastAck    time.Time
	lastStatus mh.Status
	lastErr    error
	counters   Counters

	ackTimer    timer // retransmission of out
	sendTimer   timer // a send held back by the rate limit
	wakeTimer   timer // refresh, or retry after a failure
	expiryTimer timer // end of the binding
}

// New returns a Registration that sends nothing until the first Move.
func New(cfg Config) (*Registration, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sequence == 0 {
		var b [2]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		cfg.Sequence = binary.BigEndian.Uint16(b[:])
	}
	return &Registration{
		hoa:      cfg.HomeAddress,
		ha:       cfg.HomeAgent,
		lifetime: mh.LifetimeOf(cfg.Lifetime),
		clock:    cfg.Clock,
		sender:   cfg.Sender,
		log:      cfg.Logger.With("home_address", cfg.HomeAddress, "home_agent", cfg.HomeAgent),
		onState:  cfg.OnState,
		seq:      cfg.Sequence - 1,
	}, nil
}

// Move tells the Registration that the care-of address is now coa. A new
// address is registered at once (subject to the rate limit); the current
// one again changes nothing. The zero Addr means no care-of address: BUs
// stop until the next Move, and the binding lives on until it expires.
// Moving to the home address deregisters (the node is at home).
// During a failure backoff the new address waits for the retry; during a
// Deregister the deregistration continues from the new address.
func (r *Registration) Move(coa netip.Addr) error {
	if coa.IsValid() && !isGlobalIPv6(coa) {
		return fmt.Errorf("%w: %s is not a global unicast ipv6 address", ErrInvalidCareOf, coa)
	}
	if coa == r.ha {
		return fmt.Errorf("%w: %s is the home agent's address", ErrInvalidCareOf, coa)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.notify()
	if r.closed {
		return ErrClosed
	}
	if !coa.IsValid() {
		r.detach()
		return nil
	}
	changed := coa != r.coa
	r.coa = coa
	if r.dereg != nil {
		if changed {
			r.startUpdate()
		}
		return nil
	}
	wasActive := r.active
	r.active = true
	switch {
	case wasActive && !changed:
	case r.waitingToRetry(coa):
		r.log.Info("care-of address changed during failure backoff; waiting for the retry", "care_of", coa, "retry", r.wakeTimer.at)
	default:
		r.startUpdate()
	}
	return nil
}

// HandleAck processes a Binding Acknowledgement that arrived from the
// address from. It is ignored unless it comes from the home agent and
// answers the last BU sent (by sequence number; status 135 carries the home
// agent's sequence number instead).
func (r *Registration) HandleAck(from netip.Addr, ba *mh.BindingAck) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.notify()
	switch {
	case r.closed || ba == nil:
	case from != r.ha:
		r.ignore(ba, "not from the home agent", "from", from)
	case r.out == nil:
		r.ignore(ba, "no binding update outstanding")
	case ba.Status == mh.StatusSequenceOutOfWindow:
		r.resync(ba)
	case ba.Sequence != r.out.seq:
		r.ignore(ba, "sequence number does not match", "outstanding", r.out.seq)
	default:
		r.answer(ba)
	}
}

// Deregister sends a lifetime-0 BU from the current care-of address and
// waits for its BA, retransmitting as for a registration, until ctx ends.
// It returns nil when the home agent holds no binding any more (or held
// none we knew of), a *StatusError when it refused, and ErrNoAck joined
// with ctx's error when no answer came. Afterwards nothing is sent until
// the next Move. Concurrent calls share one deregistration.
func (r *Registration) Deregister(ctx context.Context) error {
	d, err := r.startDeregistration()
	if d == nil {
		return err
	}
	select {
	case <-d.done:
	case <-ctx.Done():
		r.mu.Lock()
		if r.dereg == d {
			r.abandon(ctx.Err())
			r.notify()
		}
		r.mu.Unlock()
	}
	<-d.done
	return d.err
}

// Status returns a snapshot of the registration.
func (r *Registration) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshot()
}

// Close stops all timers; a Deregister in progress returns ErrClosed and
// later calls do nothing or return ErrClosed. It does not deregister.
func (r *Registration) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	for _, t := range []*timer{&r.ackTimer, &r.sendTimer, &r.wakeTimer, &r.expiryTimer} {
		r.disarm(t)
	}
	r.finishDereg(ErrClosed)
}
