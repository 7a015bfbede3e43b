package bpf

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
)

// The programs run here through BPF_PROG_TEST_RUN, without routes or
// namespaces: the kernel hands them a packet and returns their verdict
// and the context (skb->mark) they leave. The encapsulation itself is not
// run this way: bpf_lwt_push_encap needs the route the packet came by,
// which a test run does not have. The namespace tests cover it.

var (
	testHA    = netip.MustParseAddr("2001:db8:1::1")
	testHoA   = netip.MustParseAddr("2001:db8:1::100")
	testOther = netip.MustParseAddr("2001:db8:1::200")
	testCoA   = netip.MustParseAddr("2001:db8:a::2")
	testCoA2  = netip.MustParseAddr("2001:db8:b::2")
	testCN    = netip.MustParseAddr("2001:db8:c::2")
)

const testMark = 0x1000

// skbContext holds a struct __sk_buff (192 bytes on Linux 6.18; the
// kernel refuses an output buffer smaller than its own); index 2 is mark.
type skbContext [64]uint32

func loadTestCollection(t *testing.T) *ebpf.Collection {
	t.Helper()
	coll, err := ebpf.NewCollection(collectionSpec(testHA, testMark, 16))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	key, value := testHoA.As16(), testCoA.As16()
	if err := coll.Maps[bindingsMapName].Put(&key, &value); err != nil {
		t.Fatal(err)
	}
	return coll
}

// header builds a fixed IPv6 header followed by payload.
func header(src, dst netip.Addr, nextHeader uint8, payload []byte) []byte {
	b := make([]byte, ipv6HeaderLen, ipv6HeaderLen+len(payload))
	b[0] = ipv6VersionTop
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = nextHeader, outerHopLimit
	s, d := src.As16(), dst.As16()
	copy(b[offSrc:], s[:])
	copy(b[offDst:], d[:])
	return append(b, payload...)
}

// run feeds packet (behind an Ethernet header, as test runs want) to prog
// and returns its verdict and the mark it left.
func run(t *testing.T, prog *ebpf.Program, packet []byte) (verdict, mark uint32) {
	t.Helper()
	frame := append([]byte{12: 0x86, 13: 0xdd}, packet...)
	var ctxOut skbContext
	verdict, err := prog.Run(&ebpf.RunOptions{Data: frame, Context: skbContext{}, ContextOut: ctxOut[:]})
	if err != nil {
		t.Fatal(err)
	}
	return verdict, ctxOut[2]
}

func readStats(t *testing.T, coll *ebpf.Collection) [numCounters]uint64 {
	t.Helper()
	var sums [numCounters]uint64
	for c := range numCounters {
		var perCPU []uint64
		if err := coll.Maps[statsMapName].Lookup(uint32(c), &perCPU); err != nil {
			t.Fatal(err)
		}
		for _, v := range perCPU {
			sums[c] += v
		}
	}
	return sums
}

func TestCheckProgramVerdicts(t *testing.T) {
	coll := loadTestCollection(t)
	prog := coll.Programs[checkProgName]
	echo := header(testHoA, testCN, 58, []byte{128, 0, 0, 0, 0, 1, 0, 1})
	cases := []struct {
		name    string
		packet  []byte
		verdict uint32
		mark    uint32
	}{
		{"bound CoA and HoA: marked, routed again", header(testCoA, testHA, protoIPv6, echo), bpfLWTReroute, testMark},
		{"outer source not the bound CoA", header(testCoA2, testHA, protoIPv6, echo), bpfDrop, 0},
		{"inner source without binding", header(testCoA, testHA, protoIPv6,
			header(testOther, testCN, 58, []byte{128, 0, 0, 0})), bpfDrop, 0},
		{"truncated inner header", header(testCoA, testHA, protoIPv6, echo[:20]), bpfDrop, 0},
		{"not tunnelled: delivered as usual", header(testCoA, testHA, 58, []byte{128, 0, 0, 0}), bpfOK, 0},
	}
	for _, c := range cases {
		verdict, mark := run(t, prog, c.packet)
		if verdict != c.verdict || mark != c.mark {
			t.Errorf("%s: verdict %d mark %#x, want %d %#x", c.name, verdict, mark, c.verdict, c.mark)
		}
	}
	got := readStats(t, coll)
	want := [numCounters]uint64{cntDecapsulated: 1, cntRefused: 2, cntMalformed: 1}
	if got != want {
		t.Errorf("counters %v, want %v", got, want)
	}
}

func TestEncapProgramDropsWithoutBinding(t *testing.T) {
	coll := loadTestCollection(t)
	prog := coll.Programs[encapProgName]
	// Never a packet to testHoA here: see the comment at the top.
	if verdict, _ := run(t, prog, header(testCN, testOther, 58, []byte{128, 0, 0, 0})); verdict != bpfDrop {
		t.Errorf("packet to a home address without binding: verdict %d, want BPF_DROP", verdict)
	}
	got := readStats(t, coll)
	want := [numCounters]uint64{cntNoBinding: 1}
	if got != want {
		t.Errorf("counters %v, want %v", got, want)
	}
}
