package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// DefaultName is the namespace name prefix when Options.Name is empty.
const DefaultName = "m6lab"

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,19}$`)

// Options configure New.
type Options struct {
	// Name prefixes the namespaces: <Name>-cn-<random>, <Name>-ha-<random>
	// and <Name>-mn-<random>, one random suffix per lab. DefaultName if empty.
	Name string
	// BinDir holds the nse-homeagent and nsc-mobile binaries.
	BinDir string
	// Log receives the daemons' output, each line prefixed "[ha] " or
	// "[mn] "; nil discards it.
	Log io.Writer
}

// Lab is the running topology. Its namespaces are exported for tests that
// want to look at or change the kernel state directly.
type Lab struct {
	*Runner
	CN, HA, MN *netns.NS

	byRole [roles]*netns.NS // the same three, for the topology tables
	opts   Options
}

// New builds the topology. If a step fails, or ctx ends, it removes what it
// made. The caller must Close the lab.
func New(ctx context.Context, opts Options) (*Lab, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if !namePattern.MatchString(opts.Name) {
		return nil, fmt.Errorf("lab name %q: want %s", opts.Name, namePattern)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	l := &Lab{opts: opts, Runner: NewRunner(opts.BinDir, opts.Log)}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("build lab: %w", err), l.Close())
	}
	return l, nil
}

func (l *Lab) build(ctx context.Context) error {
	suffix := netns.UniqueName("")
	for r := range roles {
		if err := ctx.Err(); err != nil {
			return err
		}
		ns, err := netns.Create(fmt.Sprintf("%s-%s-%s", l.opts.Name, roleNames[r], suffix))
		if err != nil {
			return err
		}
		l.byRole[r] = ns
	}
	l.CN, l.HA, l.MN = l.byRole[cn], l.byRole[ha], l.byRole[mn]
	for _, v := range veths {
		if err := netns.Veth(l.ns(v.a), l.ns(v.b), v.nameA, v.nameB); err != nil {
			return err
		}
	}
	for _, a := range addrs {
		if err := l.ns(a.at).AddAddr(a.link, a.prefix); err != nil {
			return err
		}
	}
	for _, r := range routes {
		if err := l.ns(r.at).AddRouteMetric(r.dst, r.via, r.metric); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (l *Lab) ns(r role) *netns.NS { return l.byRole[r] }

// Namespaces returns the lab's namespaces: CN, HA, MN.
func (l *Lab) Namespaces() []*netns.NS { return []*netns.NS{l.CN, l.HA, l.MN} }

// Close stops the daemons still running, most recently started first
// (SIGINT, then SIGKILL after StopTimeout), and deletes the namespaces.
// It reports unclean exits of daemons that were not stopped before. Calling
// it again does nothing.
func (l *Lab) Close() error {
	errs := []error{l.Runner.Close()}
	for r := roles - 1; r >= 0; r-- {
		if ns := l.ns(r); ns != nil {
			if err := ns.Delete(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Ping sends one ICMPv6 echo request from the namespace from to dst and
// returns the round-trip time. The kernel picks the source address: from
// the mobile node that is a care-of address; to ping from the home address
// use l.MN.Ping(ctx, HoA, dst).
func (l *Lab) Ping(ctx context.Context, from *netns.NS, dst netip.Addr, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return from.Ping(ctx, netip.Addr{}, dst)
}

// SetLink sets ifname in ns up or down. Taking a link down makes the
// kernel drop its addresses and routes; bringing it up puts back the ones
// the lab configured on it, as a reattached host would get them again.
func (l *Lab) SetLink(ns *netns.NS, ifname string, up bool) error {
	if !up {
		return ns.LinkDown(ifname)
	}
	if err := ns.LinkUp(ifname); err != nil {
		return err
	}
	for _, a := range addrs {
		if l.ns(a.at) != ns || a.link != ifname {
			continue
		}
		have, err := ns.HasAddr(ifname, a.prefix.Addr())
		if err == nil && !have {
			err = ns.AddAddr(ifname, a.prefix)
		}
		if err != nil {
			return err
		}
	}
	for _, r := range routes {
		if l.ns(r.at) != ns || r.link != ifname {
			continue
		}
		if err := ns.AddRouteMetric(r.dst, r.via, r.metric); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	return nil
}

// tablePrefix starts the name of every nftables table the daemons make
// (internal/mhio "mip6mesh-<instance>", seg6 "mip6mesh-dp-<instance>").
const tablePrefix = "mip6mesh-"

// KernelState is what the daemons keep in a namespace's kernel: routes and
// fib rules of rtnetlink protocol dataplane.DefaultProtocol (246), and
// nftables tables named mip6mesh-*.
type KernelState struct {
	Routes, Rules int
	Tables        []string
	// LocalRulePref is the priority of the IPv6 "lookup local" rule: 0
	// unless a data plane moved it; -1 if there is none.
	LocalRulePref int
}

// Clean reports whether no daemon state is left.
func (s KernelState) Clean() bool {
	return s.Routes == 0 && s.Rules == 0 && len(s.Tables) == 0 && s.LocalRulePref == 0
}

func (s KernelState) String() string {
	tables := "no " + tablePrefix + "* nftables table"
	if len(s.Tables) > 0 {
		tables = "nftables tables " + strings.Join(s.Tables, ", ")
	}
	return fmt.Sprintf("%d routes and %d rules of protocol %d, %s, lookup-local rule at pref %d",
		s.Routes, s.Rules, dataplane.DefaultProtocol, tables, s.LocalRulePref)
}

// KernelState reads what the daemons keep in ns's kernel.
func (l *Lab) KernelState(ns *netns.NS) (KernelState, error) {
	s := KernelState{LocalRulePref: -1}
	nl := ns.Netlink()
	filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: dataplane.DefaultProtocol}
	rs, err := nl.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return s, fmt.Errorf("list routes in %s: %w", ns.Name(), err)
	}
	s.Routes = len(rs)
	rules, err := nl.RuleList(netlink.FAMILY_V6)
	if err != nil {
		return s, fmt.Errorf("list rules in %s: %w", ns.Name(), err)
	}
	for _, r := range rules {
		if r.Protocol == dataplane.DefaultProtocol {
			s.Rules++
		}
		isLocal := r.Table == unix.RT_TABLE_LOCAL && r.Mark == 0 && r.Src == nil && r.Dst == nil
		if isLocal && (s.LocalRulePref < 0 || r.Priority < s.LocalRulePref) {
			s.LocalRulePref = r.Priority
		}
	}
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle())))
	if err != nil {
		return s, fmt.Errorf("nftables in %s: %w", ns.Name(), err)
	}
	tables, err := conn.ListTables()
	if err != nil {
		return s, fmt.Errorf("list nftables tables in %s: %w", ns.Name(), err)
	}
	for _, t := range tables {
		if strings.HasPrefix(t.Name, tablePrefix) {
			s.Tables = append(s.Tables, t.Name)
		}
	}
	return s, nil
}
