package seg6

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// seg6ModeEncapRed is SEG6_IPTUN_MODE_ENCAP_RED (include/uapi/linux/
// seg6_iptunnel.h): with one segment the kernel adds no routing header.
const seg6ModeEncapRed = 3

// rtTableLocal is the kernel's local table (RT_TABLE_LOCAL).
const rtTableLocal = unix.RT_TABLE_LOCAL

func defaultNet() *net.IPNet {
	return &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
}

// encapRoute is "<dst> encap seg6 mode encap.red segs <peer> dev <link>".
func encapRoute(k dataplane.Kernel, dst *net.IPNet, peer netip.Addr, link int, table uint32) *netlink.Route {
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Dst:       dst,
		LinkIndex: link,
		Table:     int(table),
		Protocol:  netlink.RouteProtocol(k.Protocol),
		Encap: &netlink.SEG6Encap{
			Mode:     seg6ModeEncapRed,
			Segments: []net.IP{net.IP(peer.AsSlice())},
		},
	}
}

// blockMetric is the metric of the unreachable default route: worse than
// any real default route, so the two coexist.
const blockMetric = 0xffffff

// unreachableDefault blocks a table whenever it has no real default route:
// before the first Attach, and whenever the kernel deletes the tunnel's
// route because its access link went down. Without it, traffic from the
// home address would fall through to the main table and leave untunnelled.
func unreachableDefault(k dataplane.Kernel, table uint32) *netlink.Route {
	return &netlink.Route{
		Family:   netlink.FAMILY_V6,
		Type:     unix.RTN_UNREACHABLE,
		Dst:      defaultNet(),
		Table:    int(table),
		Protocol: netlink.RouteProtocol(k.Protocol),
		Priority: blockMetric,
	}
}

// homeAddressRule is "pref <Priority+2> from <hoa> lookup <TunnelTable>".
func homeAddressRule(k dataplane.Kernel, hoa netip.Addr) *netlink.Rule {
	r := kernel.InstanceRule(k, k.Priority+2, k.TunnelTable)
	r.Src = kernel.HostNet(hoa)
	return r
}

// How often and how long awaitLocalRoute looks.
const (
	localRoutePoll    = 5 * time.Millisecond
	localRouteTimeout = 2 * time.Second
)

// awaitLocalRoute waits until table local holds addr: the kernel installs
// the local route of a new address from a work queue, after the netlink
// request has returned.
func (s *session) awaitLocalRoute(ctx context.Context, addr netip.Addr) error {
	ctx, cancel := context.WithTimeout(ctx, localRouteTimeout)
	defer cancel()
	filter := &netlink.Route{Table: rtTableLocal, Dst: kernel.HostNet(addr)}
	for {
		routes, err := s.Netlink.RouteListFiltered(netlink.FAMILY_V6, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
		if err != nil {
			return fmt.Errorf("wait for local route %s: %w", addr, err)
		}
		if len(routes) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for local route %s: %w", addr, ctx.Err())
		case <-time.After(localRoutePoll):
		}
	}
}

// tunnelSource fails unless coa is an address of link, and returns the
// tunsrc that makes it the outer source of packets encapsulated by a route
// through link: the unspecified address (unset) when source address
// selection on link picks coa anyway, coa itself otherwise.
//
// Selection (RFC 6724, ipv6_dev_get_saddr) toward a global destination
// prefers, after scope, non-deprecated addresses and then home addresses
// (IFA_F_HOMEADDRESS) before it prefers the outgoing interface. So it
// picks coa if coa is not deprecated, link holds no other global address,
// and no address of the namespace is flagged as a home address.
func (s *session) tunnelSource(link netlink.Link, coa netip.Addr) (netip.Addr, error) {
	addrs, err := s.Netlink.AddrList(nil, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list addresses: %w", err)
	}
	index := link.Attrs().Index
	configured, selected := false, true
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		onLink := a.LinkIndex == index
		switch {
		case onLink && ip.Unmap() == coa:
			configured = true
			selected = selected && a.Flags&unix.IFA_F_DEPRECATED == 0
		case a.Flags&unix.IFA_F_HOMEADDRESS != 0:
			selected = false
		case onLink && a.Scope == unix.RT_SCOPE_UNIVERSE && a.Flags&unix.IFA_F_DADFAILED == 0:
			selected = false // another global address competes
		}
	}
	if !configured {
		return netip.Addr{}, &dataplane.ValueError{
			Field:  "care-of address",
			Value:  coa.String(),
			Reason: "not configured on " + link.Attrs().Name,
		}
	}
	if selected {
		return netip.IPv6Unspecified(), nil
	}
	return coa, nil
}

// egressTo returns the interface the namespace routes dst through.
func (s *session) egressTo(dst netip.Addr) (int, error) {
	routes, err := s.Netlink.RouteGet(net.IP(dst.AsSlice()))
	if err != nil {
		return 0, fmt.Errorf("no route to %s: %w", dst, err)
	}
	if len(routes) == 0 || routes[0].LinkIndex == 0 {
		return 0, fmt.Errorf("no route to %s", dst)
	}
	return routes[0].LinkIndex, nil
}

// session holds the kernel connections of one started instance, all bound
// to the instance's network namespace: the shared rtnetlink session and an
// nftables connection.
type session struct {
	*kernel.Session
	nft *nftables.Conn
}

func openSession(ns netns.NsHandle) (*session, error) {
	ks, err := kernel.OpenSession(ns)
	if err != nil {
		return nil, err
	}
	s := &session{Session: ks}
	if s.nft, err = openNFT(ns); err != nil {
		ks.Close()
		return nil, err
	}
	return s, nil
}

func openNFT(ns netns.NsHandle) (*nftables.Conn, error) {
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(ns)))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	return conn, nil
}

func (s *session) close() error {
	s.Close() // the rtnetlink connection
	if err := s.nft.CloseLasting(); err != nil {
		return fmt.Errorf("close nftables: %w", err)
	}
	return nil
}
