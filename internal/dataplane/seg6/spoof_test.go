package seg6_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestHomeAgentDecapsulatesOnlyBoundTunnels: the Home Agent forwards the
// inner packet of a tunnel only if (outer source, inner source) is a
// binding's (CoA, HoA). Spoofed tunnels, sent before a genuine one on the
// same path, never reach the correspondent node.
func TestHomeAgentDecapsulatesOnlyBoundTunnels(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.homeAgentConfig())
	defer func() { must(t, ha.Close()) }()
	must(t, ha.Bind(ctx, homeAddr, coa1))
	atCN := tp.cn.Capture(t, "c0")

	spoofs := map[string][]byte{
		"inner source not bound to this CoA": tunnelled(coa1, haAddr, echoRequest(otherHome, cnAddr, 1)),
		"outer source not the bound CoA":     tunnelled(coa2, haAddr, echoRequest(homeAddr, cnAddr, 2)),
	}
	for _, packet := range spoofs {
		sendRaw(t, tp.mn, packet)
	}
	sendRaw(t, tp.mn, tunnelled(coa1, haAddr, echoRequest(homeAddr, cnAddr, 3)))

	genuine, seen := awaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == homeAddr && echoID(p) == 3
	})
	if !genuine {
		t.Fatalf("the genuine reverse-tunnelled packet did not reach the CN; saw %v", seen)
	}
	for _, p := range seen {
		if id := echoID(p); !p.Outgoing && (id == 1 || id == 2) {
			t.Errorf("spoofed tunnel decapsulated and forwarded: %v", p)
		}
	}
}

// TestMobileNodeDecapsulatesOnlyFromHomeAgent: the Mobile Node accepts a
// tunnel to its CoA only from the Home Agent address and only to its home
// address. An accepted echo request is answered through the reverse tunnel.
func TestMobileNodeDecapsulatesOnlyFromHomeAgent(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	tp.dumpOnFailure(t)
	ctx := t.Context()
	mn := startMobileNode(t, tp.mobileNodeConfig())
	defer func() { must(t, mn.Close()) }()
	must(t, mn.Attach(ctx, dataplane.Attachment{CoA: coa1, Interface: "m1"}))
	atMN := tp.mn.Capture(t, "m1")

	sendRaw(t, tp.ha, tunnelled(router1, coa1, echoRequest(cnAddr, homeAddr, 1)))
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, coa1, 2)))
	sendRaw(t, tp.ha, tunnelled(haAddr, coa1, echoRequest(cnAddr, homeAddr, 3)))

	answered, seen := awaitPacket(t, atMN, func(p netnstest.Packet) bool {
		inner, err := p.Inner()
		return err == nil && p.Outgoing && inner.Src == homeAddr && echoID(inner) == 3
	})
	if !answered {
		t.Fatalf("the genuine tunnelled echo request got no tunnelled reply; saw %v", seen)
	}
	for _, p := range seen {
		if !p.Outgoing {
			continue
		}
		if inner, err := p.Inner(); err == nil && (echoID(inner) == 1 || echoID(inner) == 2) {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", inner)
		}
		if echoID(p) == 1 || echoID(p) == 2 {
			t.Errorf("spoofed tunnel was decapsulated and answered: %v", p)
		}
	}
}

// echoID returns the identifier of an ICMPv6 echo request or reply, or -1.
func echoID(p netnstest.Packet) int {
	if p.NextHeader != netnstest.NextHeaderICMPv6 || len(p.Payload) < 8 {
		return -1
	}
	if typ := p.Payload[0]; typ != 128 && typ != 129 {
		return -1
	}
	return int(p.Payload[4])<<8 | int(p.Payload[5])
}
