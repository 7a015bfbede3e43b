package mhio_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// ReceivedOn names the interface each packet came in on, in both modes:
// the mobile node's arrives on ha0, the correspondent's on ha1, and what
// is received on one is never reported as the other's.
func TestReceivedOnIsTheIngressInterface(t *testing.T) {
	for _, mode := range []mhio.Mode{mhio.ModeAFPacket, mhio.ModeRawMH} {
		t.Run(string(mode), func(t *testing.T) {
			tp := threeNodes(t)
			ha := tp.ha.open(t, mhio.Config{Instance: "ha", Mode: mode})
			mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
			cn := tp.cn.open(t, mhio.Config{Instance: "cn"})
			ha0, ha1 := tp.ha.linkIndex(t, "ha0"), tp.ha.linkIndex(t, "ha1")

			for _, step := range []struct {
				from *mhio.Conn
				pkt  []byte
				want int
				via  string
			}{
				{mn, careOfTestInit(t, careOf, haAddr, 1), ha0, "ha0"},
				{cn, careOfTestInit(t, cnAddr, haAddrB, 2), ha1, "ha1"},
				{mn, careOfTestInit(t, careOf, haAddrB, 3), ha0, "ha0"}, // to ha1's address, yet over ha0
			} {
				send(t, step.from, step.pkt)
				p, _ := mustReceive(t, ha)
				if got := ha.ReceivedOn(); got != step.want {
					t.Errorf("packet from %s to %s: ReceivedOn = %d, want %d (%s)", p.Src, p.Dst, got, step.want, step.via)
				}
			}
		})
	}
}

func (ns *testNS) linkIndex(t testing.TB, name string) int {
	t.Helper()
	link, err := ns.nl.LinkByName(name)
	if err != nil {
		t.Fatalf("link %s in %s: %v", name, ns.name, err)
	}
	return link.Attrs().Index
}
