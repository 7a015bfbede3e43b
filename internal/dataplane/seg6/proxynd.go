package seg6

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// Proxy neighbour discovery on a real home link (RFC 6275 section 10.4.1),
// when Config.HomeLink is set; without it the home prefix is routed to the
// Home Agent and none of this runs.
//
// What the kernel does (Linux 6.18, measured by proxynd_test.go): a
// neighbour entry with NTF_PROXY ("ip -6 neigh add proxy <hoa> dev <link>")
// makes the kernel join the solicited-node group of hoa on the link and
// answer multicast Neighbour Solicitations for hoa with the link's own MAC
// (router and override flags clear, after a random delay of up to the
// link's proxy_delay, 0.8 s by default), provided the link forwards IPv6
// and proxy_ndp is 1 on the link (or on "all"). Start sets the link's
// proxy_ndp to 1 and Close puts the old value back.
//
// Unicast solicitations for hoa (the reachability probes a node sends once
// its entry is stale) are not answered that way: the route to hoa is a seg6
// encap route, whose input hook encapsulates the probe into the tunnel
// before ip6_forward (the only place that checks for proxy entries on
// forwarded packets, and only with net.ipv6.conf.all.proxy_ndp=1) sees it;
// the node's entry ends FAILED. So the driver delivers them locally, to the
// kernel's ND code, which then answers from the proxy entry at once: the
// nftables rule "iifname <link> icmpv6 type nd-neighbor-solicit ip6 daddr
// <home prefix> ip6 daddr != <Home Agent> meta mark set mark | <Mark>" in
// the instance's table, and "local <home prefix> dev lo" in Table, which
// the decapsulation rule looks up for marked packets. (The Home Agent
// address is left out: its /128 in Table is the End.DT6 route.)
//
// At Bind of a home address that had no binding the driver multicasts one
// unsolicited Neighbour Advertisement for it on the home link (override
// set, target link-layer address the link's MAC, to ff02::1, hop limit
// 255), so that nodes that still cache the mobile node's own MAC from its
// time at home switch to the agent's. Linux nodes only update entries they
// already have (accept_untracked_na 0).
//
// Which proxy entries are the agent's: those on the home link whose
// address is inside the home prefix, other than the Home Agent address.
// The home prefix on the home link belongs to the agent, so Start deletes
// such entries (a crashed run's) and Close deletes them all. Entries on
// other links, outside the prefix or for the Home Agent address (which an
// administrator may add when that address is not on the home link) stay.
// After a crash the next run finds proxy_ndp at 1 and takes it for the
// original value, so it is still 1 after that run's Close.

// Neighbour Advertisement fields (RFC 4861 section 4.4).
const (
	naFlagOverride           = 0x20 // the first byte after the ICMPv6 header: R S O
	ndOptTargetLinkLayerAddr = 2
	ndHopLimit               = 255 // receivers drop ND messages with any other
)

// proxyND answers neighbour discovery for bound home addresses on the home
// link. Until find has found the link (and always on a virtual home
// network) every method does nothing.
type proxyND struct {
	cfg        dataplane.Config
	index      int // of the home link; 0 while not found
	proxyNDP   sysctlGuard
	proxyDelay sysctlGuard
}

func newProxyND(cfg dataplane.Config) proxyND {
	return proxyND{
		cfg:        cfg,
		proxyNDP:   sysctlGuard{ns: cfg.NetNS, key: "net/ipv6/conf/" + cfg.HomeLink + "/proxy_ndp"},
		proxyDelay: sysctlGuard{ns: cfg.NetNS, key: "net/ipv6/neigh/" + cfg.HomeLink + "/proxy_delay"},
	}
}

// find looks the home link up and checks that it runs neighbour
// discovery; it changes nothing.
func (p *proxyND) find(s *session) error {
	if p.cfg.HomeLink == "" {
		return nil
	}
	link, err := s.Netlink.LinkByName(p.cfg.HomeLink)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return p.badLink("no such interface in the namespace")
	}
	if err != nil {
		return fmt.Errorf("find home link %s: %w", p.cfg.HomeLink, err)
	}
	a := link.Attrs()
	if a.RawFlags&(unix.IFF_LOOPBACK|unix.IFF_NOARP) != 0 || len(a.HardwareAddr) == 0 {
		return p.badLink("runs no neighbour discovery (loopback, NOARP or no link-layer address)")
	}
	p.index = a.Index
	return nil
}

