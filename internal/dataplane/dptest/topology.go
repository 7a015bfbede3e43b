package dptest

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// The test topology, documentation prefixes only:
//
//	CN c0 ---- h0 HA a1 ---- m1 MN   access link 1, 2001:db8:a::/64
//	2001:db8:c::/64  a2 ---- m2      access link 2, 2001:db8:b::/64
//
// The HA holds the Home Agent address on lo; the CN routes the home prefix
// to the HA. The MN's own default route points into access link 1.
var (
	HomePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	HAAddr     = netip.MustParseAddr("2001:db8:1::1")
	HomeAddr   = netip.MustParseAddr("2001:db8:1::100")
	OtherHome  = netip.MustParseAddr("2001:db8:1::200")
	CNAddr     = netip.MustParseAddr("2001:db8:c::2")
	HAHomeSide = netip.MustParseAddr("2001:db8:c::1")
	CoA1       = netip.MustParseAddr("2001:db8:a::2")
	Router1    = netip.MustParseAddr("2001:db8:a::1")
	CoA2       = netip.MustParseAddr("2001:db8:b::2")
	Router2    = netip.MustParseAddr("2001:db8:b::1")
	DefaultDst = netip.MustParsePrefix("::/0")
)

// Topology is the correspondent node, Home Agent and Mobile Node
// namespaces.
type Topology struct {
	CN, HA, MN *netnstest.NS
}

// NewTopology builds the test topology; the namespaces go at the end of t.
func NewTopology(t testing.TB) *Topology {
	t.Helper()
	tp := &Topology{
		CN: netnstest.New(t, "cn"),
		HA: netnstest.New(t, "ha"),
		MN: netnstest.New(t, "mn"),
	}
	netnstest.Veth(t, tp.CN, tp.HA, "c0", "h0")
	netnstest.Veth(t, tp.HA, tp.MN, "a1", "m1")
	netnstest.Veth(t, tp.HA, tp.MN, "a2", "m2")
	Must(t, tp.CN.AddAddr("c0", netip.PrefixFrom(CNAddr, 64)))
	Must(t, tp.HA.AddAddr("h0", netip.PrefixFrom(HAHomeSide, 64)))
	Must(t, tp.HA.AddAddr("lo", netip.PrefixFrom(HAAddr, 128)))
	Must(t, tp.HA.AddAddr("a1", netip.PrefixFrom(Router1, 64)))
	Must(t, tp.HA.AddAddr("a2", netip.PrefixFrom(Router2, 64)))
	Must(t, tp.MN.AddAddr("m1", netip.PrefixFrom(CoA1, 64)))
	Must(t, tp.MN.AddAddr("m2", netip.PrefixFrom(CoA2, 64)))
	Must(t, tp.CN.AddRoute(HomePrefix, HAHomeSide))
	Must(t, tp.MN.AddRoute(DefaultDst, Router1))
	Must(t, tp.HA.EnableIPv6Forwarding())
	return tp
}

// HomeAgentConfig is the Config of a Home Agent in the HA namespace.
func (tp *Topology) HomeAgentConfig() dataplane.Config {
	return dataplane.Config{
		Instance:   "test",
		NetNS:      tp.HA.Handle(),
		HomeAgent:  HAAddr,
		HomePrefix: HomePrefix,
	}
}

// MobileNodeConfig is the Config of a Mobile Node in the MN namespace.
func (tp *Topology) MobileNodeConfig() dataplane.Config {
	cfg := tp.HomeAgentConfig()
	cfg.NetNS = tp.MN.Handle()
	cfg.HomeAddress = HomeAddr
	return cfg
}

// StartMobileNode starts a seg6 Mobile Node (the only Mobile Node driver).
func StartMobileNode(t testing.TB, cfg dataplane.Config) dataplane.MobileNode {
	t.Helper()
	mn, err := seg6.NewMobileNode(cfg)
	Must(t, err)
	Must(t, mn.Start(t.Context()))
	return mn
}

// DumpOnFailure logs the namespaces' routing state if the test failed.
func (tp *Topology) DumpOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, ns := range []*netnstest.NS{tp.CN, tp.HA, tp.MN} {
			for _, cmd := range [][]string{
				{"ip", "-6", "rule"}, {"ip", "-6", "route", "show", "table", "all"},
				{"ip", "-d", "link"}, {"nft", "list", "ruleset"}, {"ip", "sr", "tunsrc", "show"},
			} {
				out, _ := ns.Exec(context.Background(), cmd[0], cmd[1:]...)
				t.Logf("%s$ %s\n%s", ns.Name(), strings.Join(cmd, " "), out)
			}
		}
	})
}

// Must fails t at once if err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ShortContext bounds pings that are expected to fail.
func ShortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// AssertValueError checks that err is a dataplane.ValueError for field.
func AssertValueError(t *testing.T, err error, field string) {
	t.Helper()
	var verr *dataplane.ValueError
	if !errors.As(err, &verr) || verr.Field != field {
		t.Errorf("got %v, want a ValueError for %s", err, field)
	}
}
