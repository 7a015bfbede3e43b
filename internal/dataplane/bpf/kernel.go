package bpf

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
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
	*kernel.Session
}

func openSession(ns netns.NsHandle) (*session, error) {
	ks, err := kernel.OpenSession(ns)
	if err != nil {
		return nil, err
	}
	return &session{Session: ks}, nil
}

// isGone reports errors that mean "already deleted", for devices too.
func isGone(err error) bool {
	return kernel.IsGone(err) || errors.Is(err, unix.ENODEV)
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
		if err := s.Netlink.LinkAdd(link); err != nil {
			return nil, fmt.Errorf("add anchor device %s: %w", attrs.Name, kernel.AsFeatureError(err, featureBridge))
		}
	}
	steps := []func() error{
		func() error { return s.Netlink.LinkSetAlias(link, anchorAlias(instance)) },
		func() error { return s.Netlink.LinkSetIP6AddrGenMode(link, addrGenModeNone) },
		func() error { return s.Netlink.LinkSetMTU(link, anchorMTU) },
		func() error { return s.Netlink.LinkSetUp(link) },
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
	link, err := s.Netlink.LinkByName(name)
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
	if err := s.Netlink.LinkDel(link); err != nil && !isGone(err) {
		return fmt.Errorf("delete anchor device %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// deleteSeg6Table removes an nftables table "mip6mesh-dp-<instance>" that
// a seg6 run of the same instance left: its rule marks tunnelled packets
// for decapsulation and would bypass this driver's check.
func (s *session) deleteSeg6Table(instance string) error {
	opts := []nftables.ConnOption{}
	if s.NS.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(s.NS)))
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
	return kernel.LocalRoute(cfg.Kernel, cfg.HomeAgent, cfg.Kernel.TunnelTable, lo, encap)
}

// checkRule is "pref <Priority> to <HA>/128 ipproto 41 fwmark 0/<Mark>
// lookup <TunnelTable>": tunnelled packets to the Home Agent address that
// are not marked yet go to the check route. The mark condition makes the
// two rules disjoint, so their order does not matter.
func checkRule(cfg dataplane.Config) *netlink.Rule {
	k := cfg.Kernel
	r := kernel.InstanceRule(k, k.Priority, k.TunnelTable)
	r.Dst = kernel.HostNet(cfg.HomeAgent)
	r.IPProto = protoIPv6
	r.Mark = 0
	r.Mask = &k.Mark
	return r
}
