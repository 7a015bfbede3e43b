package devca

import (
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
)

const (
	// DefaultSVIDTTL is the lifetime of an X.509-SVID; like SPIRE's default,
	// short enough that rotation is exercised in any long demo run.
	DefaultSVIDTTL = time.Hour
	// DefaultCATTL is the lifetime of the CA certificate.
	DefaultCATTL = 30 * 24 * time.Hour
	// backdate covers clock skew between processes checking a fresh SVID.
	backdate = 10 * time.Second
)

type config struct {
	svidTTL time.Duration
	caTTL   time.Duration
	clock   clock.Clock
}

// Option configures New.
type Option func(*config)

// WithSVIDTTL sets the lifetime of issued SVIDs (default DefaultSVIDTTL).
func WithSVIDTTL(d time.Duration) Option { return func(c *config) { c.svidTTL = d } }

// WithCATTL sets the lifetime of the CA certificate (default DefaultCATTL).
func WithCATTL(d time.Duration) Option { return func(c *config) { c.caTTL = d } }

// WithClock sets the clock used for certificate validity and rotation.
func WithClock(c clock.Clock) Option { return func(cfg *config) { cfg.clock = c } }
