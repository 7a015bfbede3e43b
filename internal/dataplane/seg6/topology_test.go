package seg6_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
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
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	haAddr     = netip.MustParseAddr("2001:db8:1::1")
	homeAddr   = netip.MustParseAddr("2001:db8:1::100")
	otherHome  = netip.MustParseAddr("2001:db8:1::200")
	cnAddr     = netip.MustParseAddr("2001:db8:c::2")
	haHomeSide = netip.MustParseAddr("2001:db8:c::1")
	coa1       = netip.MustParseAddr("2001:db8:a::2")
	router1    = netip.MustParseAddr("2001:db8:a::1")
	coa2       = netip.MustParseAddr("2001:db8:b::2")
	router2    = netip.MustParseAddr("2001:db8:b::1")
	defaultDst = netip.MustParsePrefix("::/0")
)

type topology struct {
	cn, ha, mn *netnstest.NS
}

func newTopology(t testing.TB) *topology {
	t.Helper()
	tp := &topology{
		cn: netnstest.New(t, "cn"),
		ha: netnstest.New(t, "ha"),
		mn: netnstest.New(t, "mn"),
	}
	netnstest.Veth(t, tp.cn, tp.ha, "c0", "h0")
	netnstest.Veth(t, tp.ha, tp.mn, "a1", "m1")
	netnstest.Veth(t, tp.ha, tp.mn, "a2", "m2")
	must(t, tp.cn.AddAddr("c0", netip.PrefixFrom(cnAddr, 64)))
	must(t, tp.ha.AddAddr("h0", netip.PrefixFrom(haHomeSide, 64)))
	must(t, tp.ha.AddAddr("lo", netip.PrefixFrom(haAddr, 128)))
	must(t, tp.ha.AddAddr("a1", netip.PrefixFrom(router1, 64)))
	must(t, tp.ha.AddAddr("a2", netip.PrefixFrom(router2, 64)))
	must(t, tp.mn.AddAddr("m1", netip.PrefixFrom(coa1, 64)))
	must(t, tp.mn.AddAddr("m2", netip.PrefixFrom(coa2, 64)))
	must(t, tp.cn.AddRoute(homePrefix, haHomeSide))
	must(t, tp.mn.AddRoute(defaultDst, router1))
	must(t, tp.ha.EnableIPv6Forwarding())
	return tp
}

func (tp *topology) homeAgentConfig() dataplane.Config {
	return dataplane.Config{
		Instance:   "test",
		NetNS:      tp.ha.Handle(),
		HomeAgent:  haAddr,
		HomePrefix: homePrefix,
	}
}

func (tp *topology) mobileNodeConfig() dataplane.Config {
	cfg := tp.homeAgentConfig()
	cfg.NetNS = tp.mn.Handle()
	cfg.HomeAddress = homeAddr
	return cfg
}

// baseline is what Close must return a namespace to.
type baseline struct {
	ns     *netnstest.NS
	state  netnstest.Snapshot
	tunsrc string
}

func takeBaseline(t *testing.T, ns *netnstest.NS) baseline {
	t.Helper()
	state, err := ns.Snapshot()
	must(t, err)
	return baseline{ns: ns, state: state, tunsrc: tunsrc(t, ns)}
}

func (b baseline) assertRestored(t *testing.T) {
	t.Helper()
	now, err := b.ns.Snapshot()
	must(t, err)
	if diff := now.Diff(b.state); diff != "" {
		t.Errorf("%s differs from its baseline:\n%s", b.ns.Name(), diff)
	}
	if got := tunsrc(t, b.ns); got != b.tunsrc {
		t.Errorf("%s: tunsrc %q, baseline %q", b.ns.Name(), got, b.tunsrc)
	}
}

func tunsrc(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Exec(context.Background(), "ip", "sr", "tunsrc", "show")
	must(t, err)
	return strings.TrimSpace(string(out))
}

// dumpOnFailure logs the namespaces' routing state if the test failed.
func (tp *topology) dumpOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, ns := range []*netnstest.NS{tp.cn, tp.ha, tp.mn} {
			for _, cmd := range [][]string{
				{"ip", "-6", "rule"}, {"ip", "-6", "route", "show", "table", "all"},
				{"nft", "list", "ruleset"}, {"ip", "sr", "tunsrc", "show"},
			} {
				out, _ := ns.Exec(context.Background(), cmd[0], cmd[1:]...)
				t.Logf("%s$ %s\n%s", ns.Name(), strings.Join(cmd, " "), out)
			}
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func countLines(text, prefix string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

// shortContext bounds pings that are expected to fail.
func shortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
