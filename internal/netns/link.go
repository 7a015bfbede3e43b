package netns

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Veth creates a veth pair with end nameA in a and end nameB in b and
// brings both ends up. The pair disappears with either namespace.
func Veth(a, b *NS, nameA, nameB string) error {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: nameA},
		PeerName:      nameB,
		PeerNamespace: netlink.NsFd(b.handle),
	}
	if err := a.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth %s/%s - %s/%s: %w", a.name, nameA, b.name, nameB, err)
	}
	if err := a.LinkUp(nameA); err != nil {
		return err
	}
	return b.LinkUp(nameB)
}

// LinkUp sets the interface ifname up.
func (ns *NS) LinkUp(ifname string) error { return ns.setLink(ifname, true) }

// LinkDown sets the interface ifname down. The kernel then drops the
// interface's IPv6 addresses and the routes through it (unless
// net.ipv6.conf.<if>.keep_addr_on_down is set); LinkUp does not bring
// them back.
func (ns *NS) LinkDown(ifname string) error { return ns.setLink(ifname, false) }

func (ns *NS) setLink(ifname string, up bool) error {
	state, set := "up", ns.nl.LinkSetUp
	if !up {
		state, set = "down", ns.nl.LinkSetDown
	}
	link, err := ns.nl.LinkByName(ifname)
	if err == nil {
		err = set(link)
	}
	if err != nil {
		return fmt.Errorf("link %s %s in %s: %w", ifname, state, ns.name, err)
	}
	return nil
}

// LinkIndex returns the interface index of ifname.
func (ns *NS) LinkIndex(ifname string) (int, error) {
	link, err := ns.nl.LinkByName(ifname)
	if err != nil {
		return 0, fmt.Errorf("link %s in %s: %w", ifname, ns.name, err)
	}
	return link.Attrs().Index, nil
}

// AddAddr adds prefix (address and prefix length) to ifname with
// IFA_F_NODAD and returns once the address is usable: the kernel installs
// its local route from a work queue, shortly after the request returns.
func (ns *NS) AddAddr(ifname string, prefix netip.Prefix) error {
	link, err := ns.nl.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("add address %s: link %s in %s: %w", prefix, ifname, ns.name, err)
	}
	addr := &netlink.Addr{IPNet: ipNet(prefix), Flags: unix.IFA_F_NODAD}
	if err := ns.nl.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("add address %s to %s in %s: %w", prefix, ifname, ns.name, err)
	}
	return ns.awaitLocalRoute(prefix.Addr())
}

// HasAddr reports whether ifname holds the address a.
func (ns *NS) HasAddr(ifname string, a netip.Addr) (bool, error) {
	link, err := ns.nl.LinkByName(ifname)
	if err != nil {
		return false, fmt.Errorf("link %s in %s: %w", ifname, ns.name, err)
	}
	addrs, err := ns.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return false, fmt.Errorf("list addresses of %s in %s: %w", ifname, ns.name, err)
	}
	for _, have := range addrs {
		if got, ok := netip.AddrFromSlice(have.IP); ok && got.Unmap() == a {
			return true, nil
		}
	}
	return false, nil
}

// localRouteWait bounds awaitLocalRoute.
const localRouteWait = 2 * time.Second

func (ns *NS) awaitLocalRoute(a netip.Addr) error {
	filter := &netlink.Route{Table: unix.RT_TABLE_LOCAL, Dst: ipNet(netip.PrefixFrom(a, a.BitLen()))}
	for deadline := time.Now().Add(localRouteWait); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		routes, err := ns.nl.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
		if err != nil {
			return fmt.Errorf("wait for local route %s in %s: %w", a, ns.name, err)
		}
		if len(routes) > 0 {
			return nil
		}
	}
	return fmt.Errorf("no local route for %s in %s after %v (interface down?)", a, ns.name, localRouteWait)
}

// AddRoute adds a route to dst via the gateway via (main table).
func (ns *NS) AddRoute(dst netip.Prefix, via netip.Addr) error {
	return ns.AddRouteMetric(dst, via, 0)
}

// AddRouteMetric adds a route to dst via the gateway via with the given
// metric (main table); 0 leaves the kernel's default metric. Two routes to
// the same dst with different metrics coexist; the lower metric wins while
// its interface is up.
func (ns *NS) AddRouteMetric(dst netip.Prefix, via netip.Addr, metric int) error {
	route := &netlink.Route{Dst: ipNet(dst), Gw: net.IP(via.AsSlice()), Priority: metric}
	if err := ns.nl.RouteAdd(route); err != nil {
		return fmt.Errorf("add route %s via %s metric %d in %s: %w", dst, via, metric, ns.name, err)
	}
	return nil
}

// DelRoute deletes the main-table route to dst via the gateway via.
func (ns *NS) DelRoute(dst netip.Prefix, via netip.Addr) error {
	route := &netlink.Route{Dst: ipNet(dst), Gw: net.IP(via.AsSlice())}
	if err := ns.nl.RouteDel(route); err != nil {
		return fmt.Errorf("delete route %s via %s in %s: %w", dst, via, ns.name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{
		IP:   net.IP(p.Addr().AsSlice()),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}
}
