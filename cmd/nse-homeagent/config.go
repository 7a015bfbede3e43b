package main

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// Config is read from NSM_* environment variables.
type Config struct {
	Mode             string        `default:"standalone" desc:"standalone: serve the home prefix on this host's interfaces (the only mode so far; nsm mode comes with the NSM endpoint)"`
	Instance         string        `default:"ha" desc:"names this instance's kernel objects: nftables tables mip6mesh-<instance> (signalling) and mip6mesh-dp-<instance> (tunnels)"`
	HomePrefix       netip.Prefix  `split_words:"true" required:"true" desc:"the home prefix whose addresses this agent serves, e.g. 2001:db8:1::/64"`
	HomeAgentAddress netip.Addr    `split_words:"true" required:"true" desc:"this agent's address: the tunnel endpoint and the source of its Binding Acknowledgements"`
	HomeLink         string        `split_words:"true" desc:"interface of a real home link on which the agent answers neighbour discovery for registered home addresses (proxy ND); empty: the home prefix is routed to the agent"`
	Interfaces       []string      `desc:"interfaces to receive Binding Updates on, comma separated; empty: all"`
	AllowedHomes     []netip.Addr  `split_words:"true" desc:"if set, only these home addresses may register (comma separated)"`
	MaxLifetime      time.Duration `split_words:"true" default:"5m" desc:"the longest binding lifetime granted"`
	RefreshAdvice    float64       `split_words:"true" default:"0.5" desc:"fraction of the lifetime after which a mobile node is advised to refresh (Binding Refresh Advice); 0 turns the option off"`
	DataPlane        string        `envconfig:"DATAPLANE" default:"seg6" desc:"data-plane driver: seg6 (SRv6 lightweight tunnels, a route per binding: about ten thousand bindings; proxy ND) or bpf (one LWT BPF route and a hash map: a million bindings; virtual home network only)"`
	MHSocket         string        `split_words:"true" default:"af_packet" desc:"how Mobility Header packets are received: af_packet (works on every kernel), raw_mh (kernel MIP6; needs xfrm route-optimisation states for packets with a Home Address option or a type 2 routing header, which are not installed yet) or auto (raw_mh where the kernel has MIP6)"`
	ListenOn         string        `split_words:"true" default:"localhost:9480" desc:"address of the HTTP endpoints /bindings, /metrics and /healthz"`
	LogLevel         string        `split_words:"true" default:"INFO" desc:"DEBUG, INFO, WARN or ERROR"`
}

// LogLevelName implements cli.Daemon.
func (c *Config) LogLevelName() string { return c.LogLevel }

func (c *Config) check() error {
	if _, ok := dataPlaneDrivers[c.DataPlane]; !ok {
		return fmt.Errorf("NSM_DATAPLANE %q: want one of %v", c.DataPlane, slices.Sorted(maps.Keys(dataPlaneDrivers)))
	}
	if !slices.Contains([]string{"af_packet", "raw_mh", "auto"}, c.MHSocket) {
		return fmt.Errorf("NSM_MH_SOCKET %q: want af_packet, raw_mh or auto", c.MHSocket)
	}
	if c.Mode != "standalone" {
		return fmt.Errorf("NSM_MODE %q: only standalone is available", c.Mode)
	}
	if !c.HomeAgentAddress.Is6() || !c.HomeAgentAddress.IsGlobalUnicast() {
		return fmt.Errorf("NSM_HOME_AGENT_ADDRESS %q is not a global unicast address", c.HomeAgentAddress)
	}
	for _, a := range c.AllowedHomes {
		if !c.HomePrefix.Contains(a) {
			return fmt.Errorf("NSM_ALLOWED_HOMES: %s is not on the home prefix %s", a, c.HomePrefix)
		}
	}
	return nil
}

// dataPlane is the data-plane configuration of this agent.
func (c *Config) dataPlane() dataplane.Config {
	return dataplane.Config{Instance: c.Instance, HomeAgent: c.HomeAgentAddress, HomePrefix: c.HomePrefix,
		HomeLink: c.HomeLink}
}

// mhMode is the mhio mode NSM_MH_SOCKET asks for ("" lets mhio detect it).
func (c *Config) mhMode() mhio.Mode {
	if c.MHSocket == "auto" {
		return ""
	}
	return mhio.Mode(c.MHSocket)
}
