package main

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// Modes.
const (
	modeStandalone = "standalone"
	modeNSM        = "nsm"
)

// Config is read from NSM_* environment variables.
type Config struct {
	Mode     string `default:"standalone" desc:"standalone: serve the home prefix on this host's interfaces; nsm: serve it as a Network Service Mesh endpoint, to clients on vWires (variables marked nsm mode apply only there)"`
	Instance string `default:"ha" desc:"names this instance's kernel objects: nftables tables mip6mesh-<instance> (signalling) and mip6mesh-dp-<instance> (tunnels)"`
	// The Home Agent, in both modes.
	HomePrefix       netip.Prefix  `split_words:"true" required:"true" desc:"the home prefix whose addresses this agent serves, e.g. 2001:db8:1::/64"`
	HomeAgentAddress netip.Addr    `split_words:"true" required:"true" desc:"this agent's address: the tunnel endpoint and the source of its Binding Acknowledgements; put on lo (and taken off at shutdown) when no interface holds it"`
	HomeLink         string        `split_words:"true" desc:"interface of a real home link on which the agent answers neighbour discovery for registered home addresses (proxy ND); empty: the home prefix is routed to the agent"`
	Interfaces       []string      `desc:"standalone mode: interfaces to receive Binding Updates on, comma separated; empty: all (nsm mode always receives on all: the vWires come and go)"`
	AllowedHomes     []netip.Addr  `split_words:"true" desc:"standalone mode: if set, only these home addresses may register (comma separated)"`
	MaxLifetime      time.Duration `split_words:"true" default:"5m" desc:"the longest binding lifetime granted"`
	RefreshAdvice    float64       `split_words:"true" default:"0.5" desc:"fraction of the lifetime after which a mobile node is advised to refresh (Binding Refresh Advice); 0 turns the option off"`
	DataPlane        string        `envconfig:"DATAPLANE" default:"seg6" desc:"data-plane driver: seg6 (SRv6 lightweight tunnels, a route per binding: about ten thousand bindings; proxy ND) or bpf (one LWT BPF route and a hash map: a million bindings; virtual home network only)"`
	MHSocket         string        `split_words:"true" default:"af_packet" desc:"how Mobility Header packets are received: af_packet (works on every kernel), raw_mh (kernel MIP6; needs xfrm route-optimisation states for packets with a Home Address option or a type 2 routing header, which are not installed yet) or auto (raw_mh where the kernel has MIP6)"`
	ListenOn         string        `split_words:"true" default:"localhost:9480" desc:"address of the HTTP endpoints /bindings, /metrics and /healthz"`
	LogLevel         string        `split_words:"true" default:"INFO" desc:"DEBUG, INFO, WARN or ERROR"`
	// The NSM endpoint.
	Name              string            `default:"nse-homeagent" desc:"nsm mode: this endpoint's name in the NSM registry, unique (in Kubernetes: the pod name, with @<domain> for interdomain)"`
	ConnectTo         url.URL           `split_words:"true" default:"unix:///var/lib/networkservicemesh/nsm.io.sock" desc:"nsm mode: the NSM manager to register with (unix:///path or tcp://host:port)"`
	ServiceNames      []string          `split_words:"true" default:"home-agent" desc:"nsm mode: the network services this endpoint serves, comma separated"`
	Labels            map[string]string `desc:"nsm mode: this endpoint's labels for each of its services, key:value pairs comma separated"`
	RegisterService   bool              `split_words:"true" default:"true" desc:"nsm mode: also register the network services (false when they are registered elsewhere, e.g. on a floating registry)"`
	CidrPrefix        netip.Prefix      `split_words:"true" desc:"nsm mode, required: the IPv6 prefix of the vWires, off the home prefix; each client gets a /128 from it, its care-of address"`
	MaxTokenLifetime  time.Duration     `split_words:"true" default:"10m" desc:"nsm mode: the longest lifetime of the tokens this endpoint signs"`
	HomeAddressPolicy string            `split_words:"true" desc:"nsm mode: JSON file mapping SPIFFE IDs to home addresses ({\"spiffe://td/ns/x/sa/y\": \"2001:db8:1::100\"}); listed identities get their address, others are refused; empty: each identity's home address is derived from its SPIFFE ID"`
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
	if !c.HomeAgentAddress.Is6() || !c.HomeAgentAddress.IsGlobalUnicast() {
		return fmt.Errorf("NSM_HOME_AGENT_ADDRESS %q is not a global unicast address", c.HomeAgentAddress)
	}
	switch c.Mode {
	case modeStandalone:
		return c.checkStandalone()
	case modeNSM:
		return c.checkNSM()
	default:
		return fmt.Errorf("NSM_MODE %q: want %s or %s", c.Mode, modeStandalone, modeNSM)
	}
}

