package kernel

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

// HostNet is a as a /128.
func HostNet(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(128, 128)}
}

// DecapRoute is "local <endpoint>/128 encap seg6local action End.DT6
// table <lookup> dev lo table <k.Table>": the kernel strips the outer
// header and looks the inner destination up in table lookup.
func DecapRoute(k dataplane.Kernel, endpoint netip.Addr, lookup uint32, lo int) *netlink.Route {
	encap := &netlink.SEG6LocalEncap{Action: nl.SEG6_LOCAL_ACTION_END_DT6, Table: int(lookup)}
	encap.Flags[nl.SEG6_LOCAL_ACTION] = true
	encap.Flags[nl.SEG6_LOCAL_TABLE] = true
	return LocalRoute(k, endpoint, k.Table, lo, encap)
}

// LocalRoute is "local <endpoint>/128 encap <encap> dev lo table <table>".
// Type local is required: the kernel turns unicast routes through lo into
// reject routes.
func LocalRoute(k dataplane.Kernel, endpoint netip.Addr, table uint32, lo int, encap netlink.Encap) *netlink.Route {
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Type:      unix.RTN_LOCAL,
		Dst:       HostNet(endpoint),
		LinkIndex: lo,
		Table:     int(table),
		Protocol:  netlink.RouteProtocol(k.Protocol),
		Encap:     encap,
	}
}

// DecapRule is "pref <Priority> fwmark <Mark>/<Mark> lookup <Table>": the
// packets marked for decapsulation go to the decapsulation route.
func DecapRule(k dataplane.Kernel) *netlink.Rule {
	r := InstanceRule(k, k.Priority, k.Table)
	r.Mark = k.Mark
	r.Mask = &k.Mark
	return r
}

// InstanceRule is "pref <priority> lookup <table>", tagged with the
// instance's protocol.
func InstanceRule(k dataplane.Kernel, priority, table uint32) *netlink.Rule {
	r := netlink.NewRule()
	r.Family = netlink.FAMILY_V6
	r.Priority = int(priority)
	r.Table = int(table)
	r.Protocol = k.Protocol
	return r
}

// RouteKey is the minimal route description the kernel needs to delete it.
func RouteKey(r netlink.Route) *netlink.Route {
	return &netlink.Route{
		Family:   netlink.FAMILY_V6,
		Dst:      r.Dst,
		Table:    r.Table,
		Protocol: r.Protocol,
		Priority: r.Priority,
		Type:     r.Type,
	}
}

// RuleKey is the minimal rule description the kernel needs to delete it.
func RuleKey(r netlink.Rule) *netlink.Rule {
	key := netlink.NewRule()
	key.Family = netlink.FAMILY_V6
	key.Priority = r.Priority
	key.Table = r.Table
	key.Protocol = r.Protocol
	return key
}
