package udpflow_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/bench/udpflow"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

func TestAnalyze(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(ms int) int64 { return start.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	sent := udpflow.Sent{Start: start, End: start.Add(12 * time.Millisecond), Packets: 12, Errors: 1, At: times(start, 12)}
	// 0..11 sent 1 ms apart: 3, 4, 5 and 9 lost, 7 before 6, 8 twice,
	// 99 is not one of ours.
	arrivals := []udpflow.Arrival{
		{Seq: 0, Sent: at(0), Received: at(1)},
		{Seq: 1, Sent: at(1), Received: at(2)},
		{Seq: 2, Sent: at(2), Received: at(3)},
		{Seq: 7, Sent: at(7), Received: at(8)},
		{Seq: 6, Sent: at(6), Received: at(8)},
		{Seq: 8, Sent: at(8), Received: at(9)},
		{Seq: 8, Sent: at(8), Received: at(9)},
		{Seq: 10, Sent: at(10), Received: at(11)},
		{Seq: 99, Sent: at(10), Received: at(11)},
		{Seq: 11, Sent: at(11), Received: at(12)},
	}
	got := udpflow.Analyze(sent, arrivals)
	want := udpflow.Stats{
		Sent: 12, SendErrors: 1, Received: 9, Unique: 8, Lost: 4, Duplicates: 1, Reordered: 1,
		LongestGap: 5 * time.Millisecond, GapStart: time.Unix(0, at(3)), GapEnd: time.Unix(0, at(8)),
		LossRuns: 2, FirstLost: 3, LastLost: 9, LongestLossRun: 3, LongestLossRunTime: 3 * time.Millisecond,
		Outage: 8 * time.Millisecond, Recovered: true, RecoveredAt: time.Unix(0, at(11)),
	}
	if got != want {
		t.Errorf("Analyze:\n got %+v\nwant %+v", got, want)
	}
	if d := udpflow.OneWay(arrivals); d[0] != time.Millisecond || d[len(d)-1] != 2*time.Millisecond {
		t.Errorf("OneWay: %v, want 1ms to 2ms", d)
	}
	clean := udpflow.Analyze(sent, nil)
	if clean.Recovered || clean.LossRuns != 1 || clean.FirstLost != 0 || clean.LastLost != 11 {
		t.Errorf("Analyze of nothing received: %+v", clean)
	}
}

func TestAnalyzeNoLoss(t *testing.T) {
	start := time.Unix(1000, 0)
	sent := udpflow.Sent{Start: start, End: start.Add(time.Millisecond), Packets: 1, At: times(start, 1)}
	got := udpflow.Analyze(sent, []udpflow.Arrival{{Seq: 0, Sent: start.UnixNano(), Received: start.Add(time.Millisecond).UnixNano()}})
	if !got.Recovered || got.Lost != 0 || got.LossRuns != 0 || got.FirstLost != -1 || got.LastLost != -1 || !got.RecoveredAt.IsZero() {
		t.Errorf("Analyze of a flow that lost nothing: %+v", got)
	}
}

func TestAnalyzeNeverRecovered(t *testing.T) {
	start := time.Unix(1000, 0)
	sent := udpflow.Sent{Start: start, End: start.Add(time.Second), Packets: 1000, At: times(start, 1000)}
	arrivals := []udpflow.Arrival{{Seq: 0, Sent: start.UnixNano(), Received: start.Add(time.Millisecond).UnixNano()}}
	got := udpflow.Analyze(sent, arrivals)
	if got.Recovered || got.Lost != 999 || got.LongestGap != 999*time.Millisecond || !got.GapEnd.IsZero() ||
		got.LongestLossRun != 999 || got.FirstLost != 1 || got.LongestLossRunTime != 999*time.Millisecond ||
		got.Outage != time.Second || !got.RecoveredAt.IsZero() {
		t.Errorf("Analyze of a flow cut after one packet: %+v", got)
	}
	if got := udpflow.Analyze(sent, nil); got.Recovered || got.Lost != 1000 || got.LongestGap != time.Second ||
		got.LongestLossRun != 1000 || got.Outage != time.Second {
		t.Errorf("Analyze of a flow of which nothing arrived: %+v", got)
	}
}

// times are the send times of n packets 1 ms apart from start.
func times(start time.Time, n int) []int64 {
	at := make([]int64, n)
	for i := range at {
		at[i] = start.Add(time.Duration(i) * time.Millisecond).UnixNano()
	}
	return at
}

func TestPercentileAndSpread(t *testing.T) {
	v := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want int
	}{{0, 1}, {10, 1}, {50, 5}, {51, 6}, {99, 10}, {100, 10}} {
		if got := udpflow.Percentile(v, c.p); got != c.want {
			t.Errorf("Percentile(1..10, %v) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := udpflow.Percentile([]int(nil), 50); got != 0 {
		t.Errorf("Percentile of nothing = %d", got)
	}
	if got, want := udpflow.SpreadOf([]float64{4, 1, 3, 2}), (udpflow.Spread{Min: 1, Median: 2.5, Max: 4}); got != want {
		t.Errorf("SpreadOf = %+v, want %+v", got, want)
	}
	if got := udpflow.Median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("Median = %v, want 2", got)
	}
}

func TestSpecErrors(t *testing.T) {
	dst := netip.MustParseAddrPort("[::1]:9")
	if _, err := udpflow.Send(context.Background(), nil); !errors.Is(err, udpflow.ErrSpec) {
		t.Errorf("Send of no flow: %v, want ErrSpec", err)
	}
	ok := udpflow.Spec{Dst: dst, Rate: 1, Count: 1}
	if _, err := udpflow.Send(context.Background(), nil, ok, udpflow.Spec{Dst: dst, Rate: 2, Count: 1}); !errors.Is(err, udpflow.ErrSpec) {
		t.Errorf("Send of flows of different rates: %v, want ErrSpec", err)
	}
	for _, spec := range []udpflow.Spec{
		{Dst: netip.MustParseAddrPort("127.0.0.1:9"), Rate: 1, Count: 1},
		{Dst: dst, Rate: 0, Count: 1},
		{Dst: dst, Rate: 1, Count: 1, Size: udpflow.HeaderLen - 1},
	} {
		if _, err := udpflow.Send(context.Background(), nil, spec); !errors.Is(err, udpflow.ErrSpec) {
			t.Errorf("Send(%+v): %v, want ErrSpec", spec, err)
		}
	}
}

// TestLoopback sends two interleaved flows at 10,000 packets/s each over
// the loopback of a namespace of its own to one receiver; nothing may get
// lost there.
func TestLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace")
	}
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ns, err := netns.Create(netns.UniqueName("m6flow-"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Error(err)
		}
	})
	const count = 2000
	addr := netip.MustParseAddrPort("[::1]:7000")
	a, b := udpflow.NewID(), udpflow.NewID()
	r, err := udpflow.Listen(ns, udpflow.ReceiveSpec{
		Addr: netip.AddrPortFrom(netip.Addr{}, addr.Port()), IDs: []uint32{a, b}, Mode: udpflow.BusyPoll, Capacity: 2 * count,
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := udpflow.Spec{Dst: addr, ID: a, Rate: 10000, Count: count, Size: 100}
	other := spec
	other.ID, other.Src = b, netip.IPv6Loopback()
	sent, err := udpflow.Send(context.Background(), ns, spec, other)
	time.Sleep(50 * time.Millisecond) // let the last ones arrive
	arrivals, closeErr := r.Close()
	if err := errors.Join(err, closeErr); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Close(); !errors.Is(err, udpflow.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	for i, id := range []uint32{a, b} {
		of := udpflow.Of(arrivals, id)
		s := udpflow.Analyze(sent[i], of)
		t.Logf("flow %d: sent %d in %v; %+v; one-way p50 %v", i, sent[i].Packets, sent[i].End.Sub(sent[i].Start),
			s, udpflow.Percentile(udpflow.OneWay(of), 50))
		if s.Sent != count || s.Unique != count || s.Lost != 0 || s.SendErrors != 0 || !s.Recovered || s.LossRuns != 0 {
			t.Errorf("loopback flow %d: %+v, want all %d through", i, s, count)
		}
		for _, a := range of {
			if a.OneWay() <= 0 {
				t.Fatalf("arrival %+v: one-way latency %v, want > 0", a, a.OneWay())
			}
		}
	}
}
