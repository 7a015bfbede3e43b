package homeagent

import (
	"net/netip"
	"slices"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
)

// dropForeignAddresses removes from ipc the addresses outside vwire, and
// the routes to or via them: what a previous endpoint's IPAM left in a
// connection that was healed onto this one.
func dropForeignAddresses(ipc *networkservice.IPContext, vwire netip.Prefix) {
	if ipc == nil {
		return
	}
	var foreign []string
	keep := func(addrs []string) []string {
		return slices.DeleteFunc(addrs, func(a string) bool {
			p, err := netip.ParsePrefix(a)
			if err != nil || !vwire.Contains(p.Addr()) {
				foreign = append(foreign, a, p.Addr().String())
				return true
			}
			return false
		})
	}
	ipc.SrcIpAddrs = keep(ipc.SrcIpAddrs)
	ipc.DstIpAddrs = keep(ipc.DstIpAddrs)
	throughForeign := func(r *networkservice.Route) bool {
		return slices.Contains(foreign, r.GetPrefix()) || (r.GetNextHop() != "" && slices.Contains(foreign, r.GetNextHop()))
	}
	ipc.SrcRoutes = slices.DeleteFunc(ipc.SrcRoutes, throughForeign)
	ipc.DstRoutes = slices.DeleteFunc(ipc.DstRoutes, throughForeign)
}
