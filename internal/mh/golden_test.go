package mh_test

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Addresses of the golden packets (documentation prefix).
var (
	homeAgent = netip.MustParseAddr("2001:db8:1::1")
	homeAddr  = netip.MustParseAddr("2001:db8:1::100")
	careOf    = netip.MustParseAddr("2001:db8:a::2")
	altCareOf = netip.MustParseAddr("2001:db8:b::2")
)

// unhex turns an annotated hex dump into bytes: everything after "//" on a
// line is a comment, white space is ignored.
func unhex(t testing.TB, annotated string) []byte {
	t.Helper()
	var sb strings.Builder
	for line := range strings.SplitSeq(annotated, "\n") {
		line, _, _ = strings.Cut(line, "//")
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("bad golden hex: %v", err)
	}
	return b
}

// goldenPacket is a whole packet as it appears on the wire, the packet
// fields it decodes to and the message it carries.
type goldenPacket struct {
	name   string
	wire   string
	packet mh.Packet // Src, Dst, HopLimit, HomeAddress, RoutingAddress, SegmentsLeft
	msg    mh.Message
}

// The checksums below were computed by scapy building the same packets
// (testdata/scapy/gen.py), not by this package. Note that scapy applies the
// home-address rule only when the Home Address option is the sole option of
// its header as scapy builds it: a dissected header that also holds the PadN
// makes scapy fall back to the care-of address.
var goldenPackets = []goldenPacket{{
	name: "BU from the care-of address with a home address option",
	wire: `
	60 00 00 00  00 28 3c 40  // IPv6: version 6, payload length 40, next header 60 (dest opts), hop limit 64
	20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 02  // source: care-of address 2001:db8:a::2
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01  // destination: home agent 2001:db8:1::1
	87 02                     // dest opts: next header 135 (MH), hdr ext len 2 (24 octets)
	01 02 00 00               // PadN, 2 octets of padding: HAO at 8n+6
	c9 10                     // Home Address option (201), length 16
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 01 00  // home address 2001:db8:1::100
	3b 01 05 00               // MH: payload proto 59, header len 1 (16 octets), type 5 (BU), reserved
	a1 ac                     // checksum, pseudo-header source = home address
	00 07                     // sequence 7
	c0 00                     // flags A and H, reserved
	00 3c                     // lifetime 60 units = 240 s
	01 02 00 00               // PadN to 16 octets
	`,
	packet: mh.Packet{Src: careOf, Dst: homeAgent, HopLimit: 64, HomeAddress: homeAddr},
	msg:    &mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 60, Options: mh.Options{mh.PadN(4)}},
}, {
	name: "BA to the care-of address with a type 2 routing header and refresh advice",
	wire: `
	60 00 00 00  00 30 2b 40  // IPv6: payload length 48, next header 43 (routing), hop limit 64
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01  // source: home agent
	20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 02  // destination: care-of address
	87 02 02 01               // routing: next header 135, hdr ext len 2, type 2, segments left 1
	00 00 00 00               // reserved
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 01 00  // home address
	3b 02 06 00               // MH: payload proto 59, header len 2 (24 octets), type 6 (BA), reserved
	5e 71                     // checksum, pseudo-header destination = home address
	00 00                     // status 0 (accepted), flags none
	00 07                     // sequence 7
	00 3c                     // lifetime 60 units
	02 02 00 2d               // Binding Refresh Advice (2n), length 2, interval 45 units
	01 06 00 00 00 00 00 00   // PadN to 24 octets
	`,
	packet: mh.Packet{Src: homeAgent, Dst: careOf, HopLimit: 64, RoutingAddress: homeAddr, SegmentsLeft: 1},
	msg: &mh.BindingAck{Status: mh.StatusAccepted, Sequence: 7, Lifetime: 60,
		Options: mh.Options{mh.RefreshAdvice(45), mh.PadN(8)}},
}, {
	name: "BA status 135 carries the last accepted sequence",
	wire: `
	60 00 00 00  00 28 2b 40  // IPv6: payload length 40, next header 43 (routing)
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01  // source: home agent
	20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 02  // destination: care-of address
	87 02 02 01 00 00 00 00   // type 2 routing header, segments left 1
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 01 00  // home address
	3b 01 06 00               // MH: header len 1, type 6 (BA)
	d9 f0                     // checksum
	87 00                     // status 135 (sequence number out of window), flags none
	ff fe                     // sequence 65534: the binding's last accepted one
	00 00                     // lifetime 0
	01 02 00 00               // PadN to 16 octets
	`,
	packet: mh.Packet{Src: homeAgent, Dst: careOf, HopLimit: 64, RoutingAddress: homeAddr, SegmentsLeft: 1},
	msg:    &mh.BindingAck{Status: mh.StatusSequenceOutOfWindow, Sequence: 65534, Options: mh.Options{mh.PadN(4)}},
}, {
	name: "BE status 2 for an unrecognised MH type",
	wire: `
	60 00 00 00  00 18 87 40  // IPv6: payload length 24, next header 135 (MH)
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01  // source: home agent
	20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 02  // destination: care-of address
	3b 02 07 00               // MH: header len 2 (24 octets), type 7 (BE)
	31 24                     // checksum
	02 00                     // status 2 (unrecognized MH type), reserved
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 01 00  // home address of the offending packet
	`,
	packet: mh.Packet{Src: homeAgent, Dst: careOf, HopLimit: 64},
	msg:    &mh.BindingError{Status: mh.ErrorStatusUnknownType, HomeAddress: homeAddr},
}, {
	name: "BU with alternate care-of address, padded to 8n+6",
	wire: `
	60 00 00 00  00 38 3c 40  // IPv6: payload length 56, next header 60
	20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 02  // source: care-of address
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 01  // destination: home agent
	87 02 01 02 00 00 c9 10   // dest opts with PadN and Home Address option
	20 01 0d b8 00 01 00 00 00 00 00 00 00 00 01 00  // home address
	3b 03 05 00               // MH: header len 3 (32 octets), type 5 (BU)
	50 09                     // checksum
	01 00                     // sequence 256
	e0 00                     // flags A, H and L
	ff ff                     // lifetime 65535 units (the maximum)
	01 00                     // PadN of 2 octets: the option below sits at offset 14 = 8n+6
	03 10                     // Alternate Care-of Address option, length 16
	20 01 0d b8 00 0b 00 00 00 00 00 00 00 00 00 02  // alternate care-of address 2001:db8:b::2
	`,
	packet: mh.Packet{Src: careOf, Dst: homeAgent, HopLimit: 64, HomeAddress: homeAddr},
	msg: &mh.BindingUpdate{Sequence: 256, Flags: mh.FlagA | mh.FlagH | mh.FlagL, Lifetime: mh.MaxLifetime,
		Options: mh.Options{mh.PadN(2), mh.AlternateCareOf(altCareOf)}},
}}

