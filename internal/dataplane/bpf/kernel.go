package bpf

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

const (
	featureLWTBPF   = "LWT BPF (CONFIG_LWTUNNEL_BPF)"
	featureSeg6     = "seg6local lightweight tunnels (CONFIG_IPV6_SEG6_LWTUNNEL)"
	featureBridge   = "bridge devices (CONFIG_BRIDGE)"
	nftTablePrefix  = "mip6mesh-dp-" // the seg6 driver's table of an instance
	anchorPrefix    = "mip6ha"       // + 8 hex digits: the anchor device
	anchorMTU       = 1500           // minus the 40-byte outer header for forwarded packets
	addrGenModeNone = 1              // IN6_ADDR_GEN_MODE_NONE: no link-local address
)

// session is the rtnetlink connection of one started instance, bound to
// the instance's network namespace.
type session struct {
	ns      netns.NsHandle
	nl      *netlink.Handle
	loIndex int
}

func openSession(ns netns.NsHandle) (*session, error) {
	s := &session{ns: ns}
	err := nsexec.Run(ns, func() error {
		var err error
		s.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	lo, err := s.nl.LinkByName("lo")
	if err != nil {
		s.nl.Close()
		return nil, fmt.Errorf("find lo: %w", err)
	}
	s.loIndex = lo.Attrs().Index
	return s, nil
}

func (s *session) close() { s.nl.Close() }

// checkForwarding fails unless net.ipv6.conf.all.forwarding is 1.
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

// anchorName is the name of the instance's anchor device: a hash of the
// instance name, because instance names may be longer than an interface
// name (15 bytes). The alias carries the readable name.
func anchorName(instance string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(instance))
	return fmt.Sprintf("%s%08x", anchorPrefix, h.Sum32())
}

func anchorAlias(instance string) string { return nftTablePrefix + instance }

// anchor returns the anchor device, creating it if needed: a bridge
// without ports, up, without addresses. It only gives the home-prefix
// route a device (a route through lo would be a reject route); the
// program on that route tunnels or drops every packet, so nothing is ever
// sent on it. The anchor of a crashed run is adopted, so that a restart
// ends up exactly like a fresh start.
func (s *session) anchor(instance string) (netlink.Link, error) {
	link, err := s.findAnchor(instance)
	if err != nil {
		return nil, err
	}
	if link == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = anchorName(instance)
		link = &netlink.Bridge{LinkAttrs: attrs}
		if err := s.nl.LinkAdd(link); err != nil {
			return nil, fmt.Errorf("add anchor device %s: %w", attrs.Name, asFeatureError(err, featureBridge))
		}
	}
	steps := []func() error{
		func() error { return s.nl.LinkSetAlias(link, anchorAlias(instance)) },
		func() error { return s.nl.LinkSetIP6AddrGenMode(link, addrGenModeNone) },
		func() error { return s.nl.LinkSetMTU(link, anchorMTU) },
		func() error { return s.nl.LinkSetUp(link) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("set up anchor device %s: %w", link.Attrs().Name, err)
		}
	}
	return link, nil
}

// findAnchor returns the instance's anchor device, or nil if there is
// none. A link of that name that is not a bridge with the instance's
// alias (or, before the alias is set, without alias) is not ours: error.
func (s *session) findAnchor(instance string) (netlink.Link, error) {
	name := anchorName(instance)
	link, err := s.nl.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find anchor device %s: %w", name, err)
	}
	if alias := link.Attrs().Alias; link.Type() != "bridge" || alias != anchorAlias(instance) && alias != "" {
		return nil, fmt.Errorf("device %s exists but is not the anchor of instance %q (type %s, alias %q)",
			name, instance, link.Type(), alias)
	}
	return link, nil
}

