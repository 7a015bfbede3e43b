package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/endpoint"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/sendfd"
	"github.com/networkservicemesh/sdk/pkg/networkservice/ipam/point2pointipam"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"github.com/vishvananda/netlink"
	"google.golang.org/grpc"

	hachain "github.com/mip6mesh/mip6mesh/internal/chain/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/chain/ipcguard"
	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/cli/workload"
	"github.com/mip6mesh/mip6mesh/internal/haserver"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// runNSM runs the Home Agent as an NSM endpoint: its clients reach it over
// vWires, each with a care-of address from NSM_CIDR_PREFIX and a home
// address given by its SPIFFE identity. At shutdown it unregisters, stops
// serving and removes every kernel object it made.
func runNSM(ctx context.Context, cfg Config, log *slog.Logger) error {
	start := time.Now()
	log.Info("phase 1: get this endpoint's X.509-SVID; if this is the last line, check the SPIRE agent and this workload's registration",
		"socket", os.Getenv(workloadapi.SocketEnv))
	src, err := workload.X509Source(ctx, workload.DefaultSVIDTimeout)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "workload api source", src.Close)
	if err := logSVID(src, log); err != nil {
		return err
	}
	policy, err := homeAddressPolicy(cfg, log)
	if err != nil {
		return err
	}
	undo, err := prepareNamespace(cfg, log)
	if err != nil {
		return err
	}
	defer undo()

	log.Info("phase 2: start the data plane", "driver", cfg.DataPlane, "instance", cfg.Instance, "home_link", cfg.HomeLink)
	dp, err := startDataPlane(ctx, cfg)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "data plane", dp.Close)

	log.Info("phase 3: open the mobility header sockets on every interface (vWires come and go)")
	conn, err := mhio.Open(ctx, mhio.Config{Instance: cfg.Instance, Mode: cfg.mhMode(), Logger: log})
	if err != nil {
		return fmt.Errorf("mobility header i/o: %w", err)
	}
	defer cli.CloseLogged(log, "mobility header sockets", conn.Close)

	log.Info("phase 4: start the binding cache; binding updates are authorized by the NSM connections",
		"home_prefix", cfg.HomePrefix, "max_lifetime", cfg.MaxLifetime)
	metrics := haserver.NewMetrics(nil)
	registerDataPlaneStats(metrics.Registry, dp, log)
	reg := hachain.NewRegistry(policy)
	registerConnectionCount(metrics.Registry, reg)
	ha, err := newHomeAgent(cfg, dp, metrics, log, reg)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "binding cache", func() error { return ha.Close(context.WithoutCancel(ctx)) })

	log.Info("phase 5: serve the endpoint", "name", cfg.Name, "cidr_prefix", cfg.CidrPrefix)
	ep, err := startEndpoint(ctx, cfg, src, reg, ha, log)
	if err != nil {
		return err
	}
	defer ep.stop()

	log.Info("phase 6: register with the NSM manager", "connect_to", cfg.ConnectTo.String(),
		"services", cfg.ServiceNames, "register_service", cfg.RegisterService)
	registration, err := register(ctx, cfg, src, ep.url)
	if err != nil {
		return err
	}
	defer registration.unregister(log)
	return serve(ctx, cfg, conn, ha, metrics, log, start, ep.serve, leaveAtShutdown(registration, reg, ep, log))
}

// leaveAtShutdown waits for the shutdown, then unregisters the endpoint,
// withdraws its vWires and stops serving, before the binding cache and the
// data plane are closed.
func leaveAtShutdown(registration *registration, reg *hachain.Registry, ep *servedEndpoint, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		registration.unregister(log)
		withdrawVWires(reg, log)
		ep.stop()
		return nil
	}
}

// withdrawVWires deletes this endpoint's ends of its clients' vWires, as
// the deletion of its pod would: the clients' liveness checks then fail at
// once and they heal onto another endpoint. Left alone, a vWire outlives
// the agent (the forwarder holds the namespace open), keeps answering the
// liveness pings, and the clients wait for this endpoint to come back.
func withdrawVWires(reg *hachain.Registry, log *slog.Logger) {
	for _, name := range reg.Interfaces() {
		link, err := netlink.LinkByName(name)
		if err == nil {
			err = netlink.LinkDel(link)
		}
		if err != nil {
			log.Warn("could not withdraw a vWire", "interface", name, "error", err)
			continue
		}
		log.Info("withdrew a vWire", "interface", name)
	}
}

