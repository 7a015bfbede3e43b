package seg6_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// The home-link topology, documentation prefixes only:
//
//	CN c0 ---- h0 HA a1 ---- m1 MN
//	home link 2001:db8:1::/64     access link 2001:db8:a::/64
//	CN ::2, HA ::1 (the Home Agent address)
//
// The CN has no route but its on-link /64: it reaches the home address only
// if someone answers neighbour discovery for it on the home link.
var (
	cnOnHomeLink = netip.MustParseAddr("2001:db8:1::2")
	allNodes     = netip.MustParseAddr("ff02::1")
	// mnAtHome is the MAC the mobile node had while it was at home.
	mnAtHome = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x01, 0x00}
)

const homeLink = "h0"

func newHomeLinkTopology(t *testing.T) *dptest.Topology {
	t.Helper()
	tp := &dptest.Topology{
		CN: netnstest.New(t, "cn"),
		HA: netnstest.New(t, "ha"),
		MN: netnstest.New(t, "mn"),
	}
	netnstest.Veth(t, tp.CN, tp.HA, "c0", homeLink)
	netnstest.Veth(t, tp.HA, tp.MN, "a1", "m1")
	dptest.Must(t, tp.CN.AddAddr("c0", netip.PrefixFrom(cnOnHomeLink, 64)))
	dptest.Must(t, tp.HA.AddAddr(homeLink, netip.PrefixFrom(dptest.HAAddr, 64)))
	dptest.Must(t, tp.HA.AddAddr("a1", netip.PrefixFrom(dptest.Router1, 64)))
	dptest.Must(t, tp.MN.AddAddr("m1", netip.PrefixFrom(dptest.CoA1, 64)))
	dptest.Must(t, tp.MN.AddRoute(dptest.DefaultDst, dptest.Router1))
	dptest.Must(t, tp.HA.EnableIPv6Forwarding())
	dumpNeighboursOnFailure(t, tp)
	return tp
}

func homeLinkConfig(tp *dptest.Topology) dataplane.Config {
	cfg := tp.HomeAgentConfig()
	cfg.HomeLink = homeLink
	return cfg
}

