package nsmdomain

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	registryapi "github.com/networkservicemesh/api/pkg/api/registry"
	"google.golang.org/grpc"

	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/nsmgr"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/nsmgrproxy"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	"github.com/networkservicemesh/sdk/pkg/registry/chains/memory"
	"github.com/networkservicemesh/sdk/pkg/registry/chains/proxydns"
	"github.com/networkservicemesh/sdk/pkg/registry/common/dnsresolve"

	"github.com/mip6mesh/mip6mesh/internal/vwire"
)

// Defaults of Config.
const (
	DefaultName               = "cluster.local"
	DefaultRegistryExpiration = time.Minute
	DefaultDialTimeout        = 5 * time.Second
	// ForwarderServiceName is the network service forwarders register
	// under, and ForwarderLabels their labels, as the sdk's nsmgr expects.
	ForwarderServiceName = "forwarder"
)

// registerAttempts bounds the forwarder's first registration, in dial timeouts.
const registerAttempts = 3

// ForwarderLabels are the labels our forwarder registers with.
func ForwarderLabels() map[string]string { return map[string]string{"p2p": "true"} }

// Config describes one domain.
type Config struct {
	// Name is the domain's DNS name (DefaultName if empty); interdomain
	// names look like "service@<Name>".
	Name string
	// Dir holds the unix sockets; it must exist and its paths must fit a
	// socket address (about 100 bytes).
	Dir string
	// Credentials of every component (required).
	Credentials Credentials
	// RegistryExpiration is how long a registration lives unless refreshed
	// (DefaultRegistryExpiration if zero). The sdk's registry clients
	// refresh well before it expires.
	RegistryExpiration time.Duration
	// DialTimeout bounds each dial between components (DefaultDialTimeout
	// if zero).
	DialTimeout time.Duration
	// Resolver, when set, makes the domain interdomain-capable: it runs an
	// nsmgr-proxy and a registry proxy, and its registry and nsmgr-proxy
	// are entered into the Resolver under Name.
	Resolver *Resolver
	// RegistryOnly runs only the registry (a floating domain).
	RegistryOnly bool
	// ForwarderOptions configure the forwarder's vWire element.
	ForwarderOptions []vwire.Option
}

// Domain is a running NSM domain.
type Domain struct {
	// Name is the domain's DNS name.
	Name string
	// NSMgrURL is what clients dial and endpoints register with:
	// unix://<Dir>/<Name>-nsmgr.sock (nil for a registry-only domain).
	NSMgrURL *url.URL
	// RegistryURL is the domain's registry: a unix URL, or a tcp URL on
	// 127.0.0.1 when the domain is interdomain-capable.
	RegistryURL *url.URL
	// NSMgrProxyURL and RegistryProxyURL are nil unless interdomain-capable.
	NSMgrProxyURL    *url.URL
	RegistryProxyURL *url.URL
	// ForwarderName is the name our forwarder registered with.
	ForwarderName string

	cfg       Config
	ctx       context.Context
	cancel    context.CancelFunc
	servers   servers
	listeners map[string]*listener
}