// deleteAnchor removes the instance's anchor device if it exists.
func (s *session) deleteAnchor(instance string) error {
	link, err := s.findAnchor(instance)
	if err != nil || link == nil {
		return err
	}
	if err := s.nl.LinkDel(link); err != nil && !isGone(err) {
		return fmt.Errorf("delete anchor device %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// deleteSeg6Table removes an nftables table "mip6mesh-dp-<instance>" that
// a seg6 run of the same instance left: its rule marks tunnelled packets
// for decapsulation and would bypass this driver's check.
func (s *session) deleteSeg6Table(instance string) error {
	opts := []nftables.ConnOption{}
	if s.ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(s.ns)))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return fmt.Errorf("list nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == nftTablePrefix+instance {
			conn.DelTable(t)
			if err := conn.Flush(); err != nil && !isGone(err) {
				return fmt.Errorf("delete nft table %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

func hostNet(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(128, 128)}
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 128)}
}

// encapRoute is "<home prefix> encap bpf xmit <encap> headroom 40 dev
// <anchor> table <ForwardTable>". The headroom makes the kernel announce
// an MTU 40 bytes below the anchor's to senders of packets too big.
func encapRoute(cfg dataplane.Config, prog, anchor int) *netlink.Route {
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Dst:       prefixNet(cfg.HomePrefix),
		LinkIndex: anchor,
		Table:     int(cfg.Kernel.ForwardTable),
		Protocol:  netlink.RouteProtocol(cfg.Kernel.Protocol),
		Encap:     &lwtBPF{mode: nl.LWT_BPF_XMIT, fd: prog, name: routeProgName(cfg, "encap"), headroom: ipv6HeaderLen},
	}
}

// routeProgName names a program in "ip route" output:
// "mip6mesh-dp-<instance>:<role>".
func routeProgName(cfg dataplane.Config, role string) string {
	return anchorAlias(cfg.Instance) + ":" + role
}

// checkRoute is "local <HA>/128 encap bpf in <check> dev lo table
// <TunnelTable>". Type local: the kernel turns unicast routes through lo
// into reject routes, and packets the program lets pass (BPF_OK) are
// delivered locally.
func checkRoute(cfg dataplane.Config, prog, lo int) *netlink.Route {
	encap := &lwtBPF{mode: nl.LWT_BPF_IN, fd: prog, name: routeProgName(cfg, "check")}
	return localRoute(cfg, cfg.Kernel.TunnelTable, lo, encap)
}

// decapRoute is "local <HA>/128 encap seg6local action End.DT6 table
// <ForwardTable> dev lo table <Table>": the kernel strips the outer header
// and looks the inner destination up in the forwarding table.
func decapRoute(cfg dataplane.Config, lo int) *netlink.Route {
	encap := &netlink.SEG6LocalEncap{Action: nl.SEG6_LOCAL_ACTION_END_DT6, Table: int(cfg.Kernel.ForwardTable)}
	encap.Flags[nl.SEG6_LOCAL_ACTION] = true
	encap.Flags[nl.SEG6_LOCAL_TABLE] = true
	return localRoute(cfg, cfg.Kernel.Table, lo, encap)
}

func localRoute(cfg dataplane.Config, table uint32, lo int, encap netlink.Encap) *netlink.Route {
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Type:      unix.RTN_LOCAL,
		Dst:       hostNet(cfg.HomeAgent),
		LinkIndex: lo,
		Table:     int(table),
		Protocol:  netlink.RouteProtocol(cfg.Kernel.Protocol),
		Encap:     encap,
	}
}

// decapRule is "pref <Priority> fwmark <Mark>/<Mark> lookup <Table>": the
// packets the check program marked go to the decapsulation route.
func decapRule(k dataplane.Kernel) *netlink.Rule {
	r := instanceRule(k, k.Priority, k.Table)
	r.Mark = k.Mark
	r.Mask = &k.Mark
	return r
}

// checkRule is "pref <Priority> to <HA>/128 ipproto 41 fwmark 0/<Mark>
// lookup <TunnelTable>": tunnelled packets to the Home Agent address that
// are not marked yet go to the check route. The mark condition makes the
// two rules disjoint, so their order does not matter.
func checkRule(cfg dataplane.Config) *netlink.Rule {
	k := cfg.Kernel
	r := instanceRule(k, k.Priority, k.TunnelTable)
	r.Dst = hostNet(cfg.HomeAgent)
	r.IPProto = protoIPv6
	r.Mark = 0
	r.Mask = &k.Mark
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

func (s *session) addRoute(r *netlink.Route, feature string) error {
	if err := s.nl.RouteReplace(r); err != nil {
		return fmt.Errorf("add route %s table %d: %w", r.Dst, r.Table, asFeatureError(err, feature))
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
		key := &netlink.Route{Family: netlink.FAMILY_V6, Dst: r.Dst, Table: r.Table, Protocol: r.Protocol, Priority: r.Priority, Type: r.Type}
		if err := s.nl.RouteDel(key); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("delete route %s table %d: %w", r.Dst, r.Table, err))
		}
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
		if r.Protocol != protocol || r.Table == unix.RT_TABLE_LOCAL {
			continue
		}
		if err := s.nl.RuleDel(ruleKey(r)); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("delete rule pref %d: %w", r.Priority, err))
		}
	}
	return errors.Join(errs...)
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
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV)
}

// asFeatureError turns "not supported" answers into a
// dataplane.FeatureError naming feature.
func asFeatureError(err error, feature string) error {
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT) {
		return &dataplane.FeatureError{Feature: feature, Err: err}
	}
	return err
}
