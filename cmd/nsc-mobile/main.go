// Command nsc-mobile is the mip6mesh Mobile IPv6 mobile node.
//
// In standalone mode it registers its home address with a Home Agent from
// the care-of address of its most preferred usable access interface,
// keeps the binding fresh, re-registers at once when the care-of address
// changes, and tunnels its home-address traffic through the Home Agent.
// In nsm mode it is a Network Service Mesh client instead: the connection
// to the Home Agent's network service gives the care-of address (on a
// vWire), the home address and the agent's address. Run it with --help
// for its configuration.
package main

import (
	"context"
	"log/slog"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

const about = `nsc-mobile: a Mobile IPv6 (RFC 6275) mobile node.

It keeps NSM_HOME_ADDRESS registered at NSM_HOME_AGENT_ADDRESS from the
first usable interface of NSM_ACCESS_INTERFACES, moves the registration when
that changes, and serves /status (JSON) and /healthz on NSM_LISTEN_ON.
With NSM_MODE=nsm it requests NSM_NETWORK_SERVICES from NSM_CONNECT_TO
instead and registers the home address the Home Agent gives over the vWire
the connection makes (SPIFFE_ENDPOINT_SOCKET gives this client's identity).`

func main() {
	var cfg Config
	cli.Main("nsc-mobile", about, &cfg, func(ctx context.Context, log *slog.Logger) error { return run(ctx, cfg, log) })
}
