package netnstest

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Veth creates a veth pair with end nameA in a and end nameB in b and
// brings both ends up. The pair disappears with either namespace.
func Veth(t testing.TB, a, b *NS, nameA, nameB string) {
	t.Helper()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: nameA},
		PeerName:      nameB,
		PeerNamespace: netlink.NsFd(b.handle),
	}
	if err := a.nl.LinkAdd(veth); err != nil {
		t.Fatalf("netnstest: veth %s/%s - %s/%s: %v", a.name, nameA, b.name, nameB, err)
	}
	for _, end := range []struct {
		ns   *NS
		name string
	}{{a, nameA}, {b, nameB}} {
		if err := end.ns.LinkUp(end.name); err != nil {
			t.Fatalf("netnstest: %v", err)
		}
	}
}

// LinkUp sets the interface ifname up.
func (ns *NS) LinkUp(ifname string) error {
	link, err := ns.nl.LinkByName(ifname)
	if err == nil {
		err = ns.nl.LinkSetUp(link)
	}
	if err != nil {
		return fmt.Errorf("link %s up in %s: %w", ifname, ns.name, err)
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
	route := &netlink.Route{Dst: ipNet(dst), Gw: net.IP(via.AsSlice())}
	if err := ns.nl.RouteAdd(route); err != nil {
		return fmt.Errorf("add route %s via %s in %s: %w", dst, via, ns.name, err)
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
