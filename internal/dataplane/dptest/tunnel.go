package dptest

import (
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// AssertTunnelled checks that the capture holds, for each of pings echo
// exchanges, an IPv6-in-IPv6 packet HA -> coa carrying an echo between CN
// and the home address, and one coa -> HA carrying the other direction.
func AssertTunnelled(t *testing.T, c *netnstest.Capture, coa netip.Addr, pings int) {
	t.Helper()
	packets, err := c.Packets()
	Must(t, err)
	var toMN, fromMN int
	for _, p := range packets {
		if p.NextHeader == netnstest.NextHeaderRoute {
			t.Errorf("routing header on the wire (not RFC 2473): %v", p)
		}
		if p.NextHeader != netnstest.NextHeaderIPv6 {
			continue
		}
		inner, err := p.Inner()
		if err != nil || inner.NextHeader != netnstest.NextHeaderICMPv6 {
			continue
		}
		switch {
		case p.Src == HAAddr && p.Dst == coa && !p.Outgoing && inner.Dst == HomeAddr && inner.Src == CNAddr:
			toMN++
		case p.Src == coa && p.Dst == HAAddr && p.Outgoing && inner.Src == HomeAddr && inner.Dst == CNAddr:
			fromMN++
		default:
			t.Errorf("unexpected tunnel packet %v carrying %v", p, inner)
		}
	}
	if toMN < pings || fromMN < pings {
		t.Errorf("tunnel via %s: %d packets HA->MN, %d MN->HA, want >= %d each; saw %v", coa, toMN, fromMN, pings, packets)
	}
}

// AssertNoTunnel checks that the capture holds no tunnel packet.
func AssertNoTunnel(t *testing.T, c *netnstest.Capture) {
	t.Helper()
	packets, err := c.Packets()
	Must(t, err)
	for _, p := range packets {
		if p.NextHeader == netnstest.NextHeaderIPv6 {
			t.Errorf("tunnel packet on the old link after handover: %v", p)
		}
	}
}

// Drain discards what the capture holds so far.
func Drain(t *testing.T, c *netnstest.Capture) {
	t.Helper()
	_, err := c.Packets()
	Must(t, err)
}
