package mh_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// sampleMessages is one message of every type, with every option, used to
// seed the fuzzers and the benchmarks.
func sampleMessages() []mh.Message {
	return []mh.Message{
		&mh.BindingRefreshRequest{},
		&mh.HomeTestInit{Cookie: mh.Cookie{1, 2, 3, 4, 5, 6, 7, 8}},
		&mh.CareOfTestInit{Cookie: mh.Cookie{8, 7, 6, 5, 4, 3, 2, 1}},
		&mh.HomeTest{NonceIndex: 3, Cookie: mh.Cookie{1}, KeygenToken: mh.Cookie{2}},
		&mh.CareOfTest{NonceIndex: 4, Cookie: mh.Cookie{3}, KeygenToken: mh.Cookie{4}},
		&mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 60},
		&mh.BindingUpdate{Sequence: 8, Flags: mh.FlagA | mh.FlagH | mh.FlagR, Options: mh.Options{
			mh.AlternateCareOf(altCareOf), mh.NonceIndices(1, 2),
			mh.MobileNetworkPrefix(netip.MustParsePrefix("2001:db8:5::/48")), mh.AuthorizationData(make([]byte, 12))}},
		&mh.BindingAck{Sequence: 7, Lifetime: 60, Options: mh.Options{mh.RefreshAdvice(45)}},
		&mh.BindingError{Status: mh.ErrorStatusUnknownType, HomeAddress: homeAddr},
		&mh.Unknown{MHType: 42, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
}

// seedMH adds the Mobility Header of every sample message, every golden
// packet and every scapy vector.
func seedMH(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := mh.Marshal(m, careOf, homeAgent)
		if err != nil {
			f.Fatalf("Marshal %T: %v", m, err)
		}
		f.Add(b)
	}
	for _, pkt := range seedPackets(f) {
		var p mh.Packet
		if p.Unmarshal(pkt) == nil {
			f.Add(bytes.Clone(p.MH))
		}
	}
}

// seedPackets returns the golden packets and the scapy vectors.
func seedPackets(f *testing.F) [][]byte {
	var pkts [][]byte
	for _, g := range goldenPackets {
		pkts = append(pkts, unhex(f, g.wire))
	}
	files, _ := filepath.Glob("testdata/scapy/*.hex")
	for _, name := range files {
		text, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		pkts = append(pkts, unhex(f, string(text)))
	}
	return pkts
}

// checkRoundTrip asserts that re-encoding a decoded message gives back the
// Mobility Header it came from, except the Reserved octet and the checksum
// of the common fields (senders zero the one and compute the other), and
// that the re-encoding decodes to the same message.
func checkRoundTrip(t *testing.T, in []byte, m mh.Message, decode func([]byte) (mh.Message, error)) {
	t.Helper()
	out, err := mh.Marshal(m, careOf, homeAgent)
	if err != nil {
		t.Fatalf("decoded %#v does not marshal: %v", m, err)
	}
	h, _ := mh.ParseHeader(in)
	want := bytes.Clone(in[:h.Length])
	want[3], want[4], want[5] = 0, 0, 0
	got := bytes.Clone(out)
	got[4], got[5] = 0, 0
	if !bytes.Equal(want, got) {
		t.Fatalf("round trip changed the bytes\n in %x\nout %x", want, got)
	}
	again, err := decode(out)
	if err != nil {
		t.Fatalf("re-encoded message does not decode: %v", err)
	}
	if diff := cmp.Diff(m, again, msgCmp...); diff != "" {
		t.Fatalf("decode(encode(m)) != m:\n%s", diff)
	}
}

// fuzzDecoder fuzzes the Unmarshal method of one message type.
func fuzzDecoder[M any, PM interface {
	*M
	mh.Message
	Unmarshal([]byte) error
}](f *testing.F) {
	seedMH(f)
	decode := func(b []byte) (mh.Message, error) {
		m := PM(new(M))
		return m, m.Unmarshal(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		checkRoundTrip(t, b, m, decode)
	})
}

func FuzzBindingUpdate(f *testing.F)         { fuzzDecoder[mh.BindingUpdate](f) }
func FuzzBindingAck(f *testing.F)            { fuzzDecoder[mh.BindingAck](f) }
func FuzzBindingError(f *testing.F)          { fuzzDecoder[mh.BindingError](f) }
func FuzzBindingRefreshRequest(f *testing.F) { fuzzDecoder[mh.BindingRefreshRequest](f) }
func FuzzHomeTestInit(f *testing.F)          { fuzzDecoder[mh.HomeTestInit](f) }
func FuzzCareOfTestInit(f *testing.F)        { fuzzDecoder[mh.CareOfTestInit](f) }
func FuzzHomeTest(f *testing.F)              { fuzzDecoder[mh.HomeTest](f) }
func FuzzCareOfTest(f *testing.F)            { fuzzDecoder[mh.CareOfTest](f) }

// FuzzParse fuzzes the decoder that picks the type from the header,
// unknown types included.
func FuzzParse(f *testing.F) {
	seedMH(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := mh.Parse(b)
		if err != nil {
			return
		}
		checkRoundTrip(t, b, m, mh.Parse)
	})
}

// FuzzPacket fuzzes the IPv6 packet decoder. A packet may be laid out in
// ways AppendPacket never produces (other padding, hop-by-hop options), so
// the round trip checked is decode(encode(decode(b))) == decode(b), with
// encode stable from there on.
func FuzzPacket(f *testing.F) {
	for _, p := range seedPackets(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p mh.Packet
		if p.Unmarshal(b) != nil {
			return
		}
		m, err := mh.Parse(p.MH)
		if err != nil {
			return
		}
		p.SegmentsLeft = min(p.SegmentsLeft, 1)
		if p.HopLimit == 0 {
			p.HopLimit = 64 // AppendPacket sends 64 for a zero hop limit
		}
		out, err := mh.AppendPacket(nil, &p, m)
		if err != nil {
			t.Fatalf("decoded packet does not encode: %v", err)
		}
		var q mh.Packet
		if err := q.Unmarshal(out); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v\n%x", err, out)
		}
		ignore := cmp.FilterPath(func(p cmp.Path) bool {
			s := p.String()
			return s == "MH" || s == "MHOffset" || s == "Header.Checksum" || strings.HasPrefix(s, "SegmentsLeft")
		}, cmp.Ignore())
		if diff := cmp.Diff(p, q, ignore, cmpopts.IgnoreUnexported(mh.Packet{}), cmp.Comparer(addrEqual)); diff != "" {
			t.Fatalf("packet fields changed:\n%s", diff)
		}
		m2, err := mh.Parse(q.MH)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		checkRoundTrip(t, p.MH, m2, mh.Parse)
	})
}
