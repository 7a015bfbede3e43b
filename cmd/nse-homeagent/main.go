// Command nse-homeagent is the mip6mesh Mobile IPv6 Home Agent.
//
// In standalone mode it serves a home prefix on this host's interfaces:
// it answers Binding Updates and tunnels traffic for registered home
// addresses to their care-of addresses through the kernel. In nsm mode it
// is also a Network Service Mesh endpoint: each client connection brings a
// care-of address on a vWire and, from the client's SPIFFE identity, a
// home address. Run it with --help for its configuration.
package main

import (
	"context"
	"log/slog"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nse-homeagent: a Mobile IPv6 (RFC 6275) Home Agent.

It answers Binding Updates for home addresses on NSM_HOME_PREFIX, tunnels
traffic for each registered home address to its care-of address, and serves
/bindings (JSON), /metrics (Prometheus) and /healthz on NSM_LISTEN_ON.
With NSM_MODE=nsm it is an NSM endpoint serving NSM_SERVICE_NAMES: clients
get a care-of address from NSM_CIDR_PREFIX and a home address from their
SPIFFE identity (SPIFFE_ENDPOINT_SOCKET gives this endpoint's own).`

func main() {
	var cfg Config
	cli.Main("nse-homeagent", about, &cfg, func(ctx context.Context, log *slog.Logger) error { return run(ctx, cfg, log) })
}
