package main

import (
	"context"
	"fmt"
	neturl "net/url"
	"slices"
	"time"

	"github.com/networkservicemesh/api/pkg/api/registry"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"

	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// registryWithin bounds a look-up in the NSM registry.
const registryWithin = 10 * time.Second

// registeredEndpoints asks the NSM registry that holds the network
// service (with floating interdomain: the floating registry, which stores
// the names without their "@domain") which endpoints offer it, as the
// domain's own components do (mTLS with the domain's SVID), and returns
// their names, sorted.
func (d *nsmDemo) registeredEndpoints(ctx context.Context) ([]string, error) {
	svid, bundle, err := d.l.Identities.DomainSources(ctx)
	if err != nil {
		return nil, err
	}
	creds := nsmdomain.MTLS(svid, bundle, registryWithin)
	var url *neturl.URL
	if d.l.Interdomain != nil {
		url = d.l.Interdomain.Floating.RegistryURL
	} else {
		url = d.l.Domain.RegistryURL
	}
	// The client's dialer lives as long as its context: end both here.
	ctx, cancel := context.WithTimeout(ctx, registryWithin)
	defer cancel()
	c := registryclient.NewNetworkServiceEndpointRegistryClient(ctx,
		registryclient.WithClientURL(url), registryclient.WithDialOptions(creds.DialOptions()...))
	query := &registry.NetworkServiceEndpointQuery{NetworkServiceEndpoint: &registry.NetworkServiceEndpoint{
		NetworkServiceNames: []string{nsmlab.ServiceName},
	}}
	stream, err := c.Find(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("find the endpoints of %s in the registry %s: %w", nsmlab.ServiceName, url, err)
	}
	var names []string
	for _, nse := range registry.ReadNetworkServiceEndpointList(stream) {
		names = append(names, nse.GetName())
	}
	slices.Sort(names)
	return names, nil
}
