package nsmlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"time"

	"github.com/networkservicemesh/api/pkg/api/registry"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	"github.com/vishvananda/netlink"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/netns"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
)

// DefaultName is the namespace name prefix when Options.Name is empty.
const DefaultName = "m6nsm"

// tokenLifetime bounds the NSM domain's JWT tokens.
const tokenLifetime = 10 * time.Minute

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)

// Options configure New.
type Options struct {
	// Name prefixes the namespaces (DefaultName if empty).
	Name string
	// BinDir holds the nse-homeagent and nsc-mobile binaries.
	BinDir string
	// Log receives the daemons' output, each line prefixed "[ha-1] ",
	// "[mn-1] "...; nil discards it.
	Log io.Writer
	// HomeAgents and MobileNodes: how many of each (1 or 2; 0 means 1).
	HomeAgents, MobileNodes int
	// Interdomain runs floating interdomain: the mobile nodes in
	// my.cluster1, the Home Agents in my.cluster2, the network service in
	// the floating registry my.cluster3. Otherwise one domain.
	Interdomain bool
	// Identities hands out SPIFFE identities; nil: a development CA. The
	// lab closes it.
	Identities Identities
}

// Lab is the running topology and NSM domain.
type Lab struct {
	*lab.Runner
	CN *netns.NS
	HA []*netns.NS // Home Agent i is HA[i-1]
	MN []*netns.NS // mobile node i is MN[i-1]

	Identities  Identities
	Domain      *nsmdomain.Domain      // the single domain, nil with Interdomain
	Interdomain *nsmdomain.Interdomain // nil without Interdomain

	opts    Options
	mobiles []*lab.Process // stopped first at Close: their deregistration needs the Home Agents
	dir     string         // sockets
	stopNSM context.CancelFunc
}

// New builds the namespaces, the home link and the NSM domain(s). If a
// step fails, it removes what it made. The caller must Close the lab.
func New(ctx context.Context, opts Options) (*Lab, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	l := &Lab{opts: opts, Runner: lab.NewRunner(opts.BinDir, opts.Log), Identities: opts.Identities}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("build NSM lab: %w", err), l.Close())
	}
	return l, nil
}

func withDefaults(opts Options) (Options, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if !namePattern.MatchString(opts.Name) {
		return opts, fmt.Errorf("lab name %q: want %s", opts.Name, namePattern)
	}
	for _, n := range []*int{&opts.HomeAgents, &opts.MobileNodes} {
		if *n == 0 {
			*n = 1
		}
		if *n < 1 || *n > 2 {
			return opts, fmt.Errorf("%d Home Agents or mobile nodes: the lab has 1 or 2", *n)
		}
	}
	return opts, nil
}

func (l *Lab) build(ctx context.Context) error {
	var err error
	if l.dir, err = os.MkdirTemp("", "m6nsm-"); err != nil {
		return err
	}
	if l.Identities == nil {
		if l.Identities, err = NewDevIdentities(l.dir); err != nil {
			return err
		}
	}
	if err := l.buildNamespaces(); err != nil {
		return err
	}
	return l.startNSM(ctx)
}

// buildNamespaces makes the CN with the home-link bridge, the Home Agents
// with a port on it each, and the mobile nodes (whose vWires the forwarder
// makes).
func (l *Lab) buildNamespaces() error {
	suffix := netns.UniqueName("")
	create := func(role string) (*netns.NS, error) {
		return netns.Create(fmt.Sprintf("%s-%s-%s", l.opts.Name, role, suffix))
	}
	var err error
	if l.CN, err = create("cn"); err != nil {
		return err
	}
	if err := l.addHomeBridge(); err != nil {
		return err
	}
	for i := 1; i <= l.opts.HomeAgents; i++ {
		ha, err := create(fmt.Sprintf("ha%d", i))
		if err != nil {
			return err
		}
		l.HA = append(l.HA, ha)
		if err := l.plugIntoHomeLink(i, ha); err != nil {
			return err
		}
	}
	for i := 1; i <= l.opts.MobileNodes; i++ {
		mn, err := create(fmt.Sprintf("mn%d", i))
		if err != nil {
			return err
		}
		l.MN = append(l.MN, mn)
	}
	return nil
}

