package homeagent_test

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Run with: go test -run '^$' -bench . -benchmem ./internal/homeagent/
// (BenchmarkCacheBytesPerBinding with -benchtime=1x: it registers a
// million home addresses per iteration).

type nopDataPlane struct{}

func (nopDataPlane) Bind(context.Context, netip.Addr, netip.Addr) error { return nil }
func (nopDataPlane) Unbind(context.Context, netip.Addr) error           { return nil }

func benchAgent(b *testing.B) *homeagent.HomeAgent {
	b.Helper()
	ha, err := homeagent.New(homeagent.Config{HomePrefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")},
		MaxLifetime: time.Hour, RefreshFraction: 0.5, DataPlane: nopDataPlane{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ha.Close(context.Background()) })
	return ha
}

// homeN is the n-th home address of the benchmarks' home prefix.
func homeN(n int) netip.Addr {
	a := netip.MustParsePrefix("2001:db8:1::/64").Addr().As16()
	a[12], a[13], a[14], a[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)+1
	return netip.AddrFrom16(a)
}

func register(ha *homeagent.HomeAgent, n int, seq uint16) homeagent.Reply {
	return ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: coa1, HomeAddress: homeN(n),
		BU: &mh.BindingUpdate{Sequence: seq, Flags: mh.FlagA | mh.FlagH, Lifetime: 900}})
}

// BenchmarkHandleBindingUpdate is the state machine's share of a BU→BA
// (data plane excluded): refreshes of bindings in a cache of 100,000.
func BenchmarkHandleBindingUpdate(b *testing.B) {
	ha := benchAgent(b)
	const live = 100_000
	for n := range live {
		register(ha, n, 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if r := register(ha, i%live, uint16(2+i/live)); r.Ack.Status != mh.StatusAccepted {
			b.Fatalf("status %v", r.Ack.Status)
		}
		i++
	}
}

// BenchmarkCacheBytesPerBinding reports the heap the cache holds per
// binding with a million bindings.
func BenchmarkCacheBytesPerBinding(b *testing.B) {
	const live = 1_000_000
	for b.Loop() {
		before := heapInUse()
		ha := benchAgent(b)
		for n := range live {
			register(ha, n, 1)
		}
		b.ReportMetric(float64(heapInUse()-before)/live, "bytes/binding")
		runtime.KeepAlive(ha)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
