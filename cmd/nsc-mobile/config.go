package main

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/common"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/tools/nsurl"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// Modes.
const (
	modeStandalone = "standalone"
	modeNSM        = "nsm"
)

// Config is read from NSM_* environment variables.
type Config struct {
	Mode     string `default:"standalone" desc:"standalone: register over this host's access interfaces; nsm: register over a Network Service Mesh connection to the home agent, which gives the home address and the care-of address (variables marked standalone or nsm mode apply only there)"`
	Instance string `default:"mn" desc:"names this instance's kernel objects: nftables tables mip6mesh-<instance> (signalling) and mip6mesh-dp-<instance> (tunnels)"`
	// The mobile node, standalone.
	HomeAddress      netip.Addr   `split_words:"true" desc:"standalone mode, required: the home address to keep reachable"`
	HomePrefix       netip.Prefix `split_words:"true" desc:"standalone mode, required: the home prefix the home address is on"`
	HomeAgentAddress netip.Addr   `split_words:"true" desc:"standalone mode, required: the Home Agent's address"`
	AccessInterfaces []string     `split_words:"true" desc:"standalone mode, required: access interfaces, most preferred first (comma separated); the first one up with a global address gives the care-of address"`
	// Both modes.
	Lifetime time.Duration `default:"4m" desc:"binding lifetime to ask for"`
	MHSocket string        `split_words:"true" default:"af_packet" desc:"how Mobility Header packets are received: af_packet (works on every kernel), raw_mh (kernel MIP6; needs xfrm route-optimisation states for packets with a Home Address option or a type 2 routing header, which are not installed yet) or auto (raw_mh where the kernel has MIP6)"`
	ListenOn string        `split_words:"true" default:"localhost:9481" desc:"address of the HTTP endpoints /status, /healthz and, in nsm mode, /metrics"`
	LogLevel string        `split_words:"true" default:"INFO" desc:"DEBUG, INFO, WARN or ERROR"`
	// The NSM client.
	Name                  string            `default:"nsc-mobile" desc:"nsm mode: this client's name; its connection is <name>-0"`
	ConnectTo             url.URL           `split_words:"true" default:"unix:///var/lib/networkservicemesh/nsm.io.sock" desc:"nsm mode: the NSM manager to connect to (unix:///path or tcp://host:port)"`
	NetworkServices       []url.URL         `split_words:"true" default:"kernel://home-agent/nsm-1" desc:"nsm mode: the one network service to connect to, as kernel://<service>[@<domain>]/<interface>[?label=value], e.g. kernel://home-agent@my.cluster3/nsm-1"`
	Labels                map[string]string `desc:"nsm mode: labels of the request, key:value pairs comma separated; they override the URL's"`
	DialTimeout           time.Duration     `split_words:"true" default:"5s" desc:"nsm mode: how long to wait for the NSM manager to accept a connection"`
	RequestTimeout        time.Duration     `split_words:"true" default:"15s" desc:"nsm mode: how long the first request (retried) may take, registration with the home agent included"`
	MaxTokenLifetime      time.Duration     `split_words:"true" default:"10m" desc:"nsm mode: the longest lifetime of the tokens this client signs"`
	LivenessCheckEnabled  bool              `split_words:"true" default:"true" desc:"nsm mode: ping the endpoint over the vWire and heal the connection when it stops answering"`
	LivenessCheckInterval time.Duration     `split_words:"true" default:"200ms" desc:"nsm mode: time between liveness checks"`
	LivenessCheckTimeout  time.Duration     `split_words:"true" default:"1s" desc:"nsm mode: how long a liveness check waits for the echo reply"`
}

// LogLevelName implements cli.Daemon.
func (c *Config) LogLevelName() string { return c.LogLevel }

