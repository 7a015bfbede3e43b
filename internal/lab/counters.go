package lab

import (
	"fmt"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// dataPlaneTablePrefix starts the name of the seg6 data plane's nftables
// table (mip6mesh-dp-<instance>); decapChain is its prerouting chain.
const (
	dataPlaneTablePrefix = tablePrefix + "dp-"
	decapChain           = "decap"
)

// DecapCounters is what a seg6 data plane's decapsulation chain has
// counted since it started: tunnelled packets it accepted (and marked for
// decapsulation) and protocol-41 packets to its tunnel endpoints that its
// source checks dropped. At the Home Agent a drop is a reverse-tunnelled
// packet whose (outer source, inner source) is no binding's (CoA, HoA); at
// the mobile node one that is not from the Home Agent to the home address.
type DecapCounters struct {
	Accepted, Dropped uint64
}

// DecapCounters reads the counters of the data plane running in ns.
func (l *Lab) DecapCounters(ns *netns.NS) (DecapCounters, error) {
	var c DecapCounters
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle())))
	if err != nil {
		return c, fmt.Errorf("nftables in %s: %w", ns.Name(), err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return c, fmt.Errorf("list nftables tables in %s: %w", ns.Name(), err)
	}
	for _, t := range tables {
		if !strings.HasPrefix(t.Name, dataPlaneTablePrefix) {
			continue
		}
		rules, err := conn.GetRules(t, &nftables.Chain{Name: decapChain, Table: t})
		if err != nil {
			return c, fmt.Errorf("nftables chain %s %s in %s: %w", t.Name, decapChain, ns.Name(), err)
		}
		for _, r := range rules {
			c.add(r.Exprs)
		}
		return c, nil
	}
	return c, fmt.Errorf("no %s* nftables table in %s", dataPlaneTablePrefix, ns.Name())
}

// add counts a rule's counter as accepted or dropped by its verdict.
func (c *DecapCounters) add(exprs []expr.Any) {
	var packets uint64
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Counter:
			packets = e.Packets
		case *expr.Verdict:
			switch e.Kind {
			case expr.VerdictAccept:
				c.Accepted += packets
			case expr.VerdictDrop:
				c.Dropped += packets
			}
		}
	}
}

// Sub is the difference c - base, counter by counter.
func (c DecapCounters) Sub(base DecapCounters) DecapCounters {
	return DecapCounters{Accepted: c.Accepted - base.Accepted, Dropped: c.Dropped - base.Dropped}
}