// New starts a domain. It returns once the forwarder is registered; Close
// stops it. ctx bounds the domain's life.
func New(ctx context.Context, cfg Config) (*Domain, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	d := &Domain{Name: cfg.Name, cfg: cfg, listeners: map[string]*listener{}}
	if err := d.listen(); err != nil {
		d.closeListeners()
		return nil, err
	}
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.startRegistries()
	if !cfg.RegistryOnly {
		if err := d.startManagers(); err != nil {
			return nil, errors.Join(err, d.Close())
		}
		if err := d.startForwarder(); err != nil {
			return nil, errors.Join(err, d.Close())
		}
	}
	d.publish()
	return d, nil
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Dir == "" {
		return cfg, fmt.Errorf("%w: no socket directory for domain %s", ErrConfig, cfg.Name)
	}
	if !cfg.Credentials.valid() {
		return cfg, fmt.Errorf("%w: no credentials for domain %s", ErrConfig, cfg.Name)
	}
	if strings.ContainsAny(cfg.Name, "/@ ") {
		return cfg, fmt.Errorf("%w: domain name %q", ErrConfig, cfg.Name)
	}
	if cfg.RegistryOnly && cfg.Resolver == nil {
		return cfg, fmt.Errorf("%w: registry-only domain %s without a resolver", ErrConfig, cfg.Name)
	}
	if cfg.RegistryExpiration == 0 {
		cfg.RegistryExpiration = DefaultRegistryExpiration
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	return cfg, nil
}

// Component names: listener keys and socket names.
const (
	registryName      = "registry"
	registryProxyName = "registry-proxy"
	nsmgrName         = "nsmgr"
	nsmgrProxyName    = "nsmgr-proxy"
	forwarderName     = "forwarder"
)

// listen opens every socket first, so that each component knows the
// addresses of the others when it is built.
func (d *Domain) listen() error {
	interdomain := d.cfg.Resolver != nil
	var err error
	if d.RegistryURL, err = d.open(registryName, interdomain); err != nil {
		return err
	}
	if interdomain && !d.cfg.RegistryOnly {
		if d.RegistryProxyURL, err = d.open(registryProxyName, false); err != nil {
			return err
		}
		if d.NSMgrProxyURL, err = d.open(nsmgrProxyName, true); err != nil {
			return err
		}
	}
	if d.cfg.RegistryOnly {
		return nil
	}
	if d.NSMgrURL, err = d.open(nsmgrName, false); err != nil {
		return err
	}
	_, err = d.open(forwarderName, false)
	return err
}

// open listens for component name: on a unix socket, or on the loopback
// for what other domains find through the Resolver.
func (d *Domain) open(name string, loopback bool) (*url.URL, error) {
	var l *listener
	var err error
	if loopback {
		l, err = listenLoopback()
	} else {
		l, err = listenUnix(d.cfg.Dir, d.Name+"-"+name)
	}
	if err != nil {
		return nil, err
	}
	d.listeners[name] = l
	return cloneURL(l.url), nil
}

func (d *Domain) closeListeners() {
	for _, l := range d.listeners {
		_ = l.Close() // a listener that never served: nothing to report
	}
}

func (d *Domain) serve(name string, register func(*grpc.Server)) {
	l := d.listeners[name]
	delete(d.listeners, name)
	d.servers.serve(l, register, d.cfg.Credentials.ServerOptions())
}

func (d *Domain) dialOptions() []grpc.DialOption { return d.cfg.Credentials.DialOptions() }

func (d *Domain) startRegistries() {
	gen := d.cfg.Credentials.TokenGenerator()
	if d.RegistryProxyURL != nil {
		proxy := proxydns.NewServer(d.ctx, gen, d.cfg.Resolver, proxydns.WithDialOptions(d.dialOptions()...))
		d.serve(registryProxyName, proxy.Register)
	}
	reg := memory.NewServer(d.ctx, gen,
		memory.WithDefaultExpiration(d.cfg.RegistryExpiration),
		// Interdomain registrations go to the nsmgr-proxy, which rewrites
		// the endpoint's URL to its own and passes them to the registry proxy.
		memory.WithProxyRegistryURL(cloneURL(d.NSMgrProxyURL)),
		memory.WithDialOptions(d.dialOptions()...))
	d.serve(registryName, reg.Register)
}

func (d *Domain) startManagers() error {
	authz, err := d.authorizeServer()
	if err != nil {
		return err
	}
	gen := d.cfg.Credentials.TokenGenerator()
	if d.NSMgrProxyURL != nil {
		proxy := nsmgrproxy.NewServer(d.ctx, cloneURL(d.RegistryURL), cloneURL(d.RegistryProxyURL), gen,
			nsmgrproxy.WithName(d.Name+"-nsmgr-proxy"),
			nsmgrproxy.WithListenOn(cloneURL(d.NSMgrProxyURL)),
			nsmgrproxy.WithDialOptions(d.dialOptions()...),
			nsmgrproxy.WithDialTimeout(d.cfg.DialTimeout),
			nsmgrproxy.WithMapIPFilePath(filepath.Join(d.cfg.Dir, d.Name+"-map-ip.yaml")))
		d.serve(nsmgrProxyName, proxy.Register)
	}
	mgr := nsmgr.NewServer(d.ctx, gen,
		nsmgr.WithName(d.Name+"-nsmgr"),
		nsmgr.WithAuthorizeServer(authz),
		// The nsmgr registers local endpoints under its own URL, and finds
		// its forwarders by it: it must be set even for a unix socket.
		nsmgr.WithURL(d.NSMgrURL.String()),
		nsmgr.WithRegistry(cloneURL(d.RegistryURL)),
		nsmgr.WithDefaultExpiration(d.cfg.RegistryExpiration),
		nsmgr.WithDialOptions(d.dialOptions()...),
		nsmgr.WithDialTimeout(d.cfg.DialTimeout))
	d.serve(nsmgrName, mgr.Register)
	return nil
}

// authorizeServer is the nsmgr's: the sdk's default policies (each hop's
// token signed by its TLS peer, tokens chained and unexpired), as a real
// nsmgr runs them, none with insecure credentials, whose HS256 tokens they
// cannot check; and in either case the refusal of namespaces named by
// file (fileURLGuard); with mTLS, a workload's request must also start
// with its own segment (clientOwnsPath).
func (d *Domain) authorizeServer() (networkservice.NetworkServiceServer, error) {
	if d.cfg.Credentials.IsInsecure() {
		return chain.NewNetworkServiceServer(fileURLGuard{}, authorize.NewServer(authorize.Any())), nil
	}
	mesh, err := d.cfg.Credentials.svid.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("nsmgr %s: the mesh's own svid: %w", d.Name, err)
	}
	return chain.NewNetworkServiceServer(fileURLGuard{}, authorize.NewServer(), clientOwnsPath{mesh: mesh.ID}), nil
}

