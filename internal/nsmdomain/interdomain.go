package nsmdomain

import (
	"context"
	"errors"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/vwire"
)

// Default domain names of NewFloatingInterdomain, after the
// deployments-k8s floating interdomain example: the client's cluster, the
// endpoint's cluster, and the cluster with only the floating registry.
const (
	DefaultClientDomain   = "my.cluster1"
	DefaultEndpointDomain = "my.cluster2"
	DefaultFloatingDomain = "my.cluster3"
)

// InterdomainConfig describes the three domains of NewFloatingInterdomain.
type InterdomainConfig struct {
	// Dir holds the unix sockets of all three domains.
	Dir string
	// Credentials of every component of every domain (required).
	Credentials Credentials
	// Domain names (the Default...Domain constants if empty).
	ClientDomain, EndpointDomain, FloatingDomain string
	// RegistryExpiration and DialTimeout as in Config.
	RegistryExpiration time.Duration
	DialTimeout        time.Duration
	// ForwarderOptions configure both forwarders' vWire elements.
	ForwarderOptions []vwire.Option
}

// Interdomain is three running domains that reach each other through a
// shared Resolver. A client of Client requests "<service>@<Floating.Name>";
// an endpoint registers with Endpoint's nsmgr as "<name>@<Floating.Name>"
// serving "<service>@<Floating.Name>" (or the network service is
// registered through Endpoint's registry). The path is then
// client, nsmgr, forwarder, nsmgr-proxy, nsmgr-proxy, nsmgr, forwarder,
// endpoint: the endpoint's forwarder makes the vWire.
type Interdomain struct {
	Client, Endpoint, Floating *Domain
	Resolver                   *Resolver
}

// NewFloatingInterdomain starts a client domain and an endpoint domain,
// each with registry, nsmgr, forwarder, nsmgr-proxy and registry proxy,
// and a floating domain with only a registry, like the sdk's
// TestNSMGR_FloatingInterdomainUseCase. Close stops all three.
func NewFloatingInterdomain(ctx context.Context, cfg InterdomainConfig) (*Interdomain, error) {
	names := []*string{&cfg.ClientDomain, &cfg.EndpointDomain, &cfg.FloatingDomain}
	for i, def := range []string{DefaultClientDomain, DefaultEndpointDomain, DefaultFloatingDomain} {
		if *names[i] == "" {
			*names[i] = def
		}
	}
	i := &Interdomain{Resolver: NewResolver()}
	domain := func(name string, registryOnly bool) Config {
		return Config{
			Name:               name,
			Dir:                cfg.Dir,
			Credentials:        cfg.Credentials,
			RegistryExpiration: cfg.RegistryExpiration,
			DialTimeout:        cfg.DialTimeout,
			Resolver:           i.Resolver,
			RegistryOnly:       registryOnly,
			ForwarderOptions:   cfg.ForwarderOptions,
		}
	}
	var err error
	if i.Floating, err = New(ctx, domain(cfg.FloatingDomain, true)); err != nil {
		return nil, err
	}
	if i.Endpoint, err = New(ctx, domain(cfg.EndpointDomain, false)); err != nil {
		return nil, errors.Join(err, i.Close())
	}
	if i.Client, err = New(ctx, domain(cfg.ClientDomain, false)); err != nil {
		return nil, errors.Join(err, i.Close())
	}
	return i, nil
}

// Close stops the three domains.
func (i *Interdomain) Close() error {
	var errs []error
	for _, d := range []*Domain{i.Client, i.Endpoint, i.Floating} {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	return errors.Join(errs...)
}
