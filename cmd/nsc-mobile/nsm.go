package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/client"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/heal"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/sendfd"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/retry"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"golang.org/x/sync/errgroup"

	mnchain "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
	"github.com/mip6mesh/mip6mesh/internal/chain/svidproof"
	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/cli/workload"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
)

// closeTimeout bounds closing the NSM connection at shutdown: the
// deregistration (mnchain's Close) and the NSM manager's teardown.
const closeTimeout = 15 * time.Second

// runNSM runs the mobile node as an NSM client: it requests the home
// agent's network service and registers over the vWire it gets, with the
// home address the home agent gives. At shutdown it closes the connection,
// which deregisters, and removes every kernel object it made.
func runNSM(ctx context.Context, cfg Config, log *slog.Logger) error {
	start := time.Now()
	svc, err := cfg.service()
	if err != nil {
		return err
	}
	log.Info("phase 1: get this client's X.509-SVID; if this is the last line, check the SPIRE agent and this workload's registration",
		"socket", os.Getenv(workloadapi.SocketEnv))
	src, err := workload.X509Source(ctx, workload.DefaultSVIDTimeout)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "workload api source", src.Close)
	svid, err := src.GetX509SVID()
	if err != nil {
		return fmt.Errorf("%w: %w", workload.ErrNoSVID, err)
	}
	log.Info("got the x509-svid", "spiffe_id", svid.ID.String())

	log.Info("phase 2: build the NSM client; the mobile node starts with the first connection",
		"connect_to", cfg.ConnectTo.String(), "service", svc.Name, "interface", svc.Interface)
	reg := newRegistrar(kernelStack(cfg, log), log)
	defer cli.CloseLogged(log, "mobile node", reg.Close)
	// The chain (heal, refresh) outlives the signal: the connection is
	// closed through it on the way out.
	chainCtx, stopChain := context.WithCancel(context.WithoutCancel(ctx))
	defer stopChain()
	metrics := newNSMMetrics()
	nsmc := newClient(chainCtx, cfg, svc, src, reg, metrics)

	connID := cfg.Name + "-0"
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		status := mnserver.StatusHandler(func() any { return reg.status(connID) })
		return cli.ServeHTTP(gctx, cfg.ListenOn, metrics.handler(status), log, nil)
	})
	g.Go(func() error { return connect(gctx, ctx, cfg, svc, nsmc, connID, log, start) })
	return g.Wait()
}

// connect requests the connection, holds it until ctx is done, then closes
// it (bounded, even after the signal: closeCtx is never cancelled).
func connect(ctx, closeCtx context.Context, cfg Config, svc service, nsmc networkservice.NetworkServiceClient,
	id string, log *slog.Logger, start time.Time) error {
	log.Info("phase 3: request the network service and register with the home agent", "id", id,
		"service", svc.Name, "timeout", cfg.RequestTimeout)
	reqCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	conn, err := nsmc.Request(reqCtx, &networkservice.NetworkServiceRequest{
		Connection:           &networkservice.Connection{Id: id, NetworkService: svc.Name, Labels: svc.Labels},
		MechanismPreferences: []*networkservice.Mechanism{svc.Mechanism.Clone()},
	})
	if err != nil {
		return fmt.Errorf("requesting %q from NSM_CONNECT_TO %s: %w", svc.Name, cfg.ConnectTo.String(), err)
	}
	log.Info("startup completed", "took", time.Since(start).Round(time.Millisecond), "connection", conn.GetId(),
		"care_of", conn.GetContext().GetIpContext().GetSrcIpAddrs())
	<-ctx.Done()
	closeCtx, cancelClose := context.WithTimeout(context.WithoutCancel(closeCtx), closeTimeout)
	defer cancelClose()
	if _, err := nsmc.Close(closeCtx, conn); err != nil {
		log.Warn("closing the NSM connection failed", "id", conn.GetId(), "error", err)
		return nil
	}
	log.Info("closed the NSM connection", "id", conn.GetId())
	return nil
}

// newClient is the sdk client chain (heal with a liveness check, refresh,
// authorize) with the SVID proof, the mobile node element, the kernel
// mechanism and fd passing, retried as cmd-nsc does.
func newClient(ctx context.Context, cfg Config, svc service, src workload.Source, reg *registrar,
	metrics *nsmMetrics) networkservice.NetworkServiceClient {
	healOpts := []heal.Option{heal.WithLivenessCheckInterval(cfg.LivenessCheckInterval),
		heal.WithLivenessCheckTimeout(cfg.LivenessCheckTimeout)}
	if cfg.LivenessCheckEnabled {
		healOpts = append(healOpts, heal.WithLivenessCheck(pingEndpoint))
	}
	return retry.NewClient(client.NewClient(ctx,
		client.WithClientURL(&cfg.ConnectTo),
		client.WithName(cfg.Name),
		client.WithAuthorizeClient(authorize.NewClient()),
		client.WithHealClient(heal.NewClient(ctx, healOpts...)),
		client.WithAdditionalFunctionality(
			// Before the mobile node element, so that every Request
			// (first, refresh, heal) proves the client's identity to the
			// Home Agent with its current SVID.
			svidproof.NewClient(src),
			mnchain.NewClient(reg, mnchain.WithRegistered(func(at mnchain.Attachment, took time.Duration) {
				reg.observeRegistered(at, took)
				metrics.observe(at, took)
			})),
			mechanisms.NewClient(map[string]networkservice.NetworkServiceClient{
				kernelmech.MECHANISM: kernel.NewClient(kernel.WithInterfaceName(svc.Interface)),
			}),
			sendfd.NewClient(),
		),
		client.WithDialTimeout(cfg.DialTimeout),
		client.WithDialOptions(workload.DialOptions(src, cfg.MaxTokenLifetime)...),
	))
}
