package mobilenode

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Timers and rates (RFC 6275 §12, §13).
const (
	// DefaultLifetime is the binding lifetime asked for when
	// Config.Lifetime is 0: short enough that a vanished mobile node's
	// binding goes soon, long enough that refreshes (every 192 s) cost
	// little.
	DefaultLifetime = 4 * time.Minute
	// InitialBindackTimeoutFirstReg is the first retransmission timeout
	// when the home agent holds no binding for us.
	InitialBindackTimeoutFirstReg = 1500 * time.Millisecond
	// InitialBindackTimeout is the first retransmission timeout otherwise
	// (INITIAL_BINDACK_TIMEOUT).
	InitialBindackTimeout = time.Second
	// MaxBindackTimeout caps the doubling timeout (MAX_BINDACK_TIMEOUT).
	MaxBindackTimeout = 32 * time.Second
	// MaxUpdateRate is how many BUs may leave in any one second
	// (MAX_UPDATE_RATE).
	MaxUpdateRate = 3
	// FailureBackoff is how long a rejected registration waits before it
	// tries again.
	FailureBackoff = 32 * time.Second
)

const (
	// refreshPercent is when, in percent of the granted lifetime from the
	// BU's sending, a binding is refreshed.
	refreshPercent = 80
	// maxResyncs is how many status 135 answers in a row are followed
	// before the registration fails.
	maxResyncs = 3
)

// Config configures a Registration.
type Config struct {
	// HomeAddress and HomeAgent must be global unicast IPv6 addresses
	// (unique local addresses count as global).
	HomeAddress, HomeAgent netip.Addr
	// Lifetime is the binding lifetime asked for: 0 means
	// DefaultLifetime; otherwise at least 4 s, rounded down to 4 s units
	// and capped at mh.MaxLifetime (about 72.8 hours).
	Lifetime time.Duration
	// Sequence is the sequence number of the first BU; 0 picks one at
	// random. A home agent that remembers a newer one answers status 135
	// and the Registration resynchronises.
	Sequence uint16
	// Clock defaults to clock.Real.
	Clock clock.Clock
	// Sender sends the BUs; required.
	Sender Sender
	// Logger defaults to discarding.
	Logger *slog.Logger
	// OnState, when set, is called whenever Status.State or
	// Status.BoundCareOf changes, with the new Status. It is called with
	// the Registration's lock held: it must return quickly and must not
	// call the Registration's methods.
	OnState func(Status)
}

// Sender sends Binding Updates to the home agent.
type Sender interface {
	// SendBindingUpdate sends bu to the home agent from coa, with a Home
	// Address option carrying the home address; when coa is the home
	// address (the node is at home, bu deregisters) it sends from the home
	// address without the option (RFC 6275 §11.5.4). bu is not used after
	// the call. It is called with the Registration's lock held: it must not
	// block for long nor call the Registration's methods.
	SendBindingUpdate(coa netip.Addr, bu *mh.BindingUpdate) error
}

func (c *Config) check() error {
	if err := checkAddr("home address", c.HomeAddress); err != nil {
		return err
	}
	if err := checkAddr("home agent", c.HomeAgent); err != nil {
		return err
	}
	if c.HomeAddress == c.HomeAgent {
		return fmt.Errorf("%w: home address %s is the home agent's address", ErrInvalidConfig, c.HomeAddress)
	}
	if c.Sender == nil {
		return fmt.Errorf("%w: no sender", ErrInvalidConfig)
	}
	if c.Lifetime < 0 || c.Lifetime > 0 && c.Lifetime < mh.LifetimeUnit {
		return fmt.Errorf("%w: lifetime %v is neither 0 (default) nor at least %v", ErrInvalidConfig, c.Lifetime, mh.LifetimeUnit)
	}
	return nil
}

func checkAddr(name string, a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: %s is not set", ErrInvalidConfig, name)
	}
	if !isGlobalIPv6(a) {
		return fmt.Errorf("%w: %s %s is not a global unicast ipv6 address", ErrInvalidConfig, name, a)
	}
	return nil
}

func isGlobalIPv6(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.Zone() == "" && a.IsGlobalUnicast()
}
