package dptest

import (
	"context"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// Baseline is what Close must return a namespace to.
type Baseline struct {
	NS     *netnstest.NS
	State  netnstest.Snapshot
	Links  string // the interface names, if taken WithLinks
	Tunsrc string

	withLinks bool
}

// TakeBaseline records ns's routing state and tunsrc.
func TakeBaseline(t *testing.T, ns *netnstest.NS) Baseline {
	t.Helper()
	return Baseline{NS: ns, State: Snapshot(t, ns), Tunsrc: Tunsrc(t, ns)}
}

// TakeBaselineWithLinks records ns's routing state, interfaces and tunsrc.
func TakeBaselineWithLinks(t *testing.T, ns *netnstest.NS) Baseline {
	t.Helper()
	b := Baseline{NS: ns, State: Snapshot(t, ns), Links: Links(t, ns), withLinks: true}
	b.Tunsrc = Tunsrc(t, ns)
	return b
}

// AssertRestored checks that the namespace is back at its baseline.
func (b Baseline) AssertRestored(t *testing.T) {
	t.Helper()
	if diff := Snapshot(t, b.NS).Diff(b.State); diff != "" {
		t.Errorf("%s differs from its baseline:\n%s", b.NS.Name(), diff)
	}
	if got := Links(t, b.NS); b.withLinks && got != b.Links {
		t.Errorf("%s: links\n%s\nbaseline\n%s", b.NS.Name(), got, b.Links)
	}
	if got := Tunsrc(t, b.NS); got != b.Tunsrc {
		t.Errorf("%s: tunsrc %q, baseline %q", b.NS.Name(), got, b.Tunsrc)
	}
}

// Snapshot is ns's routing state.
func Snapshot(t *testing.T, ns *netnstest.NS) netnstest.Snapshot {
	t.Helper()
	s, err := ns.Snapshot()
	Must(t, err)
	return s
}

// Links lists the namespace's interfaces by name (Snapshot does not).
func Links(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	// Read through netlink, not "ip link" text: iproute2 interleaves
	// "Peer netns reference is invalid" while a veth peer's namespace id
	// cannot be resolved, which made this comparison flaky.
	links, err := ns.Netlink().LinkList()
	Must(t, err)
	names := make([]string, 0, len(links))
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	return strings.Join(names, " ")
}

// Tunsrc is the output of "ip sr tunsrc show" in ns.
func Tunsrc(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Exec(context.Background(), "ip", "sr", "tunsrc", "show")
	Must(t, err)
	return strings.TrimSpace(string(out))
}