func (c *Config) checkStandalone() error {
	for _, a := range c.AllowedHomes {
		if !c.HomePrefix.Contains(a) {
			return fmt.Errorf("NSM_ALLOWED_HOMES: %s is not on the home prefix %s", a, c.HomePrefix)
		}
	}
	if c.HomeAddressPolicy != "" {
		return fmt.Errorf("NSM_HOME_ADDRESS_POLICY %q applies to nsm mode only; in standalone mode use NSM_ALLOWED_HOMES", c.HomeAddressPolicy)
	}
	return nil
}

func (c *Config) checkNSM() error {
	switch {
	case len(c.AllowedHomes) > 0:
		return fmt.Errorf("NSM_ALLOWED_HOMES %v applies to standalone mode only; in nsm mode use NSM_HOME_ADDRESS_POLICY", c.AllowedHomes)
	case len(c.Interfaces) > 0:
		return fmt.Errorf("NSM_INTERFACES %v applies to standalone mode only: in nsm mode the vWires come and go and every interface is listened on", c.Interfaces)
	case c.Name == "":
		return errors.New("NSM_NAME is empty: the endpoint needs a name")
	case len(c.ServiceNames) == 0 || slices.Contains(c.ServiceNames, ""):
		return fmt.Errorf("NSM_SERVICE_NAMES %q: want one or more service names", c.ServiceNames)
	case c.MaxTokenLifetime <= 0:
		return fmt.Errorf("NSM_MAX_TOKEN_LIFETIME %v: want a positive duration", c.MaxTokenLifetime)
	}
	if err := cli.CheckConnectTo(&c.ConnectTo); err != nil {
		return err
	}
	return c.checkCidrPrefix()
}

// checkCidrPrefix: the vWire prefix gives care-of addresses, which must be
// global and off the home prefix (a care-of address on it would read as
// "at home").
func (c *Config) checkCidrPrefix() error {
	p := c.CidrPrefix
	switch {
	case !p.IsValid():
		return errors.New("NSM_CIDR_PREFIX is not set: nsm mode needs the vWire prefix, e.g. fd00:6d36::/64")
	case !p.Addr().Is6() || p.Addr().Is4In6():
		return fmt.Errorf("NSM_CIDR_PREFIX %s is not an IPv6 prefix", p)
	case !p.Addr().IsGlobalUnicast():
		return fmt.Errorf("NSM_CIDR_PREFIX %s is not global unicast: care-of addresses must be", p)
	case p.Bits() > 126:
		return fmt.Errorf("NSM_CIDR_PREFIX %s is too small: want /126 or shorter", p)
	case p.Overlaps(c.HomePrefix):
		return fmt.Errorf("NSM_CIDR_PREFIX %s overlaps NSM_HOME_PREFIX %s", p, c.HomePrefix)
	case p.Contains(c.HomeAgentAddress):
		return fmt.Errorf("NSM_CIDR_PREFIX %s holds NSM_HOME_AGENT_ADDRESS %s", p, c.HomeAgentAddress)
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
