package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice/payload"
	"github.com/networkservicemesh/api/pkg/api/registry"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	registryauthorize "github.com/networkservicemesh/sdk/pkg/registry/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/registry/common/clientinfo"
	registrysendfd "github.com/networkservicemesh/sdk/pkg/registry/common/sendfd"
	"google.golang.org/grpc"

	"github.com/mip6mesh/mip6mesh/internal/cli/workload"
)

const (
	// registerTimeout bounds the registration with the NSM manager (it
	// includes waiting for the manager to answer at all).
	registerTimeout = 30 * time.Second
	// unregisterTimeout bounds the unregistration at shutdown.
	unregisterTimeout = 5 * time.Second
)

// registration is this endpoint in the NSM registry; the registry client
// refreshes it until unregister.
type registration struct {
	// unregister removes the endpoint (bounded) and stops the refreshes;
	// later calls do nothing.
	unregister func(*slog.Logger)
}

// register registers the network services (with NSM_REGISTER_SERVICE) and
// then the endpoint, reachable at listenOn, with the NSM manager.
func register(ctx context.Context, cfg Config, src workload.Source, listenOn *url.URL) (*registration, error) {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	dial := workload.DialOptions(src, cfg.MaxTokenLifetime)
	// The registry chain refreshes the registration until its context
	// ends; it outlives the signal so that the endpoint can unregister.
	chainCtx, stopRefreshing := context.WithCancel(context.WithoutCancel(ctx))
	if cfg.RegisterService {
		if err := registerServices(ctx, chainCtx, cfg, dial); err != nil {
			stopRefreshing()
			return nil, err
		}
	}
	client := registryclient.NewNetworkServiceEndpointRegistryClient(chainCtx,
		registryclient.WithClientURL(&cfg.ConnectTo),
		registryclient.WithDialOptions(dial...),
		registryclient.WithNSEAdditionalFunctionality(
			clientinfo.NewNetworkServiceEndpointRegistryClient(),
			registrysendfd.NewNetworkServiceEndpointRegistryClient(),
		),
		registryclient.WithAuthorizeNSERegistryClient(registryauthorize.NewNetworkServiceEndpointRegistryClient()))
	nse, err := client.Register(ctx, endpointRecord(cfg, listenOn))
	if err != nil {
		stopRefreshing()
		return nil, fmt.Errorf("registering endpoint %q with NSM_CONNECT_TO %s: %w", cfg.Name, cfg.ConnectTo.String(), err)
	}
	return &registration{unregister: onceWithLogger(func(log *slog.Logger) {
		defer stopRefreshing()
		ctx, cancel := context.WithTimeout(chainCtx, unregisterTimeout)
		defer cancel()
		if _, err := client.Unregister(ctx, nse); err != nil {
			log.Warn("unregistering the endpoint failed; the registry drops it when it expires", "name", nse.GetName(), "error", err)
			return
		}
		log.Info("unregistered the endpoint", "name", nse.GetName())
	})}, nil
}

func registerServices(ctx, chainCtx context.Context, cfg Config, dial []grpc.DialOption) error {
	client := registryclient.NewNetworkServiceRegistryClient(chainCtx,
		registryclient.WithClientURL(&cfg.ConnectTo),
		registryclient.WithDialOptions(dial...),
		registryclient.WithAuthorizeNSRegistryClient(registryauthorize.NewNetworkServiceRegistryClient()))
	for _, name := range cfg.ServiceNames {
		if _, err := client.Register(ctx, &registry.NetworkService{Name: name, Payload: payload.IP}); err != nil {
			return fmt.Errorf("registering network service %q (NSM_SERVICE_NAMES) with NSM_CONNECT_TO %s: %w", name, cfg.ConnectTo.String(), err)
		}
	}
	return nil
}

// endpointRecord is this endpoint as the registry knows it.
func endpointRecord(cfg Config, listenOn *url.URL) *registry.NetworkServiceEndpoint {
	nse := &registry.NetworkServiceEndpoint{
		Name:                 cfg.Name,
		NetworkServiceNames:  cfg.ServiceNames,
		NetworkServiceLabels: map[string]*registry.NetworkServiceLabels{},
		Url:                  listenOn.String(),
	}
	for _, name := range cfg.ServiceNames {
		nse.NetworkServiceLabels[name] = &registry.NetworkServiceLabels{Labels: cfg.Labels}
	}
	return nse
}

func onceWithLogger(f func(*slog.Logger)) func(*slog.Logger) {
	var once sync.Once
	return func(log *slog.Logger) { once.Do(func() { f(log) }) }
}
