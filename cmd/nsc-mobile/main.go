// Command nsc-mobile is the mip6mesh Mobile IPv6 mobile node.
//
// In standalone mode it registers its home address with a Home Agent from
// the care-of address of its most preferred usable access interface,
// keeps the binding fresh, re-registers at once when the care-of address
// changes, and tunnels its home-address traffic through the Home Agent.
// Run it with --help for its configuration.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nsc-mobile: a Mobile IPv6 (RFC 6275) mobile node.

It keeps NSM_HOME_ADDRESS registered at NSM_HOME_AGENT_ADDRESS from the
first usable interface of NSM_ACCESS_INTERFACES, moves the registration when
that changes, and serves /status (JSON) and /healthz on NSM_LISTEN_ON.`

func main() {
	var cfg Config
	if err := cli.Load(&cfg, about, os.Args[1:], os.Stdout); err != nil {
		cli.Exit("nsc-mobile", err)
	}
	log, err := cli.Logger(cfg.LogLevel, os.Stderr)
	if err != nil {
		cli.Exit("nsc-mobile", err)
	}
	if err := runUntilSignalled(cfg, log); err != nil {
		log.Error("mobile node stopped", "error", err)
		os.Exit(1)
	}
}

// runUntilSignalled runs until SIGINT or SIGTERM.
func runUntilSignalled(cfg Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, log)
}
