package vwire

import (
	"context"
	"net/url"
	"time"

	"google.golang.org/grpc"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"

	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/client"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/endpoint"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/connect"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/discover"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/recvfd"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/sendfd"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/roundrobin"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	registryrecvfd "github.com/networkservicemesh/sdk/pkg/registry/common/recvfd"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
)

// DefaultDialTimeout bounds the forwarder's dial of the next hop.
const DefaultDialTimeout = 5 * time.Second

// ForwarderConfig says how a forwarder reaches its nsmgr and the next hops.
type ForwarderConfig struct {
	// Name is the forwarder's name, as registered with the nsmgr.
	Name string
	// ManagerURL is the nsmgr the forwarder discovers endpoints through.
	ManagerURL *url.URL
	// TokenGenerator signs the forwarder's path segment.
	TokenGenerator token.GeneratorFunc
	// DialOptions for the nsmgr and the next hops: transport credentials
	// wrapped in grpcfd, per-RPC token credentials, grpcfd interceptors.
	DialOptions []grpc.DialOption
	// DialTimeout bounds each dial (DefaultDialTimeout if zero).
	DialTimeout time.Duration
}

// NewForwarder builds a complete forwarder, shaped like the sdk's real
// forwarders: recvfd/sendfd on both sides (so namespaces travel as file
// descriptors over unix sockets), discover and roundrobin to pick the
// endpoint, this package's element as the kernel mechanism, and connect to
// the next hop without its own refresh (the client refreshes end to end).
// The caller serves it and registers it with the nsmgr.
func NewForwarder(ctx context.Context, cfg ForwarderConfig, opts ...Option) endpoint.Endpoint {
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	nseClient := registryclient.NewNetworkServiceEndpointRegistryClient(ctx,
		registryclient.WithClientURL(cfg.ManagerURL),
		registryclient.WithNSEAdditionalFunctionality(registryrecvfd.NewNetworkServiceEndpointRegistryClient()),
		registryclient.WithDialOptions(cfg.DialOptions...),
	)
	nsClient := registryclient.NewNetworkServiceRegistryClient(ctx,
		registryclient.WithClientURL(cfg.ManagerURL),
		registryclient.WithDialOptions(cfg.DialOptions...),
	)
	return endpoint.NewServer(ctx, cfg.TokenGenerator,
		endpoint.WithName(cfg.Name),
		endpoint.WithAdditionalFunctionality(
			recvfd.NewServer(),
			sendfd.NewServer(),
			discover.NewServer(nsClient, nseClient),
			roundrobin.NewServer(),
			mechanisms.NewServer(map[string]networkservice.NetworkServiceServer{
				kernel.MECHANISM: NewServer(opts...),
			}),
			connect.NewServer(client.NewClient(ctx,
				client.WithName(cfg.Name),
				client.WithAdditionalFunctionality(recvfd.NewClient(), sendfd.NewClient()),
				client.WithDialOptions(cfg.DialOptions...),
				client.WithDialTimeout(cfg.DialTimeout),
				client.WithoutRefresh(),
			)),
		),
	)
}