func TestGoldenPacketsDecode(t *testing.T) {
	for _, g := range goldenPackets {
		t.Run(g.name, func(t *testing.T) {
			var p mh.Packet
			if err := p.Unmarshal(unhex(t, g.wire)); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			ignore := cmpopts.IgnoreFields(mh.Packet{}, "Header", "MH", "MHOffset")
			if diff := cmp.Diff(g.packet, p, ignore, cmpopts.IgnoreUnexported(mh.Packet{}), cmp.Comparer(addrEqual)); diff != "" {
				t.Errorf("packet fields (-want +got):\n%s", diff)
			}
			got, err := mh.Parse(p.MH)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(g.msg, got, msgCmp...); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoldenPacketsEncode(t *testing.T) {
	for _, g := range goldenPackets {
		t.Run(g.name, func(t *testing.T) {
			got, err := mh.AppendPacket(nil, &g.packet, g.msg)
			if err != nil {
				t.Fatalf("AppendPacket: %v", err)
			}
			if want := unhex(t, g.wire); !equalHex(t, want, got) {
				t.Errorf("wire mismatch")
			}
		})
	}
}

// TestPaddingIsInsertedWhereAlignmentNeedsIt builds messages without any
// padding options and checks the encoder pads each option to its xn+y rule
// and the header to 8 octets.
func TestPaddingIsInsertedWhereAlignmentNeedsIt(t *testing.T) {
	cases := []struct {
		name string
		msg  mh.Message
		wire string // the Mobility Header, checksum zeroed
	}{{
		name: "BU without options gets PadN to 16",
		msg:  &mh.BindingUpdate{Sequence: 1, Flags: mh.FlagA | mh.FlagH, Lifetime: 1},
		wire: `3b 01 05 00 0000  0001 c000 0001  01 02 00 00`,
	}, {
		name: "alternate care-of address at 8n+6",
		msg:  &mh.BindingUpdate{Sequence: 1, Options: mh.Options{mh.AlternateCareOf(altCareOf)}},
		wire: `3b 03 05 00 0000  0001 0000 0000  01 00  03 10 20010db8000b00000000000000000002`,
	}, {
		name: "nonce indices at 2n then authorization data at 8n+2",
		msg: &mh.BindingUpdate{Sequence: 2, Options: mh.Options{
			mh.NonceIndices(0x1111, 0x2222), mh.AuthorizationData([]byte("0123456789ab"))}},
		wire: `3b 03 05 00 0000  0002 0000 0000  04 04 1111 2222  // nonce indices at 12 = 2n
		       05 0c 303132333435363738396162  // authorization data at 18 = 8n+2: no padding needed`,
	}, {
		name: "mobile network prefix at 8n+4",
		msg: &mh.BindingUpdate{Sequence: 3, Flags: mh.FlagR,
			Options: mh.Options{mh.MobileNetworkPrefix(netip.MustParsePrefix("2001:db8:5::/48"))}},
		wire: `3b 03 05 00 0000  0003 0400 0000  // flag R; the option starts at 12 = 8n+4
		       06 12 00 30 20010db8000500000000000000000000  // reserved 0, prefix length 48, prefix`,
	}, {
		name: "refresh advice needs a Pad1 after an odd-length option",
		msg: &mh.BindingAck{Sequence: 4, Options: mh.Options{
			{Type: 200, Data: []byte{0xaa}}, mh.RefreshAdvice(10)}},
		wire: `3b 02 06 00 0000  00 00 0004 0000  c8 01 aa  // unknown option 200 ends at 15
		       00  02 02 000a  // Pad1, then the refresh advice at 16 = 2n
		       01 02 0000      // PadN to 24 octets`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := mh.Marshal(c.msg, careOf, homeAgent)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got[4], got[5] = 0, 0
			equalHex(t, unhex(t, c.wire), got)
		})
	}
}

func equalHex(t *testing.T, want, got []byte) bool {
	t.Helper()
	if hex.EncodeToString(want) == hex.EncodeToString(got) {
		return true
	}
	t.Errorf("bytes differ\nwant %x\n got %x", want, got)
	return false
}

func addrEqual(a, b netip.Addr) bool { return a == b }

// msgCmp compares messages treating nil and empty slices alike.
var msgCmp = []cmp.Option{cmp.Comparer(addrEqual), cmpopts.EquateEmpty()}