func (l *Lab) addHomeBridge() error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: HomeBridge}}
	if err := l.CN.Netlink().LinkAdd(br); err != nil {
		return fmt.Errorf("bridge %s in %s: %w", HomeBridge, l.CN.Name(), err)
	}
	if err := l.CN.LinkUp(HomeBridge); err != nil {
		return err
	}
	return l.CN.AddAddr(HomeBridge, netip.PrefixFrom(CNAddr, HomePrefix.Bits()))
}

// plugIntoHomeLink connects Home Agent i's h0 to port p<i> of the bridge
// and gives it its Home Agent address.
func (l *Lab) plugIntoHomeLink(i int, ha *netns.NS) error {
	port := fmt.Sprintf("p%d", i)
	if err := netns.Veth(l.CN, ha, port, HAHomeLink); err != nil {
		return err
	}
	nl := l.CN.Netlink()
	link, err := nl.LinkByName(port)
	if err == nil {
		var br netlink.Link
		if br, err = nl.LinkByName(HomeBridge); err == nil {
			err = nl.LinkSetMaster(link, br)
		}
	}
	if err != nil {
		return fmt.Errorf("attach %s to %s in %s: %w", port, HomeBridge, l.CN.Name(), err)
	}
	return ha.AddAddr(HAHomeLink, netip.PrefixFrom(HAAddr(i), HomePrefix.Bits()))
}

// startNSM starts the in-process NSM domain(s) with the domain's identity.
func (l *Lab) startNSM(ctx context.Context) error {
	svid, bundle, err := l.Identities.DomainSources(ctx)
	if err != nil {
		return fmt.Errorf("NSM domain identity: %w", err)
	}
	creds := nsmdomain.MTLS(svid, bundle, tokenLifetime)
	nsmCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stopNSM = stop
	if !l.opts.Interdomain {
		l.Domain, err = nsmdomain.New(nsmCtx, nsmdomain.Config{Dir: l.dir, Credentials: creds})
		return err
	}
	if l.Interdomain, err = nsmdomain.NewFloatingInterdomain(nsmCtx, nsmdomain.InterdomainConfig{Dir: l.dir, Credentials: creds}); err != nil {
		return err
	}
	return l.registerFloatingService(nsmCtx, creds)
}

// registerFloatingService puts the network service into the floating
// registry, as cluster3's NetworkService resource does in a real
// deployment; the Home Agents then register only themselves.
func (l *Lab) registerFloatingService(ctx context.Context, creds nsmdomain.Credentials) error {
	c := registryclient.NewNetworkServiceRegistryClient(ctx,
		registryclient.WithClientURL(l.Interdomain.Endpoint.RegistryURL),
		registryclient.WithDialOptions(creds.DialOptions()...))
	regCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Register(regCtx, &registry.NetworkService{Name: l.Service(), Payload: "IP"}); err != nil {
		return fmt.Errorf("register network service %s: %w", l.Service(), err)
	}
	return nil
}

// Service is the network service the mobile nodes request.
func (l *Lab) Service() string {
	if l.Interdomain != nil {
		return ServiceName + "@" + l.Interdomain.Floating.Name
	}
	return ServiceName
}

// endpointName is Home Agent i's NSM name.
func (l *Lab) endpointName(i int) string {
	if l.Interdomain != nil {
		return EndpointName(i) + "@" + l.Interdomain.Floating.Name
	}
	return EndpointName(i)
}

// Close stops the daemons (the mobile nodes first, so that they can
// deregister), the NSM domain and the identities, and deletes the
// namespaces and sockets.
func (l *Lab) Close() error {
	var errs []error
	for _, p := range l.mobiles {
		errs = append(errs, stopIfRunning(p))
	}
	errs = append(errs, l.Runner.Close())
	if l.Domain != nil {
		errs = append(errs, l.Domain.Close())
	}
	if l.Interdomain != nil {
		errs = append(errs, l.Interdomain.Close())
	}
	if l.stopNSM != nil {
		l.stopNSM()
	}
	if l.Identities != nil {
		errs = append(errs, l.Identities.Close())
	}
	for _, ns := range append(append(l.MN, l.HA...), l.CN) {
		if ns != nil {
			errs = append(errs, ns.Delete())
		}
	}
	if l.dir != "" {
		errs = append(errs, os.RemoveAll(l.dir))
	}
	return errors.Join(errs...)
}