func (p *proxyND) badLink(reason string) error {
	return &dataplane.ValueError{Field: "Config.HomeLink", Value: p.cfg.HomeLink, Reason: reason}
}

// start checks that the home link forwards IPv6 (the kernel proxies only
// then), turns proxy_ndp on and proxy_delay off. The kernel delays proxy
// answers by a random time up to proxy_delay (0.8 s by default), as RFC
// 4861 section 7.2.8 asks where several proxies may answer for one
// address; a home address has one Home Agent, and the delay would hold up
// a correspondent's first packet to it.
func (p *proxyND) start(s *session) error {
	if p.index == 0 {
		return nil
	}
	key := "net/ipv6/conf/" + p.cfg.HomeLink + "/forwarding"
	value, err := readSysctl(s.NS, key)
	if err != nil {
		return err
	}
	if value != "1" {
		return fmt.Errorf("home link %s: %s is %s: %w", p.cfg.HomeLink, key, value, dataplane.ErrForwardingDisabled)
	}
	if err := p.proxyNDP.set("1"); err != nil {
		return err
	}
	return p.proxyDelay.set("0")
}

// deliverSolicitations makes unicast solicitations from the home link to
// the home prefix local (see above); the instance's nftables table and the
// decapsulation rule must exist. The sweep by protocol and the deletion of
// the table remove both objects.
func (p *proxyND) deliverSolicitations(s *session) error {
	if p.index == 0 {
		return nil
	}
	k := p.cfg.Kernel
	route := &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Type:      unix.RTN_LOCAL,
		Dst:       &net.IPNet{IP: net.IP(p.cfg.HomePrefix.Addr().AsSlice()), Mask: net.CIDRMask(p.cfg.HomePrefix.Bits(), 128)},
		LinkIndex: s.LoIndex,
		Table:     int(k.Table),
		Protocol:  netlink.RouteProtocol(k.Protocol),
	}
	if err := s.AddRoute(route, "local routes"); err != nil {
		return err
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: tableName(p.cfg.Instance)}
	s.nft.AddRule(&nftables.Rule{
		Table: table,
		Chain: &nftables.Chain{Name: chainName, Table: table},
		Exprs: slices.Concat(solicitationsFrom(p.cfg.HomeLink, p.cfg.HomePrefix, p.cfg.HomeAgent), setMark(k.Mark)),
	})
	if err := s.nft.Flush(); err != nil {
		return fmt.Errorf("add nft rule for solicitations on %s: %w", p.cfg.HomeLink, err)
	}
	return nil
}

// solicitationsFrom matches "iifname <link> meta l4proto ipv6-icmp
// icmpv6 type nd-neighbor-solicit ip6 daddr <prefix> ip6 daddr != <except>".
func solicitationsFrom(link string, prefix netip.Prefix, except netip.Addr) []expr.Any {
	name := make([]byte, unix.IFNAMSIZ)
	copy(name, link)
	mask := net.CIDRMask(prefix.Bits(), 128)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: regFirst},
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: name},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regFirst},
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: []byte{unix.IPPROTO_ICMPV6}},
		&expr.Payload{DestRegister: regFirst, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: []byte{byte(ipv6.ICMPTypeNeighborSolicitation)}},
		load(regFirst, offDst, 16),
		&expr.Bitwise{SourceRegister: regFirst, DestRegister: regFirst, Len: 16, Mask: mask, Xor: make([]byte, 16)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: addrKey(prefix.Addr())},
		load(regFirst, offDst, 16),
		&expr.Cmp{Op: expr.CmpOpNeq, Register: regFirst, Data: addrKey(except)},
	}
}

// stop deletes the agent's proxy entries and puts proxy_ndp and
// proxy_delay back.
func (p *proxyND) stop(s *session) error {
	if p.index == 0 {
		return nil
	}
	return errors.Join(p.sweep(s), p.proxyNDP.restore(), p.proxyDelay.restore())
}

