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

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nsc-mobile: a Mobile IPv6 (RFC 6275) mobile node.

It keeps NSM_HOME_ADDRESS registered at NSM_HOME_AGENT_ADDRESS from the
first usable interface of NSM_ACCESS_INTERFACES, moves the registration when
that changes, and serves /status (JSON) and /healthz on NSM_LISTEN_ON.`

func main() {
	var cfg Config
	cli.Main("nsc-mobile", about, &cfg, func(ctx context.Context, log *slog.Logger) error { return run(ctx, cfg, log) })
}