func (c *Config) check() error {
	if !slices.Contains([]string{"af_packet", "raw_mh", "auto"}, c.MHSocket) {
		return fmt.Errorf("NSM_MH_SOCKET %q: want af_packet, raw_mh or auto", c.MHSocket)
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

// standaloneSet tells which of the standalone-only variables are set.
func (c *Config) standaloneSet() map[string]bool {
	return map[string]bool{"NSM_HOME_ADDRESS": c.HomeAddress.IsValid(), "NSM_HOME_PREFIX": c.HomePrefix.IsValid(),
		"NSM_HOME_AGENT_ADDRESS": c.HomeAgentAddress.IsValid(), "NSM_ACCESS_INTERFACES": len(c.AccessInterfaces) > 0}
}

func (c *Config) checkStandalone() error {
	set := c.standaloneSet()
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !set[name] {
			return fmt.Errorf("%s is required in standalone mode", name)
		}
	}
	if !c.HomePrefix.Contains(c.HomeAddress) {
		return fmt.Errorf("NSM_HOME_ADDRESS %s is not on NSM_HOME_PREFIX %s", c.HomeAddress, c.HomePrefix)
	}
	return nil
}

// checkNSM also refuses the standalone variables: in nsm mode the home
// agent hands out the addresses, and setting them suggests a mix-up.
func (c *Config) checkNSM() error {
	standalone := c.standaloneSet()
	for _, name := range slices.Sorted(maps.Keys(standalone)) {
		if standalone[name] {
			return fmt.Errorf("%s applies to standalone mode only: in nsm mode the home agent gives the addresses over the connection", name)
		}
	}
	if c.Name == "" {
		return errors.New("NSM_NAME is empty: the client needs a name")
	}
	if err := cli.CheckConnectTo(&c.ConnectTo); err != nil {
		return err
	}
	durations := []struct {
		name string
		d    time.Duration
	}{{"NSM_DIAL_TIMEOUT", c.DialTimeout}, {"NSM_REQUEST_TIMEOUT", c.RequestTimeout}, {"NSM_MAX_TOKEN_LIFETIME", c.MaxTokenLifetime},
		{"NSM_LIVENESS_CHECK_INTERVAL", c.LivenessCheckInterval}, {"NSM_LIVENESS_CHECK_TIMEOUT", c.LivenessCheckTimeout}}
	for _, d := range durations {
		if d.d <= 0 {
			return fmt.Errorf("%s %v: want a positive duration", d.name, d.d)
		}
	}
	_, err := c.service()
	return err
}

// service is the network service to request, read from NSM_NETWORK_SERVICES.
type service struct {
	Name      string // with @<domain> for interdomain
	Interface string // the client-side interface of the vWire
	Labels    map[string]string
	Mechanism *networkservice.Mechanism // kernel, naming Interface
}

// maxInterfaceName is IFNAMSIZ less the terminating NUL.
const maxInterfaceName = 15

func (c *Config) service() (service, error) {
	if len(c.NetworkServices) != 1 {
		return service{}, fmt.Errorf("NSM_NETWORK_SERVICES %q: want exactly one kernel:// URL", urlStrings(c.NetworkServices))
	}
	u := (*nsurl.NSURL)(&c.NetworkServices[0])
	raw := c.NetworkServices[0].String()
	mech := u.Mechanism()
	ifname := mech.GetParameters()[common.InterfaceNameKey]
	switch {
	case mech.GetType() != kernelmech.MECHANISM:
		return service{}, fmt.Errorf("NSM_NETWORK_SERVICES %q: mechanism %q, want kernel://", raw, c.NetworkServices[0].Scheme)
	case u.NetworkService() == "":
		return service{}, fmt.Errorf("NSM_NETWORK_SERVICES %q: no network service name", raw)
	case ifname == "" || len(ifname) > maxInterfaceName || strings.ContainsAny(ifname, "/ \t"):
		return service{}, fmt.Errorf("NSM_NETWORK_SERVICES %q: interface name %q: want 1 to %d characters after the service, e.g. kernel://home-agent/nsm-1",
			raw, ifname, maxInterfaceName)
	}
	labels := u.Labels()
	maps.Copy(labels, c.Labels)
	return service{Name: u.NetworkService(), Interface: ifname, Labels: labels, Mechanism: mech}, nil
}

func urlStrings(us []url.URL) []string {
	out := make([]string, len(us))
	for i := range us {
		out[i] = us[i].String()
	}
	return out
}

// mhMode is the mhio mode NSM_MH_SOCKET asks for ("" lets mhio detect it).
func (c *Config) mhMode() mhio.Mode {
	if c.MHSocket == "auto" {
		return ""
	}
	return mhio.Mode(c.MHSocket)
}
