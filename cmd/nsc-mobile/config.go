package main

import (
	"fmt"
	"net/netip"
	"time"
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
	ListenOn         string        `split_words:"true" default:"localhost:9481" desc:"address of the HTTP endpoints /status and /healthz"`
	LogLevel         string        `split_words:"true" default:"INFO" desc:"DEBUG, INFO, WARN or ERROR"`
}

func (c *Config) check() error {
	if c.Mode != "standalone" {
		return fmt.Errorf("NSM_MODE %q: only standalone is available", c.Mode)
	}
	if !c.HomePrefix.Contains(c.HomeAddress) {
		return fmt.Errorf("NSM_HOME_ADDRESS %s is not on NSM_HOME_PREFIX %s", c.HomeAddress, c.HomePrefix)
	}
	return nil
}
