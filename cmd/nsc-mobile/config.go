package main

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// Config is read from NSM_* environment variables.
type Config struct {
	Mode             string        `default:"standalone" desc:"standalone: register over this host's access interfaces (the only mode so far; nsm mode comes with the NSM client)"`
	Instance         string        `default:"mn" desc:"names this instance's kernel objects: nftables tables mip6mesh-<instance> (signalling) and mip6mesh-dp-<instance> (tunnels)"`
	HomeAddress      netip.Addr    `split_words:"true" required:"true" desc:"the home address to keep reachable"`
	HomePrefix       netip.Prefix  `split_words:"true" required:"true" desc:"the home prefix the home address is on"`
	HomeAgentAddress netip.Addr    `split_words:"true" required:"true" desc:"the Home Agent's address"`
	AccessInterfaces []string      `split_words:"true" required:"true" desc:"access interfaces, most preferred first (comma separated); the first one up with a global address gives the care-of address"`
	Lifetime         time.Duration `default:"4m" desc:"binding lifetime to ask for"`
	MHSocket         string        `split_words:"true" default:"af_packet" desc:"how Mobility Header packets are received: af_packet (works on every kernel), raw_mh (kernel MIP6; needs xfrm route-optimisation states for packets with a Home Address option or a type 2 routing header, which are not installed yet) or auto (raw_mh where the kernel has MIP6)"`
	ListenOn         string        `split_words:"true" default:"localhost:9481" desc:"address of the HTTP endpoints /status and /healthz"`
	LogLevel         string        `split_words:"true" default:"INFO" desc:"DEBUG, INFO, WARN or ERROR"`
}

// LogLevelName implements cli.Daemon.
func (c *Config) LogLevelName() string { return c.LogLevel }

func (c *Config) check() error {
	if !slices.Contains([]string{"af_packet", "raw_mh", "auto"}, c.MHSocket) {
		return fmt.Errorf("NSM_MH_SOCKET %q: want af_packet, raw_mh or auto", c.MHSocket)
	}
	if c.Mode != "standalone" {
		return fmt.Errorf("NSM_MODE %q: only standalone is available", c.Mode)
	}
	if !c.HomePrefix.Contains(c.HomeAddress) {
		return fmt.Errorf("NSM_HOME_ADDRESS %s is not on NSM_HOME_PREFIX %s", c.HomeAddress, c.HomePrefix)
	}
	return nil
}

// mhMode is the mhio mode NSM_MH_SOCKET asks for ("" lets mhio detect it).
func (c *Config) mhMode() mhio.Mode {
	if c.MHSocket == "auto" {
		return ""
	}
	return mhio.Mode(c.MHSocket)
}
