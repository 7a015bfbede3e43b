package mhio_test

import (
	"context"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// Receive allocates nothing per packet once the Conn is warm: packets are
// queued first, so that the sender's allocations do not count.
func TestReceiveDoesNotAllocate(t *testing.T) {
	for _, mode := range []mhio.Mode{mhio.ModeAFPacket, mhio.ModeRawMH} {
		t.Run(string(mode), func(t *testing.T) {
			tp := twoNodes(t)
			ha := tp.ha.open(t, mhio.Config{Instance: "ha", Mode: mode})
			mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
			pkt := careOfTestInit(t, careOf, haAddr, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			buf := make([]byte, 65536)
			var p mh.Packet

			// Warm up, and let address notifications of the fresh
			// namespace be read by a Receive that has to wait.
			send(t, mn, pkt)
			if _, err := ha.Receive(ctx, buf, &p); err != nil {
				t.Fatal(err)
			}
			short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
			_, _ = ha.Receive(short, buf, &p)
			stop()

			const runs = 50
			for range runs + 1 {
				send(t, mn, pkt)
			}
			allocs := testing.AllocsPerRun(runs, func() {
				if _, err := ha.Receive(ctx, buf, &p); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Receive allocates %.1f times per packet, want 0", allocs)
			}
		})
	}
}

// BenchmarkReceive measures one Binding Update with a Home Address option
// from Send in the mobile node's namespace, over veth, to Receive and
// decode (packet and Binding Update) in the home agent's.
func BenchmarkReceive(b *testing.B) {
	tp := twoNodes(b)
	ha := tp.ha.open(b, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(b, mhio.Config{Instance: "mn"})
	pkt := bindingUpdate(b, haAddr)
	ctx := context.Background()
	buf := make([]byte, 65536)
	var p mh.Packet
	var bu mh.BindingUpdate
	b.ReportAllocs()
	for b.Loop() {
		send(b, mn, pkt)
		if _, err := ha.Receive(ctx, buf, &p); err != nil {
			b.Fatal(err)
		}
		if err := bu.Unmarshal(p.MH); err != nil {
			b.Fatal(err)
		}
	}
}
