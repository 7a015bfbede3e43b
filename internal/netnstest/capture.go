package netnstest

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// IPv6 next header numbers used by the assertions of data-plane tests.
const (
	NextHeaderIPv6   = netns.NextHeaderIPv6
	NextHeaderRoute  = netns.NextHeaderRoute
	NextHeaderICMPv6 = netns.NextHeaderICMPv6
)

// Packet is an IPv6 packet seen on a captured interface.
type Packet = netns.Packet

// Capture records the IPv6 packets that an interface sends and receives.
type Capture = netns.Capture

// Snapshot is a namespace's routing state in comparable form.
type Snapshot = netns.Snapshot

// Capture starts capturing on ifname; the socket is closed when the test ends.
func (ns *NS) Capture(t testing.TB, ifname string) *Capture {
	t.Helper()
	c, err := ns.NS.Capture(ifname)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("netnstest: %v", err)
		}
	})
	return c
}
