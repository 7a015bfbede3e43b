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

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nse-homeagent: a Mobile IPv6 (RFC 6275) Home Agent.

It answers Binding Updates for home addresses on NSM_HOME_PREFIX, tunnels
traffic for each registered home address to its care-of address, and serves
/bindings (JSON), /metrics (Prometheus) and /healthz on NSM_LISTEN_ON.`

func main() {
	var cfg Config
	cli.Main("nse-homeagent", about, &cfg, func(ctx context.Context, log *slog.Logger) error { return run(ctx, cfg, log) })
}