// TestProxyNDOnHomeLink is the main path on a real home link: at Bind the
// HA announces the home address with an unsolicited NA that overrides the
// CN's stale entry; the CN resolves the home address by ND to the HA's MAC
// and pings it through the tunnel; reachability probes are answered too;
// after Unbind nobody answers; Close restores the namespace.
func TestProxyNDOnHomeLink(t *testing.T) {
	t.Parallel()
	tp := newHomeLinkTopology(t)
	tp.DumpOnFailure(t)
	haBase, mnBase := dptest.TakeBaseline(t, tp.HA), dptest.TakeBaseline(t, tp.MN)
	ndBase := proxyState(t, tp.HA, homeLink)
	ctx := t.Context()

	ha := startHomeAgent(t, homeLinkConfig(tp))
	if got, err := tp.HA.ReadSysctl("net.ipv6.neigh." + homeLink + ".proxy_delay"); err != nil || got != "0" {
		t.Errorf("proxy_delay on the home link = %q (%v), want 0: a home address has one proxy, the HA", got, err)
	}
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	haMAC := linkMAC(t, tp.HA, homeLink)

	// The CN still caches the mobile node's MAC from its time at home.
	setNeighbour(t, tp.CN, dptest.HomeAddr, mnAtHome, netlink.NUD_STALE)
	onHomeLink := tp.CN.Capture(t, "c0")
	access := tp.MN.Capture(t, "m1")
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	assertUnsolicitedNA(t, onHomeLink, dptest.HomeAddr, haMAC)
	awaitNeighbour(t, tp.CN, dptest.HomeAddr, func(n *netlink.Neigh) bool { return bytes.Equal(n.HardwareAddr, haMAC) },
		"the unsolicited NA to override the mobile node's MAC with the HA's")

	// Without an entry the CN solicits; the kernel answers for the HA.
	deleteNeighbour(t, tp.CN, dptest.HomeAddr)
	dptest.Must(t, tp.CN.Ping(ctx, cnOnHomeLink, dptest.HomeAddr))
	if n := neighbour(t, tp.CN, dptest.HomeAddr); n == nil || !bytes.Equal(n.HardwareAddr, haMAC) {
		t.Errorf("CN resolved the home address to %v, want the HA's home-link MAC %s", n, haMAC)
	}
	assertTunnelledOnHomeLink(t, access)

	// A reachability probe is a unicast NS to the home address, which the
	// encap route would tunnel; the driver has it delivered to ND instead.
	// Unanswered, the entry would turn FAILED after three probes (3 s).
	setNeighbour(t, tp.CN, dptest.HomeAddr, haMAC, netlink.NUD_PROBE)
	awaitNeighbour(t, tp.CN, dptest.HomeAddr, func(n *netlink.Neigh) bool { return n.State == netlink.NUD_REACHABLE },
		"the HA to answer the CN's unicast reachability probe")

	dptest.Must(t, ha.Unbind(ctx, dptest.HomeAddr))
	if got := proxyEntries(t, tp.HA); len(got) != 0 {
		t.Errorf("proxy entries after Unbind: %v", got)
	}
	deleteNeighbour(t, tp.CN, dptest.HomeAddr)
	noReply, cancel := context.WithTimeout(ctx, 1500*time.Millisecond) // > proxy_delay, 0.8 s
	defer cancel()
	if err := tp.CN.Ping(noReply, cnOnHomeLink, dptest.HomeAddr); err == nil {
		t.Error("ping to the home address succeeded after Unbind")
	}
	if n := neighbour(t, tp.CN, dptest.HomeAddr); n != nil && len(n.HardwareAddr) > 0 {
		t.Errorf("CN resolved the home address after Unbind: %v", n)
	}

	dptest.Must(t, mn.Close())
	dptest.Must(t, ha.Close())
	haBase.AssertRestored(t)
	mnBase.AssertRestored(t)
	if got := proxyState(t, tp.HA, homeLink); got != ndBase {
		t.Errorf("proxy ND state after Close:\n%s\nbaseline:\n%s", got, ndBase)
	}
}

