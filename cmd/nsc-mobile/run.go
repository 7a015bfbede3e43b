package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mip6mesh/mip6mesh/internal/access"
	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// deregisterTimeout bounds the deregistration at shutdown.
const deregisterTimeout = 5 * time.Second

// run starts the mobile node in phases and runs until ctx is done, then
// deregisters and removes every kernel object it made.
func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if cfg.Mode == modeNSM {
		return runNSM(ctx, cfg, log)
	}
	start := time.Now()
	log.Info("phase 1: start the data plane", "driver", "seg6", "home_address", cfg.HomeAddress)
	dp, err := startDataPlane(ctx, cfg)
	if err != nil {
		return err
	}
	defer cli.CloseLogged(log, "data plane", dp.Close)

	log.Info("phase 2: open the mobility header sockets")
	conn, err := mhio.Open(ctx, mhio.Config{Instance: cfg.Instance, Mode: cfg.mhMode(), Interfaces: cfg.AccessInterfaces, Logger: log})
	if err != nil {
		return fmt.Errorf("mobility header i/o: %w", err)
	}
	defer cli.CloseLogged(log, "mobility header sockets", conn.Close)

	log.Info("phase 3: start the registration", "home_agent", cfg.HomeAgentAddress, "lifetime", cfg.Lifetime)
	node, err := mnserver.New(mnserver.Config{Conn: conn, DataPlane: dp, Logger: log,
		Registration: mobilenode.Config{HomeAddress: cfg.HomeAddress, HomeAgent: cfg.HomeAgentAddress, Lifetime: cfg.Lifetime}})
	if err != nil {
		return err
	}
	defer node.Close()

	log.Info("phase 4: watch the access interfaces", "interfaces", cfg.AccessInterfaces)
	watcher := &access.Watcher{Interfaces: cfg.AccessInterfaces, HomePrefix: cfg.HomePrefix, Logger: log}
	g, gctx := errgroup.WithContext(ctx)
	// The receive loop outlives ctx: the deregistration at shutdown needs
	// its Binding Acknowledgement read.
	recvCtx, stopReceiving := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReceiving()
	g.Go(func() error { return node.Serve(recvCtx) })
	g.Go(func() error {
		return watcher.Watch(gctx, func(at dataplane.Attachment) error { return node.Attach(gctx, at) })
	})
	g.Go(func() error { return cli.ServeHTTP(gctx, cfg.ListenOn, mnserver.Handler(node), log, nil) })
	g.Go(func() error {
		<-gctx.Done()
		deregister(ctx, node, log)
		stopReceiving()
		return nil
	})
	log.Info("startup completed", "took", time.Since(start).Round(time.Millisecond), "mode", conn.Mode())
	return g.Wait()
}

func startDataPlane(ctx context.Context, cfg Config) (dataplane.MobileNode, error) {
	dp, err := seg6.NewMobileNode(dataplane.Config{Instance: cfg.Instance, HomeAgent: cfg.HomeAgentAddress,
		HomePrefix: cfg.HomePrefix, HomeAddress: cfg.HomeAddress})
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	if err := dp.Start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("data plane: %w", err), dp.Close())
	}
	return dp, nil
}

func deregister(ctx context.Context, node *mnserver.Node, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deregisterTimeout)
	defer cancel()
	if err := node.Deregister(ctx); err != nil {
		log.Warn("deregistration incomplete", "error", err)
		return
	}
	log.Info("deregistered")
}