// sweep deletes every proxy entry on the home link that is the agent's
// (see the rule above).
func (p *proxyND) sweep(s *session) error {
	if p.index == 0 {
		return nil
	}
	entries, err := s.Netlink.NeighProxyList(p.index, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("list proxy neighbours on %s: %w", p.cfg.HomeLink, err)
	}
	var errs []error
	for _, e := range entries {
		a, ok := netip.AddrFromSlice(e.IP)
		if ok && e.LinkIndex == p.index && p.cfg.HomePrefix.Contains(a) && a != p.cfg.HomeAgent {
			errs = append(errs, p.remove(s, a))
		}
	}
	return errors.Join(errs...)
}

func (p *proxyND) entry(hoa netip.Addr) *netlink.Neigh {
	return &netlink.Neigh{
		LinkIndex: p.index,
		Family:    netlink.FAMILY_V6,
		State:     netlink.NUD_PERMANENT,
		Flags:     netlink.NTF_PROXY,
		IP:        net.IP(hoa.AsSlice()),
	}
}

// add makes the kernel answer solicitations for hoa on the home link and
// announces hoa there; on failure it leaves no entry.
func (p *proxyND) add(s *session, hoa netip.Addr) error {
	if p.index == 0 {
		return nil
	}
	if err := s.Netlink.NeighSet(p.entry(hoa)); err != nil {
		return fmt.Errorf("add proxy neighbour %s dev %s: %w", hoa, p.cfg.HomeLink, err)
	}
	if err := p.advertise(s, hoa); err != nil {
		return errors.Join(err, p.remove(s, hoa))
	}
	return nil
}

// remove deletes the proxy entry of hoa, if there is one.
func (p *proxyND) remove(s *session, hoa netip.Addr) error {
	if p.index == 0 {
		return nil
	}
	if err := s.Netlink.NeighDel(p.entry(hoa)); err != nil && !kernel.IsGone(err) {
		return fmt.Errorf("delete proxy neighbour %s dev %s: %w", hoa, p.cfg.HomeLink, err)
	}
	return nil
}

// advertise multicasts an unsolicited Neighbour Advertisement for hoa with
// the home link's current MAC to all nodes on the link.
func (p *proxyND) advertise(s *session, hoa netip.Addr) error {
	link, err := s.Netlink.LinkByIndex(p.index)
	if err != nil {
		return fmt.Errorf("home link %s: %w", p.cfg.HomeLink, err)
	}
	msg, err := neighborAdvertisement(hoa, link.Attrs().HardwareAddr)
	if err == nil {
		err = nsexec.Run(s.NS, func() error { return sendToAllNodes(p.index, msg) })
	}
	if err != nil {
		return fmt.Errorf("neighbour advertisement for %s on %s: %w", hoa, p.cfg.HomeLink, err)
	}
	return nil
}

// neighborAdvertisement is an unsolicited Neighbour Advertisement for
// target (RFC 4861 section 4.4; RFC 6275 section 10.4.1): router and
// solicited flags clear, override set, one Target Link-Layer Address
// option. The checksum is left zero: the kernel fills it in on ICMPv6
// sockets.
func neighborAdvertisement(target netip.Addr, lladdr net.HardwareAddr) ([]byte, error) {
	t := target.As16()
	optLen := (2 + len(lladdr) + 7) / 8 // in units of 8 octets, type and length included
	body := make([]byte, 4+16+optLen*8)
	body[0] = naFlagOverride
	copy(body[4:], t[:])
	opt := body[20:]
	opt[0], opt[1] = ndOptTargetLinkLayerAddr, byte(optLen)
	copy(opt[2:], lladdr)
	m := icmp.Message{Type: ipv6.ICMPTypeNeighborAdvertisement, Body: &icmp.RawBody{Data: body}}
	return m.Marshal(nil)
}

// sendToAllNodes sends an ICMPv6 message to ff02::1 on interface ifindex
// with hop limit 255, from the calling thread's namespace; the kernel
// picks the source (the link-local address).
func sendToAllNodes(ifindex int, msg []byte) error {
	conn, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return err
	}
	cm := &ipv6.ControlMessage{HopLimit: ndHopLimit, IfIndex: ifindex}
	_, err = conn.IPv6PacketConn().WriteTo(msg, cm, &net.IPAddr{IP: net.IPv6linklocalallnodes})
	return errors.Join(err, conn.Close())
}