// TestProxyNDStartRemovesStaleEntries: a crashed HA leaves its proxy
// entries; the next Start with the same Config removes exactly those (on
// the home link, inside the home prefix, not the HA address) and leaves
// other proxy entries alone; Close removes the new run's.
func TestProxyNDStartRemovesStaleEntries(t *testing.T) {
	t.Parallel()
	tp := newHomeLinkTopology(t)
	ctx := t.Context()
	base := dptest.TakeBaseline(t, tp.HA)
	foreign := []struct {
		link string
		addr netip.Addr
	}{
		{homeLink, netip.MustParseAddr("2001:db8:9::9")}, // outside the home prefix
		{homeLink, dptest.HAAddr},                        // the Home Agent address
		{"a1", netip.MustParseAddr("2001:db8:1::300")},   // another link
	}
	for _, f := range foreign {
		dptest.Must(t, tp.HA.Netlink().NeighSet(proxyEntry(t, tp.HA, f.link, f.addr)))
	}
	others := proxyEntries(t, tp.HA)

	crashed := startHomeAgent(t, homeLinkConfig(tp))
	fresh := dptest.Snapshot(t, tp.HA)
	dptest.Must(t, crashed.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	dptest.Must(t, crashed.Bind(ctx, dptest.OtherHome, dptest.CoA1))
	seg6.Abandon(crashed)
	stale := proxyEntries(t, tp.HA)
	if len(stale) != len(others)+2 {
		t.Fatalf("the crashed run left proxy entries %v, want its two beside %v", stale, others)
	}

	ha := startHomeAgent(t, homeLinkConfig(tp))
	if got := proxyEntries(t, tp.HA); !slices.Equal(got, others) {
		t.Errorf("proxy entries after restart: %v, want only the foreign %v", got, others)
	}
	if diff := dptest.Snapshot(t, tp.HA).Diff(fresh); diff != "" {
		t.Errorf("home agent after restart differs from a fresh start:\n%s", diff)
	}
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	if got := proxyEntries(t, tp.HA); len(got) != len(others)+1 {
		t.Errorf("proxy entries after Bind: %v", got)
	}
	dptest.Must(t, ha.Close())
	if got := proxyEntries(t, tp.HA); !slices.Equal(got, others) {
		t.Errorf("proxy entries after Close: %v, want only the foreign %v", got, others)
	}
	base.AssertRestored(t)
	// Documented limit: the restarted run found proxy_ndp at 1 (set by the
	// crashed one) and took it for the original value.
	if got, err := tp.HA.ReadSysctl("net.ipv6.conf.h0.proxy_ndp"); err != nil || got != "1" {
		t.Errorf("net.ipv6.conf.h0.proxy_ndp = %q (%v), want 1 as documented", got, err)
	}
}

// TestHomeAgentStartChecksHomeLink: Start fails with a ValueError naming
// Config.HomeLink for a missing interface and for one without neighbour
// discovery, and changes nothing; a home link that does not hold the Home
// Agent address (here on lo) is fine.
func TestHomeAgentStartChecksHomeLink(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	ctx := t.Context()
	base := dptest.TakeBaseline(t, tp.HA)
	ndBase := proxyState(t, tp.HA, "h0")

	for _, link := range []string{"nosuch0", "lo"} {
		cfg := tp.HomeAgentConfig()
		cfg.HomeLink = link
		ha, err := seg6.NewHomeAgent(cfg)
		dptest.Must(t, err)
		err = ha.Start(ctx)
		var verr *dataplane.ValueError
		if !errors.As(err, &verr) || verr.Field != "Config.HomeLink" || verr.Value != link {
			t.Errorf("Start with home link %s: %v, want a ValueError for Config.HomeLink %q", link, err, link)
		}
		base.AssertRestored(t)
		if got := proxyState(t, tp.HA, "h0"); got != ndBase {
			t.Errorf("failed Start changed proxy ND state:\n%s", got)
		}
		dptest.Must(t, ha.Close())
	}
	cfg := tp.HomeAgentConfig()
	cfg.HomeLink = "bad/name"
	dptest.AssertValueError(t, func() error { _, err := seg6.NewHomeAgent(cfg); return err }(), "Config.HomeLink")

	cfg.HomeLink = "h0"
	ha := startHomeAgent(t, cfg)
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	if got := proxyEntries(t, tp.HA); len(got) != 1 || !strings.HasPrefix(got[0], dptest.HomeAddr.String()+" ") {
		t.Errorf("proxy entries after Bind: %v, want the home address on h0", got)
	}
	dptest.Must(t, ha.Close())
	base.AssertRestored(t)
	if got := proxyState(t, tp.HA, "h0"); got != ndBase {
		t.Errorf("proxy ND state after Close:\n%s\nbaseline:\n%s", got, ndBase)
	}
}

// TestNeighborAdvertisementBytes: the unsolicited NA against RFC 4861
// section 4.4, field by field, and a decode by x/net/icmp.
func TestNeighborAdvertisementBytes(t *testing.T) {
	tests := []struct {
		name   string
		lladdr net.HardwareAddr
		want   []byte
	}{
		{"ethernet", net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}, []byte{
			0x88, 0x00, 0x00, 0x00, // type 136, code 0, checksum left to the kernel
			0x20, 0x00, 0x00, 0x00, // R=0 S=0 O=1, reserved
			0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // target 2001:db8:1::100
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
			0x02, 0x01, // option 2 (target link-layer address), length 1 x 8 octets
			0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // the MAC
		}},
		{"8-byte address, padded", net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8}, []byte{
			0x88, 0x00, 0x00, 0x00,
			0x20, 0x00, 0x00, 0x00,
			0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
			0x02, 0x02, // length 2 x 8 octets
			1, 2, 3, 4, 5, 6, 7, 8,
			0, 0, 0, 0, 0, 0, // padding
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seg6.NeighborAdvertisement(dptest.HomeAddr, tt.lladdr)
			dptest.Must(t, err)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got  % x\nwant % x", got, tt.want)
			}
			m, err := icmp.ParseMessage(ipv6.ICMPTypeNeighborAdvertisement.Protocol(), got)
			if err != nil || m.Type != ipv6.ICMPTypeNeighborAdvertisement || m.Code != 0 {
				t.Errorf("x/net/icmp reads %+v, %v", m, err)
			}
		})
	}
}

