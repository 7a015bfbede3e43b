package registration

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// The topology: the Home Agent's namespace and the generator's, joined by
// one veth pair. The care-of prefix is routed from the Home Agent to the
// generator, which blackholes it: its AF_PACKET socket reads the BAs before
// the stack drops them silently (no ICMPv6 errors back to the Home Agent).
//
//	ha  (nse-homeagent)                               gen (the generator)
//	lo  2001:db8:1::1/128 Home Agent address
//	g0  2001:db8:e::1/64  ------------ veth ------------ h0  2001:db8:e::2/64
//	2001:db8:c::/48 via 2001:db8:e::2                    2001:db8:1::/64 via 2001:db8:e::1
//	                                                     blackhole 2001:db8:c::/48
//
// Home addresses: 2001:db8:1:0:1::/80 for the filled bindings, index in the
// low 48 bits; 2001:db8:1:0:2::/80 for the sampled fresh registrations.
// Care-of addresses: 2001:db8:c:<generation>::<index+1>, so that a binding
// can move between generations.
var (
	homePrefix   = netip.MustParsePrefix("2001:db8:1::/64")
	haAddr       = netip.MustParseAddr("2001:db8:1::1")
	careOfPrefix = netip.MustParsePrefix("2001:db8:c::/48")
	haLink       = netip.MustParsePrefix("2001:db8:e::1/64")
	genLink      = netip.MustParsePrefix("2001:db8:e::2/64")
	// unroutedPrefix is a care-of prefix that only raw-socket packets (the
	// Home Agent's BAs) are routed to, by a policy rule: the data plane's
	// route lookup finds nothing, so a registration from it fails there
	// with status 130 and the BA still arrives. Tests use it to reach the
	// scale-limit path without exhausting the kernel.
	unroutedPrefix = netip.MustParsePrefix("2001:db8:d::/48")
)

// Interface names: each end is named after the namespace it leads to.
const (
	haIf  = "g0" // in ha, toward gen
	genIf = "h0" // in gen, toward ha
)

// Address ranges of the home addresses.
const (
	filledRange  = 1
	sampledRange = 2
	warmupRange  = 3
)

func homeAddress(rangeID uint16, index uint64) netip.Addr {
	a := homePrefix.Addr().As16()
	binary.BigEndian.PutUint64(a[8:], uint64(rangeID)<<48|index&(1<<48-1))
	return netip.AddrFrom16(a)
}

func careOfAddress(prefix netip.Prefix, generation uint16, index uint64) netip.Addr {
	a := prefix.Addr().As16()
	binary.BigEndian.PutUint16(a[6:], generation)
	binary.BigEndian.PutUint64(a[8:], index+1)
	return netip.AddrFrom16(a)
}

type topology struct {
	ha, gen *netns.NS
}

// buildTopology creates the namespaces, named <prefix>-ha-<random> and
// <prefix>-gen-<random>. The caller must close it.
func buildTopology(ctx context.Context, prefix string, unrouted bool) (_ *topology, err error) {
	t := &topology{}
	defer func() {
		if err != nil {
			err = errors.Join(err, t.close())
		}
	}()
	suffix := netns.UniqueName("")
	if t.ha, err = netns.Create(prefix + "-ha-" + suffix); err != nil {
		return nil, err
	}
	if t.gen, err = netns.Create(prefix + "-gen-" + suffix); err != nil {
		return nil, err
	}
	if err := netns.Veth(t.ha, t.gen, haIf, genIf); err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { return t.ha.AddAddr("lo", netip.PrefixFrom(haAddr, 128)) },
		func() error { return t.ha.AddAddr(haIf, haLink) },
		func() error { return t.gen.AddAddr(genIf, genLink) },
		func() error { return t.ha.AddRoute(careOfPrefix, genLink.Addr()) },
		func() error { return t.gen.AddRoute(homePrefix, haLink.Addr()) },
		func() error { return blackhole(t.gen, careOfPrefix) },
		func() error { return blackhole(t.gen, unroutedPrefix) },
	}
	if unrouted {
		steps = append(steps, func() error { return routeRawOnly(ctx, t.ha, unroutedPrefix, genLink.Addr()) })
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func blackhole(ns *netns.NS, p netip.Prefix) error {
	dst := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 128)}
	if err := ns.Netlink().RouteAdd(&netlink.Route{Dst: dst, Type: unix.RTN_BLACKHOLE, Family: netlink.FAMILY_V6}); err != nil {
		return fmt.Errorf("blackhole %s in %s: %w", p, ns.Name(), err)
	}
	return nil
}

// rawOnlyTable and rawOnlyPref hold the route of routeRawOnly.
const (
	rawOnlyTable = 200
	rawOnlyPref  = 100
)

// routeRawOnly routes p via via for packets of raw IPPROTO_RAW sockets only
// (a rule on the flow's protocol, 255): a route lookup over netlink, which
// names no protocol, does not find it. The rule is made with ip(8): the
// netlink library sends FRA_IP_PROTO with a length the kernel warns about.
func routeRawOnly(ctx context.Context, ns *netns.NS, p netip.Prefix, via netip.Addr) error {
	dst := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 128)}
	route := &netlink.Route{Dst: dst, Gw: net.IP(via.AsSlice()), Table: rawOnlyTable, Family: netlink.FAMILY_V6}
	if err := ns.Netlink().RouteAdd(route); err != nil {
		return fmt.Errorf("route %s table %d in %s: %w", p, rawOnlyTable, ns.Name(), err)
	}
	_, err := ns.Exec(ctx, "ip", "-6", "rule", "add", "pref", strconv.Itoa(rawOnlyPref), "ipproto", strconv.Itoa(unix.IPPROTO_RAW),
		"lookup", strconv.Itoa(rawOnlyTable))
	return err
}

func (t *topology) close() error {
	var errs []error
	for _, ns := range []*netns.NS{t.gen, t.ha} {
		if ns != nil {
			errs = append(errs, ns.Delete())
		}
	}
	return errors.Join(errs...)
}
