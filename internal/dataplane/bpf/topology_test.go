package bpf_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

// The test topology, the seg6 driver's, documentation prefixes only:
//
//	CN c0 ---- h0 HA a1 ---- m1 MN   access link 1, 2001:db8:a::/64
//	2001:db8:c::/64  a2 ---- m2      access link 2, 2001:db8:b::/64
//
// The HA (bpf driver) holds the Home Agent address on lo; the CN routes the
// home prefix to the HA. The MN (seg6 driver) has its default route into
// access link 1.
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

func startHomeAgent(t testing.TB, cfg dataplane.Config) dataplane.HomeAgent {
	t.Helper()
	ha, err := bpf.NewHomeAgent(cfg)
	must(t, err)
	must(t, ha.Start(t.Context()))
	return ha
}

func startMobileNode(t testing.TB, cfg dataplane.Config) dataplane.MobileNode {
	t.Helper()
	mn, err := seg6.NewMobileNode(cfg)
	must(t, err)
	must(t, mn.Start(t.Context()))
	return mn
}

func stats(t *testing.T, ha dataplane.HomeAgent) bpf.Stats {
	t.Helper()
	s, err := readStats(ha)
	must(t, err)
	return s
}

func readStats(ha dataplane.HomeAgent) (bpf.Stats, error) {
	r, ok := ha.(bpf.StatsReader)
	if !ok {
		return bpf.Stats{}, errors.New("not a bpf.StatsReader")
	}
	return r.Stats()
}

// baseline is what Close must return a namespace to.
type baseline struct {
	ns     *netnstest.NS
	state  netnstest.Snapshot
	links  string
	tunsrc string
}

func takeBaseline(t *testing.T, ns *netnstest.NS) baseline {
	t.Helper()
	return baseline{ns: ns, state: snapshot(t, ns), links: links(t, ns), tunsrc: tunsrc(t, ns)}
}

func (b baseline) assertRestored(t *testing.T) {
	t.Helper()
	if diff := snapshot(t, b.ns).Diff(b.state); diff != "" {
		t.Errorf("%s differs from its baseline:\n%s", b.ns.Name(), diff)
	}
	if got := links(t, b.ns); got != b.links {
		t.Errorf("%s: links\n%s\nbaseline\n%s", b.ns.Name(), got, b.links)
	}
	if got := tunsrc(t, b.ns); got != b.tunsrc {
		t.Errorf("%s: tunsrc %q, baseline %q", b.ns.Name(), got, b.tunsrc)
	}
}

func snapshot(t *testing.T, ns *netnstest.NS) netnstest.Snapshot {
	t.Helper()
	s, err := ns.Snapshot()
	must(t, err)
	return s
}

// links lists the namespace's interfaces by name (Snapshot does not).
func links(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Exec(context.Background(), "ip", "-o", "link", "show")
	must(t, err)
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 {
			names = append(names, fields[1])
		}
	}
	return strings.Join(names, " ")
}

func tunsrc(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Exec(context.Background(), "ip", "sr", "tunsrc", "show")
	must(t, err)
	return strings.TrimSpace(string(out))
}

// dumpOnFailure logs the namespaces' routing state if the test failed.
func (tp *topology) dumpOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, ns := range []*netnstest.NS{tp.cn, tp.ha, tp.mn} {
			for _, cmd := range [][]string{
				{"ip", "-6", "rule"}, {"ip", "-6", "route", "show", "table", "all"},
				{"ip", "-d", "link"}, {"nft", "list", "ruleset"},
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

// shortContext bounds pings that are expected to fail.
func shortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
