package handover

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"time"
)

// Defaults of Config.
const (
	DefaultName        = "m6bench-ho"
	DefaultRate        = 10000
	DefaultRepetitions = 5
	DefaultBefore      = 500 * time.Millisecond
	DefaultAfter       = 1500 * time.Millisecond
	DefaultSize        = 64
)

// ErrConfig is returned by Run for a configuration it cannot run.
var ErrConfig = errors.New("bad handover benchmark configuration")

// Config configures Run. Zero fields take the defaults.
type Config struct {
	// BinDir holds nse-homeagent and nsc-mobile (lab.Options.BinDir).
	BinDir string
	// Name prefixes the lab's namespaces; DefaultName if empty.
	Name string
	// Dataplane is the Home Agent's data-plane driver, passed as
	// NSM_DATAPLANE ("seg6", "bpf"); empty: the daemon's default.
	Dataplane string
	// Log receives the daemons' output (lab.Options.Log); nil discards it.
	Log io.Writer
	// Progress receives a line per handover measured; nil discards them.
	Progress io.Writer
	// Rate of each flow, packets per second, and the UDP payload of a
	// packet in bytes.
	Rate, Size int
	// Repetitions of each variant.
	Repetitions int
	// Before and After are how long each flow runs before and after the
	// link event. After must cover the re-registration: a flow that has
	// not recovered when it ends counts as never recovered.
	Before, After time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.BinDir == "" {
		return c, fmt.Errorf("%w: BinDir is required", ErrConfig)
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	c.Rate = cmp.Or(c.Rate, DefaultRate)
	c.Size = cmp.Or(c.Size, DefaultSize)
	c.Repetitions = cmp.Or(c.Repetitions, DefaultRepetitions)
	c.Before = cmp.Or(c.Before, DefaultBefore)
	c.After = cmp.Or(c.After, DefaultAfter)
	if c.Rate < 0 || c.Size < 0 || c.Repetitions < 0 || c.Before < 0 || c.After < 0 {
		return c, fmt.Errorf("%w: negative rate, size, repetitions or duration", ErrConfig)
	}
	return c, nil
}

// packets is the number of packets of each flow in a run.
func (c Config) packets() int {
	return int(int64(c.Rate) * int64(c.Before+c.After) / int64(time.Second))
}