func logSVID(src *workloadapi.X509Source, log *slog.Logger) error {
	svid, err := src.GetX509SVID()
	if err != nil {
		return fmt.Errorf("%w: %w", workload.ErrNoSVID, err)
	}
	log.Info("got the x509-svid", "spiffe_id", svid.ID.String(), "expires", svid.Certificates[0].NotAfter)
	return nil
}

// homeAddressPolicy is the file NSM_HOME_ADDRESS_POLICY names, or the
// derived policy; the agent's own address is never handed out.
func homeAddressPolicy(cfg Config, log *slog.Logger) (identity.Policy, error) {
	if cfg.HomeAddressPolicy == "" {
		log.Info("home addresses are derived from the clients' SPIFFE IDs")
		p, err := identity.NewDerived(cfg.HomePrefix, cfg.HomeAgentAddress)
		if err != nil {
			return nil, fmt.Errorf("NSM_HOME_PREFIX %s: %w", cfg.HomePrefix, err)
		}
		return p, nil
	}
	p, err := identity.LoadPolicyFile(cfg.HomeAddressPolicy, cfg.HomePrefix, cfg.HomeAgentAddress)
	if err != nil {
		return nil, fmt.Errorf("NSM_HOME_ADDRESS_POLICY %q: %w", cfg.HomeAddressPolicy, err)
	}
	log.Info("home addresses from the policy file; identities not in it are refused",
		"file", cfg.HomeAddressPolicy, "identities", p.Len())
	return p, nil
}

// registerConnectionCount exports the number of live NSM connections.
func registerConnectionCount(r prometheus.Registerer, reg *hachain.Registry) {
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mip6_nsm_connections",
		Help: "NSM connections to this endpoint (clients that may register a binding).",
	}, func() float64 { return float64(reg.Len()) }))
}

// servedEndpoint is the endpoint's gRPC server on a unix socket in a
// private directory.
type servedEndpoint struct {
	server *grpc.Server
	ln     net.Listener
	url    *url.URL
	// stop stops the server, ends the chain's context and removes the
	// socket directory; later calls do nothing.
	stop func()
}

func startEndpoint(ctx context.Context, cfg Config, src workload.Source, reg *hachain.Registry,
	ha *homeagent.HomeAgent, log *slog.Logger) (*servedEndpoint, error) {
	dir, err := os.MkdirTemp("", "nse-homeagent-")
	if err != nil {
		return nil, fmt.Errorf("endpoint socket directory: %w", err)
	}
	path := filepath.Join(dir, "listen.on")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("endpoint socket: %w", err), os.RemoveAll(dir))
	}
	// The chain outlives the signal: connections close through it while
	// the agent unregisters.
	chainCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	server := grpc.NewServer(workload.ServerOptions(src)...)
	endpointChain(chainCtx, cfg, src, reg, ha, log).Register(server)
	stop := sync.OnceFunc(func() {
		server.Stop()
		_ = ln.Close() // Stop closed it if Serve ran; otherwise nothing else will
		cancel()
		cli.CloseLogged(log, "endpoint socket directory", func() error { return os.RemoveAll(dir) })
	})
	return &servedEndpoint{server: server, ln: ln, url: &url.URL{Scheme: "unix", Path: path}, stop: stop}, nil
}

// serve serves the endpoint until stop.
func (s *servedEndpoint) serve(context.Context) error {
	if err := s.server.Serve(s.ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("endpoint grpc server: %w", err)
	}
	return nil
}

// endpointChain is the sdk endpoint (update path, tokens, authorize,
// metadata, timeout, monitor) followed by the point-to-point IPAM that
// gives the care-of address, the Home Agent element and the kernel
// mechanism. The element identifies each client by the SVID proof it sends,
// against this endpoint's trust bundles (src).
func endpointChain(ctx context.Context, cfg Config, src workload.Source, reg *hachain.Registry,
	ha *homeagent.HomeAgent, log *slog.Logger) endpoint.Endpoint {
	return endpoint.NewServer(ctx, workload.TokenGenerator(src, cfg.MaxTokenLifetime),
		endpoint.WithName(cfg.Name),
		endpoint.WithAuthorizeServer(authorize.NewServer()),
		endpoint.WithAdditionalFunctionality(
			ipcguard.NewServer(), // the client writes no address or route of the endpoint side
			point2pointipam.NewServer(prefixToIPNet(cfg.CidrPrefix)),
			hachain.NewServer(reg, ha, hachain.Config{HomeAgent: cfg.HomeAgentAddress, HomePrefix: cfg.HomePrefix,
				Identify: hachain.VerifiedIdentity(src), Logger: log}),
			mechanisms.NewServer(map[string]networkservice.NetworkServiceServer{kernelmech.MECHANISM: kernel.NewServer()}),
			sendfd.NewServer(),
		))
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