func (d *Domain) startForwarder() error {
	d.ForwarderName = d.Name + "-forwarder-" + uuid.NewString()[:8]
	fwd := vwire.NewForwarder(d.ctx, vwire.ForwarderConfig{
		Name:           d.ForwarderName,
		ManagerURL:     cloneURL(d.NSMgrURL),
		TokenGenerator: d.cfg.Credentials.TokenGenerator(),
		DialOptions:    d.forwarderDialOptions(),
		DialTimeout:    d.cfg.DialTimeout,
	}, d.cfg.ForwarderOptions...)
	forwarderURL := d.listeners[forwarderName].url
	d.serve(forwarderName, fwd.Register)

	registration := registryclient.NewNetworkServiceEndpointRegistryClient(d.ctx,
		registryclient.WithClientURL(cloneURL(d.NSMgrURL)),
		registryclient.WithDialOptions(d.dialOptions()...),
		registryclient.WithDialTimeout(d.cfg.DialTimeout))
	// The registration's refresh lives on d.ctx; the first attempt (which
	// the sdk retries) is bounded.
	ctx, cancel := context.WithTimeout(d.ctx, registerAttempts*d.cfg.DialTimeout)
	defer cancel()
	_, err := registration.Register(ctx, &registryapi.NetworkServiceEndpoint{
		Name:                d.ForwarderName,
		Url:                 forwarderURL.String(),
		NetworkServiceNames: []string{ForwarderServiceName},
		NetworkServiceLabels: map[string]*registryapi.NetworkServiceLabels{
			ForwarderServiceName: {Labels: ForwarderLabels()},
		},
	})
	if err != nil {
		return fmt.Errorf("register forwarder %s with %s: %w", d.ForwarderName, d.NSMgrURL, err)
	}
	return nil
}

// forwarderDialOptions are the domain's dial options, but failing fast:
// the forwarder dials endpoints, and an endpoint that died must not hold
// the Close of its connections (the first half of the client's heal with
// reselect) until the Close's deadline.
func (d *Domain) forwarderDialOptions() []grpc.DialOption {
	return append(d.dialOptions(), grpc.WithDefaultCallOptions(grpc.WaitForReady(false)))
}

// publish enters the registry and the nsmgr-proxy into the Resolver, as
// the interdomain DNS would.
func (d *Domain) publish() {
	if d.cfg.Resolver == nil {
		return
	}
	d.cfg.Resolver.Add(dnsresolve.DefaultRegistryService, d.Name, netip.MustParseAddrPort(d.RegistryURL.Host))
	if d.NSMgrProxyURL != nil {
		d.cfg.Resolver.Add(dnsresolve.DefaultNsmgrProxyService, d.Name, netip.MustParseAddrPort(d.NSMgrProxyURL.Host))
	}
}

// Close stops every component and waits for the servers to stop. The
// sdk's own goroutines end shortly after, as they see the domain's
// context cancelled.
func (d *Domain) Close() error {
	if d.cfg.Resolver != nil {
		d.cfg.Resolver.Remove(dnsresolve.DefaultRegistryService, d.Name)
		d.cfg.Resolver.Remove(dnsresolve.DefaultNsmgrProxyService, d.Name)
	}
	d.cancel()
	d.closeListeners()
	return d.servers.stop()
}

func cloneURL(u *url.URL) *url.URL {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}
