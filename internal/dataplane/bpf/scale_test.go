package bpf_test

import (
	"errors"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
)

// scaleBindings is the project's target: a million live bindings, of
// which the scale test makes timedBinds with Bind.
const (
	scaleBindings = 1_000_000
	timedBinds    = 100_000
)

// scaleHome returns the i-th home address of the scale tests:
// 2001:db8:1:0:1::/80 + i, inside the home prefix and clear of the
// addresses the other tests use.
func scaleHome(i int) netip.Addr {
	a := scaleBase
	a[13], a[14], a[15] = byte(i>>16), byte(i>>8), byte(i)
	return netip.AddrFrom16(a)
}

var scaleBase = netip.MustParseAddr("2001:db8:1:0:1::").As16()

// TestMillionBindings loads 1,000,000 bindings, the mobile node's and
// 999,999 others, care-of addresses alternating between the two access
// links: the first 100,000 one Bind call each (timed), the rest in batched
// map updates to keep the test short (about 2 µs per binding under -race,
// where a Bind costs three times as much). It checks that the map holds
// all of them with the right care-of address and that pings through the
// mobile node's binding work while they are loaded, and logs the cost:
// time per Bind, the map's kernel memory and this process's resident set.
func TestMillionBindings(t *testing.T) {
	tp := dptest.NewTopology(t)
	tp.DumpOnFailure(t)
	ctx := t.Context()
	rssIdle := residentBytes(t)
	ha := startHomeAgent(t, tp.HomeAgentConfig())
	defer func() { dptest.Must(t, ha.Close()) }()
	mn := dptest.StartMobileNode(t, tp.MobileNodeConfig())
	defer func() { dptest.Must(t, mn.Close()) }()
	rssStarted, memStarted := residentBytes(t), mapMemory(t, ha)

	coas := [2]netip.Addr{dptest.CoA1, dptest.CoA2}
	start := time.Now()
	for i := range timedBinds {
		hoa := scaleHome(i)
		if i == 0 {
			hoa = dptest.HomeAddr
		}
		if err := ha.Bind(ctx, hoa, coas[i%2]); err != nil {
			t.Fatalf("binding %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	batched := loadTheRest(t, ha)
	debug.FreeOSMemory() // the test's batch buffers are not the driver's
	rssLoaded, memLoaded := residentBytes(t), mapMemory(t, ha)

	if n, wrong := checkEntries(t, bpf.BindingsMap(ha)); n != scaleBindings || wrong != 0 {
		t.Errorf("the map holds %d bindings, %d with the wrong care-of address; want %d, 0", n, wrong, scaleBindings)
	}
	dptest.Must(t, mn.Attach(ctx, dataplane.Attachment{CoA: dptest.CoA1, Interface: "m1"}))
	before := stats(t, ha)
	dptest.Must(t, tp.CN.Ping(ctx, dptest.CNAddr, dptest.HomeAddr))
	dptest.Must(t, tp.MN.Ping(ctx, dptest.HomeAddr, dptest.CNAddr))
	if after := stats(t, ha); after.Encapsulated < before.Encapsulated+2 || after.Decapsulated < before.Decapsulated+2 {
		t.Errorf("stats %+v after the pings, %+v before: want >= 2 more tunnelled each way", after, before)
	}

	t.Logf("%d Bind calls in %v: %d ns per Bind; %d more in batches: %d ns per binding",
		timedBinds, elapsed.Round(time.Millisecond), elapsed.Nanoseconds()/timedBinds,
		scaleBindings-timedBinds, batched.Nanoseconds()/(scaleBindings-timedBinds))
	t.Logf("bindings map (kernel memlock): %s empty, %s with %d bindings (%d bytes per binding)",
		mib(memStarted), mib(memLoaded), scaleBindings, (memLoaded-memStarted)/scaleBindings)
	t.Logf("process RSS: %s before Start, %s after Start, %s with %d bindings",
		mib(rssIdle), mib(rssStarted), mib(rssLoaded), scaleBindings)
}

// loadTheRest binds scaleHome(timedBinds...scaleBindings-1) in batches
// and returns how long the batches took.
func loadTheRest(t *testing.T, ha dataplane.HomeAgent) time.Duration {
	t.Helper()
	coas := [2][16]byte{dptest.CoA1.As16(), dptest.CoA2.As16()}
	hoas, values := make([][16]byte, 0, scaleBindings-timedBinds), make([][16]byte, 0, scaleBindings-timedBinds)
	for i := timedBinds; i < scaleBindings; i++ {
		hoas, values = append(hoas, scaleHome(i).As16()), append(values, coas[i%2])
	}
	start := time.Now()
	dptest.Must(t, bpf.LoadBindings(ha, hoas, values))
	return time.Since(start)
}

// BenchmarkBind measures one Bind: validation plus one map update. The
// home addresses cycle through 2^19, so the map stays well below capacity
// and later rounds replace bindings, as refreshes do.
func BenchmarkBind(b *testing.B) {
	tp := dptest.NewTopology(b)
	ha := startHomeAgent(b, tp.HomeAgentConfig())
	defer func() { dptest.Must(b, ha.Close()) }()
	ctx := b.Context()
	coas := [2]netip.Addr{dptest.CoA1, dptest.CoA2}
	i := 0
	for b.Loop() {
		if err := ha.Bind(ctx, scaleHome(i%(1<<19)), coas[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func mapMemory(t *testing.T, ha dataplane.HomeAgent) uint64 {
	t.Helper()
	info, err := bpf.BindingsMap(ha).Info()
	dptest.Must(t, err)
	mem, ok := info.Memlock()
	if !ok {
		t.Fatal("the kernel reports no memlock for the bindings map")
	}
	return mem
}

// checkEntries reads the map in batches of 64k and returns how many
// bindings it holds and how many do not have the care-of address the test
// gave them: coa1 for even, coa2 for odd last bytes (the home address is
// even).
func checkEntries(t *testing.T, m *ebpf.Map) (total, wrong int) {
	t.Helper()
	const chunk = 1 << 16
	keys, values := make([][16]byte, chunk), make([][16]byte, chunk)
	coas := [2][16]byte{dptest.CoA1.As16(), dptest.CoA2.As16()}
	var cursor ebpf.MapBatchCursor
	for {
		n, err := m.BatchLookup(&cursor, keys, values, nil)
		for i := range n {
			if values[i] != coas[keys[i][15]&1] {
				wrong++
			}
		}
		total += n
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return total, wrong
		}
		dptest.Must(t, err)
	}
}

// residentBytes is this process's VmRSS.
func residentBytes(t *testing.T) uint64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	dptest.Must(t, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			dptest.Must(t, err)
			return kib << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func mib(bytes uint64) string {
	return strconv.FormatFloat(float64(bytes)/(1<<20), 'f', 1, 64) + " MiB"
}
