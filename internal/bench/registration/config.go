package registration

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"
)

// Errors of Run, usable with errors.Is.
var (
	// ErrConfig: a bad Config field.
	ErrConfig = errors.New("bad registration benchmark config")
	// ErrDataplane: the daemon cannot run the data plane asked for.
	ErrDataplane = errors.New("data plane not available")
	// ErrHomeAgentExited: the daemon exited during the run.
	ErrHomeAgentExited = errors.New("home agent exited")
)

// Dataplanes are the drivers Config.Dataplane accepts.
var Dataplanes = []string{"seg6", "bpf"}

// DefaultSteps are the live-binding counts measured by default.
var DefaultSteps = []int{1, 1_000, 10_000, 100_000, 1_000_000}

// Defaults of Config's zero fields.
const (
	DefaultSamples    = 1000
	DefaultWindow     = 64
	DefaultWait       = 2 * time.Second
	DefaultHALogLevel = "INFO"
)

// maxLifetime is NSM_MAX_LIFETIME and the lifetime every BU asks for:
// nothing expires during a run.
const maxLifetime = time.Hour

// Config configures Run.
type Config struct {
	// BinDir holds nse-homeagent.
	BinDir string
	// Dataplane is the Home Agent's data-plane driver (NSM_DATAPLANE):
	// "seg6" or "bpf".
	Dataplane string
	// Steps are the live-binding counts to measure at, ascending.
	// DefaultSteps when empty.
	Steps []int
	// Samples is how many Binding Updates of each kind are timed one at a
	// time at each step. DefaultSamples when 0.
	Samples int
	// Window is how many Binding Updates are in flight while the bindings
	// are filled in. DefaultWindow when 0.
	Window int
	// Wait is how long a BA may take before its BU counts as lost.
	// DefaultWait when 0.
	Wait time.Duration
	// HALogLevel is NSM_LOG_LEVEL. DefaultHALogLevel when empty: accepted
	// BUs are logged at DEBUG, so INFO costs nothing per binding, and it
	// gives the reason of a refusal and the driver the daemon started.
	HALogLevel string
	// Namespaces prefixes the namespace names ("m6bench-reg" when empty).
	Namespaces string
	// Log receives the narration and the daemon's first lines of output;
	// nil discards them.
	Log io.Writer
	// Seed makes the choice of moved bindings reproducible.
	Seed uint64

	// unroutedFrom, when positive, takes the care-of addresses of filled
	// bindings from this index on from a prefix the Home Agent cannot
	// route: the data plane refuses them (tests of the scale limit).
	unroutedFrom int
}

var namespacePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)

func (c Config) withDefaults() Config {
	if len(c.Steps) == 0 {
		c.Steps = DefaultSteps
	}
	c.Samples = cmp.Or(c.Samples, DefaultSamples)
	c.Window = cmp.Or(c.Window, DefaultWindow)
	c.Wait = cmp.Or(c.Wait, DefaultWait)
	if c.HALogLevel == "" {
		c.HALogLevel = DefaultHALogLevel
	}
	if c.Namespaces == "" {
		c.Namespaces = "m6bench-reg"
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

func (c Config) validate() error {
	switch {
	case !slices.Contains(Dataplanes, c.Dataplane):
		return fmt.Errorf("%w: data plane %q: want one of %v", ErrConfig, c.Dataplane, Dataplanes)
	case !slices.IsSorted(c.Steps) || c.Steps[0] < 1:
		return fmt.Errorf("%w: steps %v: want ascending counts of at least 1", ErrConfig, c.Steps)
	case c.Steps[len(c.Steps)-1] > 1<<40:
		return fmt.Errorf("%w: steps %v: at most 2^40 bindings", ErrConfig, c.Steps)
	case c.Samples < 1 || c.Window < 1 || c.Wait <= 0:
		return fmt.Errorf("%w: samples %d, window %d, wait %v: want positive values", ErrConfig, c.Samples, c.Window, c.Wait)
	case !namespacePattern.MatchString(c.Namespaces):
		return fmt.Errorf("%w: namespace prefix %q: want %s", ErrConfig, c.Namespaces, namespacePattern)
	}
	return nil
}
