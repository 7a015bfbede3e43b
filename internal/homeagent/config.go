package homeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// DataPlane forwards traffic for home addresses to care-of addresses.
// Bind replaces any earlier binding of the same home address.
type DataPlane interface {
	Bind(ctx context.Context, hoa, coa netip.Addr) error
	Unbind(ctx context.Context, hoa netip.Addr) error
}

// Request is what an Authorizer is asked about: may this BU register
// HomeAddress at CareOf?
type Request struct {
	HomeAddress netip.Addr
	CareOf      netip.Addr
	Source      netip.Addr
	// Interface is the index of the interface the BU arrived on, 0 when
	// unknown (Update.Interface).
	Interface int
	Update    *mh.BindingUpdate
}

// Authorizer decides whether a BU may register its home address. It
// returns nil to allow, or a *RefusalError saying which status to answer.
type Authorizer interface {
	Authorize(ctx context.Context, req Request) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, req Request) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, req Request) error { return f(ctx, req) }

// Config configures a HomeAgent.
type Config struct {
	// HomePrefixes are the prefixes whose addresses this agent serves.
	HomePrefixes []netip.Prefix
	// MaxLifetime caps the lifetime granted to a binding.
	MaxLifetime time.Duration
	// RefreshFraction, when above 0, adds a Binding Refresh Advice to
	// accepted BAs asking for a refresh after that fraction of the lifetime.
	RefreshFraction float64
	// Authorizer is asked after the home prefix check; nil allows every
	// home address on a home prefix.
	Authorizer Authorizer
	DataPlane  DataPlane
	Clock      clock.Clock   // nil: the system clock
	Logger     *slog.Logger  // nil: slog.Default()
	Observer   Observer      // nil: nothing observed
	Timeout    time.Duration // bound on one data-plane call; 0: 5 s
}

// Observer is told the outcome of every BU, for metrics.
type Observer interface {
	// Processed is called once per BU with the status answered (or
	// dropped=true when the BU was discarded without an answer) and the
	// time processing took, data-plane programming included.
	Processed(status mh.Status, dropped bool, took time.Duration)
	// BindingsChanged is called with the new number of bindings.
	BindingsChanged(n int)
}

// ErrConfig is the cause of every configuration error.
var ErrConfig = errors.New("invalid home agent configuration")

func (c *Config) validate() error {
	if len(c.HomePrefixes) == 0 {
		return fmt.Errorf("%w: no home prefix", ErrConfig)
	}
	for _, p := range c.HomePrefixes {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p != p.Masked() {
			return fmt.Errorf("%w: home prefix %q is not a masked IPv6 prefix", ErrConfig, p)
		}
	}
	if c.MaxLifetime <= 0 || c.MaxLifetime > mh.MaxLifetime.Duration() {
		return fmt.Errorf("%w: max lifetime %v is not in (0, %v]", ErrConfig, c.MaxLifetime, mh.MaxLifetime.Duration())
	}
	if c.RefreshFraction < 0 || c.RefreshFraction >= 1 {
		return fmt.Errorf("%w: refresh fraction %v is not in [0, 1)", ErrConfig, c.RefreshFraction)
	}
	if c.DataPlane == nil {
		return fmt.Errorf("%w: no data plane", ErrConfig)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
}

type nopObserver struct{}

func (nopObserver) Processed(mh.Status, bool, time.Duration) {}
func (nopObserver) BindingsChanged(int)                      {}
