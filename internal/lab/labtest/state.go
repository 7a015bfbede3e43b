package labtest

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Snapshot reads ns's routes, rules, addresses and nftables, failing t if
// it cannot.
func Snapshot(t testing.TB, ns *netns.NS) netns.Snapshot {
	t.Helper()
	s, err := ns.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// AssertSame fails t if ns's routes, rules, addresses or nftables differ
// from base; what names the namespace in the message.
func AssertSame(t testing.TB, what string, ns *netns.NS, base netns.Snapshot) {
	t.Helper()
	if diff := Snapshot(t, ns).Diff(base); diff != "" {
		t.Errorf("%s: kernel state differs from its baseline:\n%s", what, diff)
	}
}
