package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/haserver"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// run starts the Home Agent in phases and serves until ctx is done, then
// removes every kernel object it made.
func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if cfg.Mode == modeNSM {
		return runNSM(ctx, cfg, log)
	}
	start := time.Now()
	undo, err := prepareNamespace(cfg, log)
	if err != nil {
		return err
	}
	defer undo()
	log.Info("phase 1: start the data plane", "driver", cfg.DataPlane, "instance", cfg.Instance, "home_link", cfg.HomeLink)
	dp, err := startDataPlane(ctx, cfg)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "data plane", dp.Close)

	log.Info("phase 2: open the mobility header sockets")
	conn, err := mhio.Open(ctx, mhio.Config{Instance: cfg.Instance, Mode: cfg.mhMode(), Interfaces: cfg.Interfaces, Logger: log})
	if err != nil {
		return fmt.Errorf("mobility header i/o: %w", err)
	}
	defer cli.CloseLogged(log, "mobility header sockets", conn.Close)

	log.Info("phase 3: start the binding cache", "home_prefix", cfg.HomePrefix, "max_lifetime", cfg.MaxLifetime)
	metrics := haserver.NewMetrics(nil)
	registerDataPlaneStats(metrics.Registry, dp, log)
	var auth homeagent.Authorizer
	if len(cfg.AllowedHomes) > 0 {
		auth = allowList(cfg.AllowedHomes)
	}
	ha, err := newHomeAgent(cfg, dp, metrics, log, auth)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "binding cache", func() error { return ha.Close(context.WithoutCancel(ctx)) })

	log.Info("phase 4: serve", "address", cfg.HomeAgentAddress, "listen_on", cfg.ListenOn)
	return serve(ctx, cfg, conn, ha, metrics, log, start)
}

// dataPlaneDrivers are the Home Agent data planes NSM_DATAPLANE chooses from.
var dataPlaneDrivers = map[string]func(dataplane.Config) (dataplane.HomeAgent, error){
	"seg6": seg6.NewHomeAgent,
	"bpf":  bpf.NewHomeAgent,
}

func startDataPlane(ctx context.Context, cfg Config) (dataplane.HomeAgent, error) {
	dp, err := dataPlaneDrivers[cfg.DataPlane](cfg.dataPlane())
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	if err := dp.Start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("data plane: %w", err), dp.Close())
	}
	return dp, nil
}

// newHomeAgent starts the binding cache; auth may be nil (any home
// address on the home prefix may register).
func newHomeAgent(cfg Config, dp dataplane.HomeAgent, m *haserver.Metrics, log *slog.Logger,
	auth homeagent.Authorizer) (*homeagent.HomeAgent, error) {
	return homeagent.New(homeagent.Config{HomePrefixes: []netip.Prefix{cfg.HomePrefix}, MaxLifetime: cfg.MaxLifetime,
		RefreshFraction: cfg.RefreshAdvice, DataPlane: dp, Logger: log, Observer: m, Authorizer: auth})
}

// allowList refuses home addresses not in allowed with status 129.
func allowList(allowed []netip.Addr) homeagent.Authorizer {
	return homeagent.AuthorizerFunc(func(_ context.Context, req homeagent.Request) error {
		if slices.Contains(allowed, req.HomeAddress) {
			return nil
		}
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited, "home address %s is not on NSM_ALLOWED_HOMES", req.HomeAddress)
	})
}

// serve runs the packet loop and the HTTP endpoints, and alongside them
// tasks (the NSM endpoint), until ctx is done or one of them fails.
func serve(ctx context.Context, cfg Config, conn *mhio.Conn, ha *homeagent.HomeAgent, m *haserver.Metrics,
	log *slog.Logger, start time.Time, tasks ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	srv := haserver.New(conn, ha, cfg.HomeAgentAddress, m, log)
	g.Go(func() error { return srv.Serve(ctx) })
	handler := haserver.Handler(ha, m)
	if cfg.Mode == modeNSM {
		handler = refuseClientsOf(cfg.CidrPrefix, handler)
	}
	g.Go(func() error { return cli.ServeHTTP(ctx, cfg.ListenOn, handler, log, nil) })
	for _, task := range tasks {
		g.Go(func() error { return task(ctx) })
	}
	log.Info("startup completed", "took", time.Since(start).Round(time.Millisecond), "mode", conn.Mode())
	err := g.Wait()
	log.Info("shutting down", "bindings", ha.Len())
	return err
}
