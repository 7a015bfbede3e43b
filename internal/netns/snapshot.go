package netns

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Snapshot is the namespace's routing state in comparable form: one line
// per route (every table, both families), rule, address, nftables table and
// nftables set element.
type Snapshot struct {
	Routes      []string
	Rules       []string
	Addrs       []string
	NFTTables   []string
	NFTElements []string
}

// Snapshot reads the namespace's current routing state.
func (ns *NS) Snapshot() (Snapshot, error) {
	var s Snapshot
	var err error
	if s.Routes, err = ns.routeLines(); err != nil {
		return s, err
	}
	if s.Rules, err = ns.ruleLines(); err != nil {
		return s, err
	}
	if s.Addrs, err = ns.addrLines(); err != nil {
		return s, err
	}
	s.NFTTables, s.NFTElements, err = ns.nftLines()
	return s, err
}

// Diff describes how s differs from base, or returns "" when they are equal.
func (s Snapshot) Diff(base Snapshot) string {
	var b strings.Builder
	diffLines(&b, "route", base.Routes, s.Routes)
	diffLines(&b, "rule", base.Rules, s.Rules)
	diffLines(&b, "addr", base.Addrs, s.Addrs)
	diffLines(&b, "nft table", base.NFTTables, s.NFTTables)
	diffLines(&b, "nft element", base.NFTElements, s.NFTElements)
	return b.String()
}

func diffLines(b *strings.Builder, kind string, base, now []string) {
	for _, l := range now {
		if !slices.Contains(base, l) {
			fmt.Fprintf(b, "+ %s %s\n", kind, l)
		}
	}
	for _, l := range base {
		if !slices.Contains(now, l) {
			fmt.Fprintf(b, "- %s %s\n", kind, l)
		}
	}
}

func (ns *NS) routeLines() ([]string, error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC}
	routes, err := ns.nl.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes in %s: %w", ns.name, err)
	}
	lines := make([]string, 0, len(routes))
	for _, r := range routes {
		lines = append(lines, fmt.Sprintf("table %d type %d proto %d dst %v src %v gw %v dev %d metric %d encap %v",
			r.Table, r.Type, r.Protocol, r.Dst, r.Src, r.Gw, r.LinkIndex, r.Priority, r.Encap))
	}
	slices.Sort(lines)
	return lines, nil
}

func (ns *NS) ruleLines() ([]string, error) {
	rules, err := ns.nl.RuleList(netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list rules in %s: %w", ns.name, err)
	}
	lines := make([]string, 0, len(rules))
	for _, r := range rules {
		lines = append(lines, fmt.Sprintf("family %d %s proto %d mark %#x", r.Family, r, r.Protocol, r.Mark))
	}
	slices.Sort(lines)
	return lines, nil
}

func (ns *NS) addrLines() ([]string, error) {
	addrs, err := ns.nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses in %s: %w", ns.name, err)
	}
	lines := make([]string, 0, len(addrs))
	for _, a := range addrs {
		lines = append(lines, fmt.Sprintf("%s dev %d", a.IPNet, a.LinkIndex))
	}
	slices.Sort(lines)
	return lines, nil
}

func (ns *NS) nftLines() (tables, elements []string, err error) {
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns.handle)))
	if err != nil {
		return nil, nil, fmt.Errorf("nftables in %s: %w", ns.name, err)
	}
	list, err := conn.ListTables()
	if err != nil {
		return nil, nil, fmt.Errorf("list nft tables in %s: %w", ns.name, err)
	}
	for _, t := range list {
		name := fmt.Sprintf("family %d %s", t.Family, t.Name)
		tables = append(tables, name)
		elems, err := nftElementLines(conn, t, name)
		if err != nil {
			return nil, nil, fmt.Errorf("nft table %s in %s: %w", t.Name, ns.name, err)
		}
		elements = append(elements, elems...)
	}
	slices.Sort(tables)
	slices.Sort(elements)
	return tables, elements, nil
}

func nftElementLines(conn *nftables.Conn, t *nftables.Table, prefix string) ([]string, error) {
	sets, err := conn.GetSets(t)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, set := range sets {
		elems, err := conn.GetSetElements(set)
		if err != nil {
			return nil, err
		}
		for _, e := range elems {
			lines = append(lines, fmt.Sprintf("%s set %s key %x", prefix, set.Name, e.Key))
		}
	}
	return lines, nil
}
