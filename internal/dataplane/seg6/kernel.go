package seg6

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// seg6ModeEncapRed is SEG6_IPTUN_MODE_ENCAP_RED (include/uapi/linux/
// seg6_iptunnel.h): with one segment the kernel adds no routing header.
const seg6ModeEncapRed = 3

// rtTableLocal is the kernel's local table (RT_TABLE_LOCAL).
const rtTableLocal = unix.RT_TABLE_LOCAL

func hostNet(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(128, 128)}
}

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

// decapRoute is "local <endpoint>/128 encap seg6local action End.DT6
// table <lookup> dev lo table <k.Table>". Type local is required: the
// kernel turns unicast routes through lo into reject routes.
func decapRoute(k dataplane.Kernel, endpoint netip.Addr, lookup uint32, lo int) *netlink.Route {
	encap := &netlink.SEG6LocalEncap{Action: nl.SEG6_LOCAL_ACTION_END_DT6, Table: int(lookup)}
	encap.Flags[nl.SEG6_LOCAL_ACTION] = true
	encap.Flags[nl.SEG6_LOCAL_TABLE] = true
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Type:      unix.RTN_LOCAL,
		Dst:       hostNet(endpoint),
		LinkIndex: lo,
		Table:     int(k.Table),
		Protocol:  netlink.RouteProtocol(k.Protocol),
		Encap:     encap,
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

// routeKey is the minimal route description the kernel needs to delete it.
func routeKey(r netlink.Route) *netlink.Route {
	return &netlink.Route{
		Family:   netlink.FAMILY_V6,
		Dst:      r.Dst,
		Table:    r.Table,
		Protocol: r.Protocol,
		Priority: r.Priority,
		Type:     r.Type,
	}
}

// decapRule is "pref <Priority> fwmark <Mark>/<Mark> lookup <Table>".
func decapRule(k dataplane.Kernel) *netlink.Rule {
	r := instanceRule(k, k.Priority, k.Table)
	r.Mark = k.Mark
	r.Mask = &k.Mark
	return r
}

// homeAddressRule is "pref <Priority+2> from <hoa> lookup <TunnelTable>".
func homeAddressRule(k dataplane.Kernel, hoa netip.Addr) *netlink.Rule {
	r := instanceRule(k, k.Priority+2, k.TunnelTable)
	r.Src = hostNet(hoa)
	return r
}

func instanceRule(k dataplane.Kernel, priority, table uint32) *netlink.Rule {
	r := netlink.NewRule()
	r.Family = netlink.FAMILY_V6
	r.Priority = int(priority)
	r.Table = int(table)
	r.Protocol = k.Protocol
	return r
}

// ruleKey is the minimal rule description the kernel needs to delete it.
func ruleKey(r netlink.Rule) *netlink.Rule {
	key := netlink.NewRule()
	key.Family = netlink.FAMILY_V6
	key.Priority = r.Priority
	key.Table = r.Table
	key.Protocol = r.Protocol
	return key
}

// isGone reports errors that mean "already deleted".
func isGone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}

// asFeatureError turns "operation not supported" answers into a
// dataplane.FeatureError naming feature.
func asFeatureError(err error, feature string) error {
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT) {
		return &dataplane.FeatureError{Feature: feature, Err: err}
	}
	return err
}

// checkForwarding fails unless net.ipv6.conf.all.forwarding is 1 in the
// session's namespace.
func (s *session) checkForwarding() error {
	var value []byte
	err := nsexec.Run(s.ns, func() error {
		var err error
		value, err = os.ReadFile("/proc/sys/net/ipv6/conf/all/forwarding")
		return err
	})
	if err != nil {
		return fmt.Errorf("read ipv6 forwarding: %w", err)
	}
	if strings.TrimSpace(string(value)) != "1" {
		return dataplane.ErrForwardingDisabled
	}
	return nil
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
	filter := &netlink.Route{Table: rtTableLocal, Dst: hostNet(addr)}
	for {
		routes, err := s.nl.RouteListFiltered(netlink.FAMILY_V6, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
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
	addrs, err := s.nl.AddrList(nil, netlink.FAMILY_V6)
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
	routes, err := s.nl.RouteGet(net.IP(dst.AsSlice()))
	if err != nil {
		return 0, fmt.Errorf("no route to %s: %w", dst, err)
	}
	if len(routes) == 0 || routes[0].LinkIndex == 0 {
		return 0, fmt.Errorf("no route to %s", dst)
	}
	return routes[0].LinkIndex, nil
}

func (s *session) addRoute(r *netlink.Route, feature string) error {
	if err := s.nl.RouteReplace(r); err != nil {
		return fmt.Errorf("add route %s table %d: %w", r.Dst, r.Table, asFeatureError(err, feature))
	}
	return nil
}

func (s *session) deleteRoute(r *netlink.Route) error {
	if err := s.nl.RouteDel(routeKey(*r)); err != nil && !isGone(err) {
		return fmt.Errorf("delete route %s table %d: %w", r.Dst, r.Table, err)
	}
	return nil
}

func (s *session) addRule(r *netlink.Rule) error {
	if err := s.nl.RuleAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule pref %d lookup %d: %w", r.Priority, r.Table, err)
	}
	return nil
}

// sweep deletes every IPv6 route and rule that carries protocol, except
// "lookup local" rules (see restoreLocalRule).
func (s *session) sweep(protocol uint8) error {
	return errors.Join(s.sweepRoutes(protocol), s.sweepRules(protocol))
}

func (s *session) sweepRoutes(protocol uint8) error {
	filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: netlink.RouteProtocol(protocol)}
	routes, err := s.nl.RouteListFiltered(netlink.FAMILY_V6, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	var errs []error
	for _, r := range routes {
		errs = append(errs, s.deleteRoute(&r))
	}
	return errors.Join(errs...)
}

func (s *session) sweepRules(protocol uint8) error {
	rules, err := s.nl.RuleList(netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	var errs []error
	for _, r := range rules {
		if r.Protocol != protocol || r.Table == rtTableLocal {
			continue
		}
		if err := s.nl.RuleDel(ruleKey(r)); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("delete rule pref %d: %w", r.Priority, err))
		}
	}
	return errors.Join(errs...)
}
