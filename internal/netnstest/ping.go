package netnstest

import (
	"context"
	"net/netip"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// DefaultPingTimeout bounds Ping when ctx has no earlier deadline.
const DefaultPingTimeout = netns.DefaultPingTimeout

// ErrNoReply is returned by Ping when no matching echo reply arrived in time.
var ErrNoReply = netns.ErrNoReply

// Ping sends one ICMPv6 echo request from src to dst inside the namespace
// and waits for the matching reply (see netns.NS.Ping, which also returns
// the round-trip time). A zero src lets the kernel choose the source.
func (ns *NS) Ping(ctx context.Context, src, dst netip.Addr) error {
	_, err := ns.NS.Ping(ctx, src, dst)
	return err
}