// assertUnsolicitedNA waits for the NA the HA multicasts for hoa and checks
// it field by field; the hop limit (255) is checked by the CN's kernel,
// which otherwise ignores the NA (see the override check in the caller).
func assertUnsolicitedNA(t *testing.T, c *netnstest.Capture, hoa netip.Addr, mac net.HardwareAddr) {
	t.Helper()
	isNA := func(p netnstest.Packet) bool {
		return p.NextHeader == netnstest.NextHeaderICMPv6 && len(p.Payload) >= 24 &&
			p.Payload[0] == byte(ipv6.ICMPTypeNeighborAdvertisement) && netip.AddrFrom16([16]byte(p.Payload[8:24])) == hoa
	}
	found, seen := dptest.AwaitPacket(t, c, func(p netnstest.Packet) bool { return isNA(p) && p.Dst == allNodes })
	if !found {
		t.Fatalf("no NA for %s to %s on the home link; saw %v", hoa, allNodes, seen)
	}
	i := slices.IndexFunc(seen, func(p netnstest.Packet) bool { return isNA(p) && p.Dst == allNodes })
	na := seen[i]
	if !na.Src.IsLinkLocalUnicast() {
		t.Errorf("NA source %s, want the HA's link-local address", na.Src)
	}
	if flags := na.Payload[4]; flags != 0x20 {
		t.Errorf("NA flags %#x, want override only (0x20)", flags)
	}
	wantOpt := append([]byte{2, 1}, mac...)
	if !bytes.Equal(na.Payload[24:], wantOpt) {
		t.Errorf("NA options % x, want target link-layer address % x", na.Payload[24:], wantOpt)
	}
}

// assertTunnelledOnHomeLink: the echo between the CN and the home address
// crossed the access link inside the tunnel, both ways, and nothing else did.
func assertTunnelledOnHomeLink(t *testing.T, c *netnstest.Capture) {
	t.Helper()
	packets, err := c.Packets()
	dptest.Must(t, err)
	var toMN, fromMN int
	for _, p := range packets {
		if p.NextHeader != netnstest.NextHeaderIPv6 {
			continue
		}
		inner, err := p.Inner()
		switch {
		case err != nil || inner.NextHeader != netnstest.NextHeaderICMPv6:
			t.Errorf("unexpected tunnel packet %v carrying %v", p, inner)
		case p.Src == dptest.HAAddr && p.Dst == dptest.CoA1 && inner.Src == cnOnHomeLink && inner.Dst == dptest.HomeAddr:
			toMN++
		case p.Src == dptest.CoA1 && p.Dst == dptest.HAAddr && inner.Src == dptest.HomeAddr && inner.Dst == cnOnHomeLink:
			fromMN++
		default:
			t.Errorf("unexpected tunnel packet %v carrying %v", p, inner)
		}
	}
	if toMN == 0 || fromMN == 0 {
		t.Errorf("tunnel: %d packets HA->MN, %d MN->HA, want both; saw %v", toMN, fromMN, packets)
	}
}

func linkMAC(t *testing.T, ns *netnstest.NS, name string) net.HardwareAddr {
	t.Helper()
	link, err := ns.Netlink().LinkByName(name)
	dptest.Must(t, err)
	return link.Attrs().HardwareAddr
}

func linkIndex(t *testing.T, ns *netnstest.NS, name string) int {
	t.Helper()
	index, err := ns.LinkIndex(name)
	dptest.Must(t, err)
	return index
}

// The CN's neighbour entries, all on c0.

