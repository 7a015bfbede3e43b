package datapath

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"time"
)

// Defaults of Config.
const (
	DefaultName        = "m6bench-dp"
	DefaultDuration    = 5 * time.Second
	DefaultRepetitions = 3
	DefaultProbes      = 2000
	DefaultProbeRate   = 1000
	DefaultProbeSize   = 64
)

// ErrConfig is returned by Run for a configuration it cannot run.
var ErrConfig = errors.New("bad datapath benchmark configuration")

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
	// Progress receives a line per measurement taken; nil discards them.
	Progress io.Writer
	// Duration of each iperf3 run, in whole seconds (rounded up).
	Duration time.Duration
	// Repetitions of every measurement; the result is their median.
	Repetitions int
	// Probes is the number of one-way UDP probes and of echo requests
	// per path and repetition, sent ProbeRate per second, each a UDP
	// payload of ProbeSize bytes.
	Probes, ProbeRate, ProbeSize int
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
	c.Duration = cmp.Or(c.Duration, DefaultDuration)
	c.Repetitions = cmp.Or(c.Repetitions, DefaultRepetitions)
	c.Probes = cmp.Or(c.Probes, DefaultProbes)
	c.ProbeRate = cmp.Or(c.ProbeRate, DefaultProbeRate)
	c.ProbeSize = cmp.Or(c.ProbeSize, DefaultProbeSize)
	if c.Duration < 0 || c.Repetitions < 0 || c.Probes < 0 || c.ProbeRate < 0 || c.ProbeSize < 0 {
		return c, fmt.Errorf("%w: negative duration, repetitions or probe setting", ErrConfig)
	}
	return c, nil
}

// iperfSeconds is Duration in whole seconds, at least one.
func (c Config) iperfSeconds() int {
	return max(1, int((c.Duration+time.Second-1)/time.Second))
}
