// Command nse-homeagent is the mip6mesh Mobile IPv6 Home Agent.
//
// In standalone mode it serves a home prefix on this host's interfaces:
// it answers Binding Updates and tunnels traffic for registered home
// addresses to their care-of addresses through the kernel. Run it with
// --help for its configuration.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nse-homeagent: a Mobile IPv6 (RFC 6275) Home Agent.

It answers Binding Updates for home addresses on NSM_HOME_PREFIX, tunnels
traffic for each registered home address to its care-of address, and serves
/bindings (JSON), /metrics (Prometheus) and /healthz on NSM_LISTEN_ON.`

func main() {
	var cfg Config
	if err := cli.Load(&cfg, about, os.Args[1:], os.Stdout); err != nil {
		cli.Exit("nse-homeagent", err)
	}
	log, err := cli.Logger(cfg.LogLevel, os.Stderr)
	if err != nil {
		cli.Exit("nse-homeagent", err)
	}
	if err := runUntilSignalled(cfg, log); err != nil {
		log.Error("home agent stopped", "error", err)
		os.Exit(1)
	}
}

// runUntilSignalled runs until SIGINT or SIGTERM.
func runUntilSignalled(cfg Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, log)
}
