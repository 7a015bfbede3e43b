package bpf_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// TestHomeAgentDecapsulatesOnlyBoundTunnels: the Home Agent forwards the
// inner packet of a tunnel only if (outer source, inner source) is a
// binding's (CoA, HoA), checked by the program against the bindings map.
// Spoofed tunnels, sent before a genuine one on the same path, never reach
// the correspondent node and are counted as refused.
func TestHomeAgentDecapsulatesOnlyBoundTunnels(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	dptest.Must(t, ha.Bind(ctx, dptest.HomeAddr, dptest.CoA1))
	atCN := tp.CN.Capture(t, "c0")

	spoofs := map[string][]byte{
		"inner source not bound to this CoA": dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.SizedEchoRequest(dptest.OtherHome, dptest.CNAddr, 1, 64)),
		"outer source not the bound CoA":     dptest.Tunnelled(dptest.CoA2, dptest.HAAddr, dptest.SizedEchoRequest(dptest.HomeAddr, dptest.CNAddr, 2, 64)),
	}
	for _, packet := range spoofs {
		dptest.SendRaw(t, tp.MN, packet)
	}
	dptest.SendRaw(t, tp.MN, dptest.Tunnelled(dptest.CoA1, dptest.HAAddr, dptest.SizedEchoRequest(dptest.HomeAddr, dptest.CNAddr, 3, 64)))

	genuine, seen := dptest.AwaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return p.Src == dptest.HomeAddr && dptest.EchoID(p) == 3
	})
	if !genuine {
		t.Fatalf("the genuine reverse-tunnelled packet did not reach the CN; saw %v", seen)
	}
	for _, p := range seen {
		if id := dptest.EchoID(p); !p.Outgoing && (id == 1 || id == 2) {
			t.Errorf("spoofed tunnel decapsulated and forwarded: %v", p)
		}
	}
	if s := stats(t, ha); s.Refused != uint64(len(spoofs)) || s.Decapsulated != 1 {
		t.Errorf("stats %+v: want %d refused, 1 decapsulated", s, len(spoofs))
	}
}

// TestTooBigPacketsLearnTheTunnelMTU: the home-prefix route leaves room
// for the outer header. A 1460-byte packet crosses the 1500-byte access
// link tunnelled; a 1500-byte one is answered with Packet Too Big, MTU
// 1460, instead of vanishing after encapsulation.
func TestTooBigPacketsLearnTheTunnelMTU(t *testing.T) {
	t.Parallel()
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	dptest.Must(t, ha.Bind(t.Context(), dptest.HomeAddr, dptest.CoA1))
	atMN, atCN := newRawCapture(t, tp.MN, "m1"), tp.CN.Capture(t, "c0")

	dptest.SendRaw(t, tp.CN, dptest.SizedEchoRequest(dptest.CNAddr, dptest.HomeAddr, 1, 1460))
	dptest.SendRaw(t, tp.CN, dptest.SizedEchoRequest(dptest.CNAddr, dptest.HomeAddr, 2, 1500))

	tooBig, seen := dptest.AwaitPacket(t, atCN, func(p netnstest.Packet) bool {
		return !p.Outgoing && p.NextHeader == netnstest.NextHeaderICMPv6 && len(p.Payload) >= 8 &&
			p.Payload[0] == 2 && p.Payload[4] == 0 && p.Payload[5] == 0 && p.Payload[6] == 1460>>8 && p.Payload[7] == 1460&0xff
	})
	if !tooBig {
		t.Errorf("no Packet Too Big with MTU 1460 for the 1500-byte packet; saw %v", seen)
	}
	headers := atMN.tunnelHeaders(t)
	if len(headers) != 1 || headers[0].payloadLength != 1460 {
		t.Errorf("tunnel packets on the access link %+v, want one carrying 1460 bytes", headers)
	}
}