func setNeighbour(t *testing.T, cn *netnstest.NS, ip netip.Addr, mac net.HardwareAddr, state int) {
	t.Helper()
	dptest.Must(t, cn.Netlink().NeighSet(&netlink.Neigh{
		LinkIndex: linkIndex(t, cn, "c0"), Family: netlink.FAMILY_V6, State: state,
		IP: net.IP(ip.AsSlice()), HardwareAddr: mac,
	}))
}

func deleteNeighbour(t *testing.T, cn *netnstest.NS, ip netip.Addr) {
	t.Helper()
	dptest.Must(t, cn.Netlink().NeighDel(&netlink.Neigh{
		LinkIndex: linkIndex(t, cn, "c0"), Family: netlink.FAMILY_V6, IP: net.IP(ip.AsSlice()),
	}))
}

func neighbour(t *testing.T, cn *netnstest.NS, ip netip.Addr) *netlink.Neigh {
	t.Helper()
	list, err := cn.Netlink().NeighList(linkIndex(t, cn, "c0"), netlink.FAMILY_V6)
	dptest.Must(t, err)
	for _, n := range list {
		if n.IP.Equal(net.IP(ip.AsSlice())) {
			return &n
		}
	}
	return nil
}

// awaitNeighbour polls the CN's entry for ip for two seconds until ok.
func awaitNeighbour(t *testing.T, cn *netnstest.NS, ip netip.Addr, ok func(*netlink.Neigh) bool, waitingFor string) {
	t.Helper()
	var n *netlink.Neigh
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n = neighbour(t, cn, ip); n != nil && ok(n) {
			return
		}
	}
	t.Errorf("timed out waiting for %s; CN's entry for %s: %+v", waitingFor, ip, n)
}

// The HA's proxy entries and sysctls.

func proxyEntry(t *testing.T, ns *netnstest.NS, link string, ip netip.Addr) *netlink.Neigh {
	t.Helper()
	return &netlink.Neigh{
		LinkIndex: linkIndex(t, ns, link), Family: netlink.FAMILY_V6, State: netlink.NUD_PERMANENT,
		Flags: netlink.NTF_PROXY, IP: net.IP(ip.AsSlice()),
	}
}

// proxyEntries lists every IPv6 proxy entry of ns as "<addr> dev <index>", sorted.
func proxyEntries(t *testing.T, ns *netnstest.NS) []string {
	t.Helper()
	list, err := ns.Netlink().NeighProxyList(0, netlink.FAMILY_V6)
	dptest.Must(t, err)
	out := make([]string, 0, len(list))
	for _, n := range list {
		out = append(out, fmt.Sprintf("%s dev %d", n.IP, n.LinkIndex))
	}
	slices.Sort(out)
	return out
}

// proxyState is what Close must put back besides the Snapshot: proxy
// entries, proxy_ndp of "all" and of each link, and each link's
// proxy_delay.
func proxyState(t *testing.T, ns *netnstest.NS, links ...string) string {
	t.Helper()
	lines := proxyEntries(t, ns)
	for _, link := range append([]string{"all"}, links...) {
		key := "net.ipv6.conf." + link + ".proxy_ndp"
		value, err := ns.ReadSysctl(key)
		dptest.Must(t, err)
		lines = append(lines, key+"="+value)
	}
	for _, link := range links {
		key := "net.ipv6.neigh." + link + ".proxy_delay"
		value, err := ns.ReadSysctl(key)
		dptest.Must(t, err)
		lines = append(lines, key+"="+value)
	}
	return strings.Join(lines, "\n")
}

func dumpNeighboursOnFailure(t *testing.T, tp *dptest.Topology) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, ns := range []*netnstest.NS{tp.CN, tp.HA} {
			for _, cmd := range [][]string{{"ip", "-6", "neigh"}, {"ip", "-6", "neigh", "show", "proxy"}} {
				out, _ := ns.Exec(context.Background(), cmd[0], cmd[1:]...)
				t.Logf("%s$ %s\n%s", ns.Name(), strings.Join(cmd, " "), out)
			}
		}
	})
}
