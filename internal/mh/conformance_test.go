package mh_test

// Conformance of the wire format with two independent implementations:
// scapy (testdata/scapy/gen.py and decode.py) and Wireshark's mipv6
// dissector (tshark). Both directions are checked: scapy's packets decode
// and re-encode to the same bytes with our codec, and packets our codec
// builds are read back by scapy and tshark field by field.
//
// The tools are required, never skipped: ci/test.sh installs tshark and
// python3-scapy. Every identifier here starts with "conf" so this file does
// not collide with the other tests of the package.
//
// Known bugs of the tools (not of our codec) are handled where they show,
// each with a comment:
//   - scapy 2.5.0 MIP6MH_Generic reads 8 octets too few of a message of an
//     unknown type (length_from 8*len-6 instead of 8*len+2);
//   - scapy 2.5.0 in6_pseudoheader ignores a Home Address option that is not
//     alone in its header, i.e. in every dissected packet (decode.py works
//     around it);
//   - tshark 4.0 shows the Length of an unknown mobility option from a wrong
//     place (pos 89 in a 56-octet frame) with a wrong value (1 for 4), so
//     that value is not compared; the option's extent is right and is;
//   - tshark names the Care-of Keygen Token of a CoT "mip6.hot.token", and
//     has no fields for the Reserved fields of HoTI, CoTI, BE and MNP, nor
//     for the BU flag bits 0x003f and the BA flag bits 0x07.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

const (
	// confPython is the system python, the one python3-scapy installs into
	// (a python3 found first on PATH may lack scapy).
	confPython      = "/usr/bin/python3"
	confScapyDir    = "testdata/scapy"
	confToolTimeout = 2 * time.Minute
	confInstallMsg  = "install tshark / python3-scapy (ci/test.sh does)"
)

// Addresses, all in 2001:db8::/32, the same roles as in gen.py.
var (
	confHA     = netip.MustParseAddr("2001:db8:1::1")   // home agent
	confHoA    = netip.MustParseAddr("2001:db8:1::100") // home address
	confCoA    = netip.MustParseAddr("2001:db8:2::100") // care-of address
	confAltCoA = netip.MustParseAddr("2001:db8:4::100") // alternate care-of address
	confCN     = netip.MustParseAddr("2001:db8:3::1")   // correspondent node
	confHoA2   = netip.MustParseAddr("2001:db8:5::100") // a second mobile node
	confCoA2   = netip.MustParseAddr("2001:db8:6::100") // and its care-of address
)

var (
	confCookie = mh.Cookie{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	confToken  = mh.Cookie{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	confAuth   = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // 96-bit BAD authenticator
)

// confCase is one packet built by our codec and checked by scapy and tshark.
type confCase struct {
	name string
	pkt  mh.Packet // addresses and IPv6 header fields given to AppendPacket
	msg  mh.Message
}

// confCases covers every message type, every option type, the Home Address
// option, the type 2 routing header, padding, an unknown option type and an
// unknown MH type.
func confCases() []confCase {
	const optUnknown = mh.OptionType(200) // unassigned for us, scapy and tshark
	return []confCase{
		{"brr_rh2", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingRefreshRequest{}},
		{"brr_reserved_unknown_option", mh.Packet{Src: confHA, Dst: confHoA},
			&mh.BindingRefreshRequest{Reserved: 0x1234,
				Options: mh.Options{{Type: optUnknown, Data: []byte{0xaa, 0xbb, 0xcc, 0xdd}}}}},
		{"hoti", mh.Packet{Src: confHoA, Dst: confCN},
			&mh.HomeTestInit{Cookie: confCookie}},
		{"hoti_reserved_padn", mh.Packet{Src: confHoA, Dst: confCN},
			&mh.HomeTestInit{Reserved: 0xbeef, Cookie: confCookie, Options: mh.Options{mh.PadN(8)}}},
		{"coti", mh.Packet{Src: confCoA, Dst: confCN},
			&mh.CareOfTestInit{Cookie: confToken}},
		{"hot", mh.Packet{Src: confCN, Dst: confHoA},
			&mh.HomeTest{NonceIndex: 0x1234, Cookie: confCookie, KeygenToken: confToken}},
		{"cot", mh.Packet{Src: confCN, Dst: confCoA},
			&mh.CareOfTest{NonceIndex: 0xfedc, Cookie: confToken, KeygenToken: confCookie}},
		{"bu_home_registration_hao", mh.Packet{Src: confCoA, Dst: confHA, HomeAddress: confHoA,
			TrafficClass: 0xb8, FlowLabel: 0x12345, HopLimit: 255},
			&mh.BindingUpdate{Sequence: 0xffff, Flags: mh.FlagA | mh.FlagH | mh.FlagK,
				Lifetime: mh.MaxLifetime}},
		{"bu_all_flag_bits", mh.Packet{Src: confCoA, Dst: confHA, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 1, Flags: 0xffff, Lifetime: 1}},
		{"bu_deregistration_no_flags", mh.Packet{Src: confHoA, Dst: confHA, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 0x8000, Flags: 0, Lifetime: 0}},
		{"bu_alternate_coa", mh.Packet{Src: confCoA, Dst: confHA, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 1001, Flags: mh.FlagA | mh.FlagH, Lifetime: 150,
				Options: mh.Options{mh.AlternateCareOf(confAltCoA)}}},
		{"bu_nonce_indices_auth_data", mh.Packet{Src: confCoA, Dst: confCN, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA, Lifetime: 60,
				Options: mh.Options{mh.NonceIndices(0x0102, 0x0304), mh.AuthorizationData(confAuth)}}},
		{"bu_mobile_network_prefixes", mh.Packet{Src: confCoA, Dst: confHA, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 2000, Flags: mh.FlagA | mh.FlagH | mh.FlagR, Lifetime: 300,
				Options: mh.Options{
					mh.MobileNetworkPrefix(netip.MustParsePrefix("2001:db8:100::/48")),
					{Type: mh.OptMobileNetworkPrefix, Reserved: 0xff, PrefixLen: 128,
						Addr: netip.MustParseAddr("2001:db8:101:1::1")},
				}}},
		{"ba_rh2_refresh_advice", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingAck{Status: mh.StatusAccepted, Flags: mh.AckFlagK, Sequence: 1000, Lifetime: 150,
				Options: mh.Options{mh.RefreshAdvice(75)}}},
		{"ba_status135", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingAck{Status: mh.StatusSequenceOutOfWindow, Sequence: 999}},
		{"ba_all_flag_bits_status174", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingAck{Status: mh.StatusInvalidCareOfAddress, Flags: 0xff, Sequence: 0xffff,
				Lifetime: mh.MaxLifetime}},
		{"ba_hao_and_rh2", mh.Packet{Src: confCoA2, Dst: confCoA, HomeAddress: confHoA2, RoutingAddress: confHoA},
			&mh.BindingAck{Status: mh.StatusAccepted, Sequence: 5, Lifetime: 10}},
		{"be_status1_reserved", mh.Packet{Src: confCN, Dst: confCoA},
			&mh.BindingError{Status: mh.ErrorStatusUnknownBinding, Reserved: 0xa5, HomeAddress: confHoA}},
		{"be_status2_unspecified_home_address", mh.Packet{Src: confHA, Dst: confCoA},
			&mh.BindingError{Status: mh.ErrorStatusUnknownType}}, // zero Addr is sent as ::
		// Padding given explicitly: Pad1 and PadN(3) then a 2n option, and
		// the trailing PadN(4) our codec adds.
		{"padding_explicit_pad1_padn", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingAck{Sequence: 1, Lifetime: 2,
				Options: mh.Options{{Type: mh.OptPad1}, mh.PadN(3), mh.RefreshAdvice(1)}}},
		// Padding our codec chooses: a 5-octet option leaves the 2n-aligned
		// refresh advice at an odd offset (Pad1 before it), and the end
		// needs 2 octets (a PadN with no data).
		{"padding_pad1_inserted_unknown_option", mh.Packet{Src: confHA, Dst: confCoA, RoutingAddress: confHoA},
			&mh.BindingAck{Status: mh.StatusAcceptedPrefixDiscovery, Flags: mh.AckFlagK, Sequence: 1001,
				Lifetime: 100, Options: mh.Options{{Type: optUnknown, Data: []byte{1, 2, 3}}, mh.RefreshAdvice(50)}}},
		// Every alignment rule at once: 8n+6, 8n+4, 2n, 8n+2.
		{"padding_every_alignment", mh.Packet{Src: confCoA, Dst: confCN, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 9, Flags: mh.FlagA, Lifetime: 8,
				Options: mh.Options{
					mh.AlternateCareOf(confAltCoA),
					mh.MobileNetworkPrefix(netip.MustParsePrefix("2001:db8:100::/56")),
					mh.NonceIndices(1, 2),
					mh.AuthorizationData(confAuth),
				}}},
		{"unknown_option_empty", mh.Packet{Src: confCoA, Dst: confHA, HomeAddress: confHoA},
			&mh.BindingUpdate{Sequence: 3, Flags: mh.FlagA | mh.FlagH, Lifetime: 4,
				Options: mh.Options{{Type: optUnknown}}}},
		{"unknown_mh_type", mh.Packet{Src: confCoA, Dst: confHA},
			&mh.Unknown{MHType: 200, Data: []byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8}}},
	}
}

// confBuild encodes c with our codec and decodes it again, checking that
// the decoded message is what was built (padding aside).
func confBuild(t *testing.T, c confCase) ([]byte, *mh.Packet, mh.Message) {
	t.Helper()
	b, err := mh.AppendPacket(nil, &c.pkt, c.msg)
	if err != nil {
		t.Fatalf("%s: AppendPacket: %v", c.name, err)
	}
	p, m, err := confDecode(b)
	if err != nil {
		t.Fatalf("%s: our decoder rejects our packet %x: %v", c.name, b, err)
	}
	built, decoded := confViewOf(&c.pkt, c.msg), confViewOf(p, m)
	if d := cmp.Diff(confWithoutPadding(built), confWithoutPadding(decoded), cmpopts.EquateEmpty(),
		cmpopts.IgnoreFields(confView{}, "HLim", "Proto", "HLen", "MHReserved", "Cksum", "RH2SegLeft")); d != "" {
		t.Fatalf("%s: our round trip changes the message (-built +decoded):\n%s", c.name, d)
	}
	return b, p, m
}

// confDecode decodes an IPv6 packet with Packet.Unmarshal (checksum
// verified) and the Unmarshal method of the message's type. A message of an
// unknown type, which Unmarshal reports for a Binding Error, is parsed as
// *mh.Unknown.
func confDecode(b []byte) (*mh.Packet, mh.Message, error) {
	var p mh.Packet
	err := p.Unmarshal(b)
	if errors.Is(err, mh.ErrUnknownType) {
		m, err := mh.Parse(p.MH)
		return &p, m, err
	}
	if err != nil {
		return &p, nil, err
	}
	var m interface {
		mh.Message
		Unmarshal([]byte) error
	}
	switch p.Header.Type {
	case mh.TypeBindingRefreshRequest:
		m = &mh.BindingRefreshRequest{}
	case mh.TypeHomeTestInit:
		m = &mh.HomeTestInit{}
	case mh.TypeCareOfTestInit:
		m = &mh.CareOfTestInit{}
	case mh.TypeHomeTest:
		m = &mh.HomeTest{}
	case mh.TypeCareOfTest:
		m = &mh.CareOfTest{}
	case mh.TypeBindingUpdate:
		m = &mh.BindingUpdate{}
	case mh.TypeBindingAck:
		m = &mh.BindingAck{}
	case mh.TypeBindingError:
		m = &mh.BindingError{}
	default:
		return &p, nil, fmt.Errorf("type %v decoded without an error", p.Header.Type)
	}
	return &p, m, m.Unmarshal(p.MH)
}

// confView is a packet as the .json files of gen.py and the output of
// decode.py describe it; confViewOf describes our decoding the same way.
// Pointer fields are those of one message type only (nil: absent).
type confView struct {
	TC         int     `json:"tc"`
	FL         int     `json:"fl"`
	HLim       int     `json:"hlim"`
	Src        string  `json:"src"`
	Dst        string  `json:"dst"`
	HoA        *string `json:"hoa"`
	RH2        *string `json:"rh2"`
	RH2SegLeft *int    `json:"rh2_segleft"`

	Proto      int `json:"proto"`
	HLen       int `json:"hlen"`
	Type       int `json:"type"`
	MHReserved int `json:"mh_reserved"`
	Cksum      int `json:"cksum"`

	Reserved      *int            `json:"reserved"`       // BRR, HoTI, CoTI, BE
	Cookie        *string         `json:"cookie"`         // HoTI, CoTI, HoT, CoT
	Token         *string         `json:"token"`          // HoT, CoT
	NonceIndex    *int            `json:"nonce_index"`    // HoT, CoT
	Seq           *int            `json:"seq"`            // BU, BA
	Flags         map[string]bool `json:"flags"`          // BU, BA
	FlagsReserved *int            `json:"flags_reserved"` // BU, BA: the bits after the flags
	Lifetime      *int            `json:"lifetime"`       // BU, BA
	Status        *int            `json:"status"`         // BA, BE
	HomeAddress   *string         `json:"home_address"`   // BE
	Data          *string         `json:"data"`           // unknown type
	Options       []confOptView   `json:"options"`        // nil for an unknown type
}

type confOptView struct {
	Type             int     `json:"type"`
	Len              *int    `json:"len"` // nil for Pad1
	Data             *string `json:"data"`
	RefreshInterval  *int    `json:"refresh_interval"`
	Addr             *string `json:"addr"`
	HomeNonceIndex   *int    `json:"home_nonce_index"`
	CareOfNonceIndex *int    `json:"careof_nonce_index"`
	Authenticator    *string `json:"authenticator"`
	Reserved         *int    `json:"reserved"`
	PrefixLen        *int    `json:"prefix_len"`
	Prefix           *string `json:"prefix"`
}

// confScapyResult is one line of decode.py's output.
type confScapyResult struct {
	confView
	Error            string `json:"error"`
	MHClass          string `json:"mh_class"`
	Trailing         string `json:"trailing"`
	CksumRecomputed  int    `json:"cksum_recomputed"`
	CksumOK          bool   `json:"cksum_ok"`
	RebuildIdentical bool   `json:"rebuild_identical"`
}

var (
	confBUFlagNames  = []string{"A", "H", "L", "K", "M", "R", "P"} // from 0x8000 down
	confAckFlagNames = []string{"K", "R", "P"}                     // from 0x80 down
)

// confViewOf describes p and m. The header fields (Header Len, checksum,
// the Reserved octet after the MH Type, which the codec has no field for)
// come from p.MH, so they are zero for a packet that was not decoded.
func confViewOf(p *mh.Packet, m mh.Message) confView {
	v := confView{TC: int(p.TrafficClass), FL: int(p.FlowLabel), HLim: int(p.HopLimit),
		Src: p.Src.String(), Dst: p.Dst.String(), Proto: 59, Type: int(m.Type())}
	if p.HomeAddress.IsValid() {
		v.HoA = new(p.HomeAddress.String())
	}
	if p.RoutingAddress.IsValid() {
		v.RH2, v.RH2SegLeft = new(p.RoutingAddress.String()), new(int(p.SegmentsLeft))
	}
	if len(p.MH) >= 6 {
		v.Proto, v.HLen, v.MHReserved = int(p.MH[0]), int(p.MH[1]), int(p.MH[3])
		v.Cksum = int(p.Header.Checksum)
	}
	var opts mh.Options
	switch m := m.(type) {
	case *mh.BindingRefreshRequest:
		v.Reserved, opts = new(int(m.Reserved)), m.Options
	case *mh.HomeTestInit:
		v.Reserved, v.Cookie, opts = new(int(m.Reserved)), new(hex.EncodeToString(m.Cookie[:])), m.Options
	case *mh.CareOfTestInit:
		v.Reserved, v.Cookie, opts = new(int(m.Reserved)), new(hex.EncodeToString(m.Cookie[:])), m.Options
	case *mh.HomeTest:
		v.NonceIndex, opts = new(int(m.NonceIndex)), m.Options
		v.Cookie, v.Token = new(hex.EncodeToString(m.Cookie[:])), new(hex.EncodeToString(m.KeygenToken[:]))
	case *mh.CareOfTest:
		v.NonceIndex, opts = new(int(m.NonceIndex)), m.Options
		v.Cookie, v.Token = new(hex.EncodeToString(m.Cookie[:])), new(hex.EncodeToString(m.KeygenToken[:]))
	case *mh.BindingUpdate:
		v.Seq, v.Lifetime, opts = new(int(m.Sequence)), new(int(m.Lifetime)), m.Options
		v.Flags = confFlagMap(uint(m.Flags), 16, confBUFlagNames)
		v.FlagsReserved = new(int(m.Flags & 0x01ff))
	case *mh.BindingAck:
		v.Seq, v.Lifetime, v.Status, opts = new(int(m.Sequence)), new(int(m.Lifetime)), new(int(m.Status)), m.Options
		v.Flags = confFlagMap(uint(m.Flags), 8, confAckFlagNames)
		v.FlagsReserved = new(int(m.Flags & 0x1f))
	case *mh.BindingError:
		hoa := m.HomeAddress
		if !hoa.IsValid() {
			hoa = netip.IPv6Unspecified() // what Append sends for the zero Addr
		}
		v.Status, v.Reserved, v.HomeAddress = new(int(m.Status)), new(int(m.Reserved)), new(hoa.String())
		opts = m.Options
	case *mh.Unknown:
		v.Data = new(hex.EncodeToString(m.Data))
		return v
	}
	v.Options = []confOptView{}
	for _, o := range opts {
		v.Options = append(v.Options, confOptViewOf(o))
	}
	return v
}

func confFlagMap(bits uint, width int, names []string) map[string]bool {
	f := make(map[string]bool, len(names))
	for i, n := range names {
		f[n] = bits&(1<<(width-1-i)) != 0
	}
	return f
}

func confOptViewOf(o mh.Option) confOptView {
	v := confOptView{Type: int(o.Type)}
	switch o.Type {
	case mh.OptPad1:
	case mh.OptRefreshAdvice:
		v.Len, v.RefreshInterval = new(2), new(int(o.RefreshInterval))
	case mh.OptAlternateCareOf:
		v.Len, v.Addr = new(16), new(o.Addr.String())
	case mh.OptNonceIndices:
		v.Len, v.HomeNonceIndex, v.CareOfNonceIndex = new(4), new(int(o.HomeNonceIndex)), new(int(o.CareOfNonceIndex))
	case mh.OptAuthorizationData:
		v.Len, v.Authenticator = new(len(o.Data)), new(hex.EncodeToString(o.Data))
	case mh.OptMobileNetworkPrefix:
		v.Len, v.Reserved, v.PrefixLen, v.Prefix = new(18), new(int(o.Reserved)), new(int(o.PrefixLen)), new(o.Addr.String())
	default: // PadN and unknown types
		v.Len, v.Data = new(len(o.Data)), new(hex.EncodeToString(o.Data))
	}
	return v
}

// confWithoutPadding drops the Pad1 and PadN options, for comparing a
// message as built with the message as decoded.
func confWithoutPadding(v confView) confView {
	v.Options = slices.DeleteFunc(slices.Clone(v.Options), func(o confOptView) bool {
		return o.Type == int(mh.OptPad1) || o.Type == int(mh.OptPadN)
	})
	return v
}

// confRequireTool fails the test when a conformance tool is missing.
func confRequireTool(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), confToolTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, confInstallMsg)
	}
}

func confRequireScapy(t *testing.T) {
	t.Helper()
	confRequireTool(t, confPython, "-c", "import scapy.layers.inet6")
}

func confRequireTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark: %v: %s", err, confInstallMsg)
	}
	confRequireTool(t, "tshark", "--version")
}

// confRun runs a tool with stdin and returns its standard output.
func confRun(t *testing.T, stdin io.Reader, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), confToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// confScapyDecode dissects packets with decode.py, in one run.
func confScapyDecode(t *testing.T, packets [][]byte) []confScapyResult {
	t.Helper()
	var in bytes.Buffer
	for _, b := range packets {
		fmt.Fprintf(&in, "%x\n", b)
	}
	out := confRun(t, &in, confPython, filepath.Join(confScapyDir, "decode.py"))
	var res []confScapyResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r confScapyResult
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decode.py printed %q: %v", sc.Text(), err)
		}
		res = append(res, r)
	}
	if len(res) != len(packets) {
		t.Fatalf("decode.py gave %d results for %d packets:\n%s", len(res), len(packets), out)
	}
	return res
}

// confScapyVectors lists the committed scapy vectors by name.
func confScapyVectors(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(confScapyDir, "*.hex"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scapy vectors in %s (run gen.py): %v", confScapyDir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".hex")
	}
	return names
}

func confReadHex(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestScapyVectorsDecode decodes the packets gen.py made with scapy, checks
// every field against what scapy set, and re-encodes them to the same bytes.
func TestScapyVectorsDecode(t *testing.T) {
	for _, name := range confScapyVectors(t) {
		t.Run(name, func(t *testing.T) {
			b := confReadHex(t, filepath.Join(confScapyDir, name+".hex"))
			text, err := os.ReadFile(filepath.Join(confScapyDir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want confView
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("%s.json: %v", name, err)
			}

			p, m, err := confDecode(b)
			if err != nil {
				t.Fatalf("decoding scapy's packet %x: %v", b, err)
			}
			if _, ok := m.(*mh.Unknown); ok {
				t.Fatalf("scapy's packet decodes as an unknown type %v", m.Type())
			}
			if d := cmp.Diff(want, confViewOf(p, m), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("fields differ from scapy's (-scapy +ours):\n%s", d)
			}

			out := &mh.Packet{Src: p.Src, Dst: p.Dst, HomeAddress: p.HomeAddress, RoutingAddress: p.RoutingAddress,
				TrafficClass: p.TrafficClass, FlowLabel: p.FlowLabel, HopLimit: p.HopLimit}
			got, err := mh.AppendPacket(nil, out, m)
			if err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
			if !bytes.Equal(got, b) {
				t.Errorf("re-encoding differs from scapy's bytes\nscapy: %x\nours:  %x", b, got)
			}
		})
	}
}

// TestScapyGeneratorIsReproducible runs gen.py and requires the committed
// vectors to be exactly its output.
func TestScapyGeneratorIsReproducible(t *testing.T) {
	confRequireScapy(t)
	dir := t.TempDir()
	confRun(t, nil, confPython, filepath.Join(confScapyDir, "gen.py"), dir)

	list := func(d string) []string {
		var names []string
		for _, pat := range []string{"*.hex", "*.json"} {
			m, err := filepath.Glob(filepath.Join(d, pat))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range m {
				names = append(names, filepath.Base(f))
			}
		}
		slices.Sort(names)
		return names
	}
	generated, committed := list(dir), list(confScapyDir)
	if d := cmp.Diff(committed, generated); d != "" {
		t.Fatalf("gen.py makes other files than those committed (-committed +generated):\n%s", d)
	}
	for _, name := range generated {
		want, err := os.ReadFile(filepath.Join(confScapyDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: gen.py output differs from the committed file (rerun gen.py):\ncommitted: %s\ngenerated: %s",
				name, want, got)
		}
	}
}

// TestScapyDecodesOurPackets has scapy dissect the packets of confCases and
// compares every field, the checksum included, with what we built.
func TestScapyDecodesOurPackets(t *testing.T) {
	confRequireScapy(t)
	cases := confCases()
	packets := make([][]byte, len(cases))
	views := make([]confView, len(cases))
	for i, c := range cases {
		b, p, m := confBuild(t, c)
		packets[i], views[i] = b, confViewOf(p, m)
	}
	results := confScapyDecode(t, packets)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, want := results[i], views[i]
			if r.Error != "" {
				t.Fatalf("scapy cannot dissect %x: %s", packets[i], r.Error)
			}
			if r.MHClass == "MIP6MH_Generic" {
				// scapy bug: MIP6MH_Generic's msg is 8*len-6 octets, the
				// message body 8*len+2; the last 8 octets land after it.
				if r.Data == nil {
					t.Fatalf("scapy gave no data for %s", r.MHClass)
				}
				r.Data, r.Trailing = new(*r.Data+r.Trailing), ""
			}
			if r.Trailing != "" {
				t.Errorf("scapy left %s after the Mobility Header (%s)", r.Trailing, r.MHClass)
			}
			if d := cmp.Diff(want, r.confView, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("scapy (%s) reads other fields (-ours +scapy):\n%s\npacket %x", r.MHClass, d, packets[i])
			}
			if !r.CksumOK || r.CksumRecomputed != want.Cksum {
				t.Errorf("checksum: ours %#04x, scapy computes %#04x", want.Cksum, r.CksumRecomputed)
			}
			if !r.RebuildIdentical {
				t.Errorf("scapy does not rebuild the same bytes from its dissection of %x", packets[i])
			}
		})
	}
}

// TestTsharkDecodesOurPackets has tshark dissect the packets of confCases,
// written as one pcap, and compares the mip6 fields and the Home Address
// option and type 2 routing header fields with what we built.
func TestTsharkDecodesOurPackets(t *testing.T) {
	confRequireTshark(t)
	cases := confCases()
	var packets [][]byte
	var want [][]confTsField
	for _, c := range cases {
		b, p, m := confBuild(t, c)
		packets = append(packets, b)
		want = append(want, confTsharkExpect(p, m))
	}
	pcap := filepath.Join(t.TempDir(), "ours.pcap")
	if err := os.WriteFile(pcap, confPcap(packets), 0o644); err != nil {
		t.Fatal(err)
	}
	got := confTsharkPackets(t, confRun(t, nil, "tshark", "-n", "-r", pcap, "-T", "json"))
	if len(got) != len(packets) {
		t.Fatalf("tshark dissected %d packets, we wrote %d", len(got), len(packets))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var checked []confTsField
			for _, f := range got[i] {
				switch {
				case strings.HasPrefix(f.Name, "_ws.malformed"):
					t.Errorf("tshark reports a malformed packet: %s %s", f.Name, f.Show)
				case f.Name == "_ws.expert.message":
					t.Logf("tshark expert info: %s", f.Show)
				case f.Name == "_ws.expert.severity":
					if sev, _ := strconv.Atoi(f.Show); sev >= confExpertError {
						t.Errorf("tshark expert info of severity %#x", sev)
					}
				}
				if confTsChecked(f.Name) {
					checked = append(checked, f)
				}
			}
			if d := cmp.Diff(want[i], checked, cmp.Comparer(confTsFieldEqual)); d != "" {
				t.Errorf("tshark fields differ (-ours +tshark):\n%s\npacket %x", d, packets[i])
			}
		})
	}
}

// confExpertError is PI_ERROR in Wireshark's expert severities.
const confExpertError = 0x00800000

// confTsField is one field of tshark's JSON tree, in tree order. Subtrees
// without a value (an unknown option's "Unknown (0xc8)") have an empty Show.
type confTsField struct{ Name, Show string }

// confTsAny as an expected Show matches any value.
const confTsAny = "\x00any"

func confTsFieldEqual(a, b confTsField) bool {
	return a.Name == b.Name && (a.Show == b.Show || a.Show == confTsAny || b.Show == confTsAny)
}

// confTsChecked reports whether a tshark field is one the test compares:
// every field of the mip6 dissector and the IPv6 fields we set, so that a
// field tshark finds and we did not expect shows up in the diff.
func confTsChecked(name string) bool {
	switch name {
	case "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt", "ipv6.hlim", "ipv6.flow", "ipv6.tclass",
		"ipv6.routing.nxt", "ipv6.routing.len", "ipv6.routing.type", "ipv6.routing.segleft",
		"ipv6.routing.mipv6.reserved", "ipv6.routing.mipv6.home_address",
		"ipv6.dstopts.nxt", "ipv6.dstopts.len", "ipv6.opt.type", "ipv6.opt.length", "ipv6.opt.padn",
		"ipv6.opt.mipv6.home_address":
		return true
	}
	return strings.HasPrefix(name, "mip6.") || strings.HasPrefix(name, "Unknown (0x")
}

// confTsharkExpect lists, in tshark's order, the fields tshark must show for
// the packet p carrying m, as our codec decoded them.
func confTsharkExpect(p *mh.Packet, m mh.Message) []confTsField {
	var f []confTsField
	add := func(name, format string, args ...any) {
		f = append(f, confTsField{name, fmt.Sprintf(format, args...)})
	}
	colons := func(b []byte) string { // tshark's FT_BYTES format
		s := make([]string, len(b))
		for i, c := range b {
			s[i] = fmt.Sprintf("%02x", c)
		}
		return strings.Join(s, ":")
	}
	u64 := func(c mh.Cookie) string { return fmt.Sprintf("0x%016x", binary.BigEndian.Uint64(c[:])) }

	next := mh.ProtoMH
	if p.HomeAddress.IsValid() {
		next = 60
	}
	if p.RoutingAddress.IsValid() {
		next = 43
	}
	add("ipv6.tclass", "0x%08x", p.TrafficClass)
	add("ipv6.flow", "0x%06x", p.FlowLabel)
	add("ipv6.plen", "%d", p.MHOffset+len(p.MH)-40)
	add("ipv6.nxt", "%d", next)
	add("ipv6.hlim", "%d", p.HopLimit)
	add("ipv6.src", "%s", p.Src)
	add("ipv6.dst", "%s", p.Dst)
	if p.RoutingAddress.IsValid() {
		next := mh.ProtoMH
		if p.HomeAddress.IsValid() {
			next = 60
		}
		add("ipv6.routing.nxt", "%d", next)
		add("ipv6.routing.len", "2")
		add("ipv6.routing.type", "2")
		add("ipv6.routing.segleft", "%d", p.SegmentsLeft)
		add("ipv6.routing.mipv6.reserved", "00:00:00:00")
		add("ipv6.routing.mipv6.home_address", "%s", p.RoutingAddress)
	}
	if p.HomeAddress.IsValid() {
		add("ipv6.dstopts.nxt", "%d", mh.ProtoMH)
		add("ipv6.dstopts.len", "2")
		add("ipv6.opt.type", "0x01") // PadN(4) before the 8n+6 option
		add("ipv6.opt.length", "2")
		add("ipv6.opt.padn", "00:00")
		add("ipv6.opt.type", "0xc9")
		add("ipv6.opt.length", "16")
		add("ipv6.opt.mipv6.home_address", "%s", p.HomeAddress)
	}

	add("mip6.proto", "%d", p.MH[0])
	add("mip6.hlen", "%d", p.MH[1])
	add("mip6.mhtype", "%d", p.MH[2])
	add("mip6.reserved", "0x%02x", p.MH[3])
	add("mip6.csum", "0x%04x", p.Header.Checksum)
	var opts mh.Options
	optStart := 0 // where the options start in p.MH
	switch m := m.(type) {
	case *mh.BindingRefreshRequest:
		optStart = 8
		add("mip6.binding_refresh_request", "%s", colons(binary.BigEndian.AppendUint16(nil, m.Reserved)))
		opts = m.Options
	case *mh.HomeTestInit: // tshark has no field for Reserved
		optStart = 16
		add("mip6.hoti.cookie", "%s", u64(m.Cookie))
		opts = m.Options
	case *mh.CareOfTestInit:
		optStart = 16
		add("mip6.coti.cookie", "%s", u64(m.Cookie))
		opts = m.Options
	case *mh.HomeTest:
		optStart = 24
		add("mip6.hot.nindex", "%d", m.NonceIndex)
		add("mip6.hot.cookie", "%s", u64(m.Cookie))
		add("mip6.hot.token", "%s", u64(m.KeygenToken))
		opts = m.Options
	case *mh.CareOfTest:
		optStart = 24
		add("mip6.cot.nindex", "%d", m.NonceIndex)
		add("mip6.cot.cookie", "%s", u64(m.Cookie))
		add("mip6.hot.token", "%s", u64(m.KeygenToken)) // tshark has no mip6.cot.token
		opts = m.Options
	case *mh.BindingUpdate:
		optStart = 12
		add("mip6.bu.seqnr", "%d", m.Sequence)
		for _, b := range []struct {
			name string
			mask mh.BUFlags
		}{
			{"mip6.bu.a_flag", mh.FlagA}, {"mip6.bu.h_flag", mh.FlagH}, {"mip6.bu.l_flag", mh.FlagL},
			{"mip6.bu.k_flag", mh.FlagK}, {"mip6.bu.m_flag", mh.FlagM}, {"mip6.nemo.bu.r_flag", mh.FlagR},
			{"mip6.bu.p_flag", mh.FlagP},
			// Reserved bits for RFC 6275, flags of later RFCs for tshark:
			// F (RFC 5555), T (RFC 5845), B (RFC 6602).
			{"mip6.bu.f_flag", 0x0100}, {"mip6.bu.t_flag", 0x0080}, {"mip6.bu.b_flag", 0x0040},
		} {
			add(b.name, "%d", confBit(m.Flags&b.mask != 0))
		}
		add("mip6.bu.lifetime", "%d", m.Lifetime)
		opts = m.Options
	case *mh.BindingAck:
		optStart = 12
		add("mip6.ba.status", "%d", m.Status)
		for _, b := range []struct {
			name string
			mask mh.AckFlags
		}{
			{"mip6.ba.k_flag", mh.AckFlagK}, {"mip6.nemo.ba.r_flag", mh.AckFlagR}, {"mip6.ba.p_flag", mh.AckFlagP},
			// Reserved bits for RFC 6275: T (RFC 5845), B (RFC 6602).
			{"mip6.ba.t_flag", 0x10}, {"mip6.ba.b_flag", 0x08},
		} {
			add(b.name, "%d", confBit(m.Flags&b.mask != 0))
		}
		add("mip6.ba.seqnr", "%d", m.Sequence)
		add("mip6.ba.lifetime", "%d", m.Lifetime)
		opts = m.Options
	case *mh.BindingError: // tshark has no field for Reserved
		optStart = 24
		add("mip6.be.status", "%d", m.Status)
		add("mip6.be.haddr", "%s", netip.AddrFrom16([16]byte(p.MH[8:24])))
		opts = m.Options
	case *mh.Unknown:
		add("mip6.unknown_type_data", "%s", colons(m.Data))
	}
	var tlvs [][]byte
	if optStart > 0 { // not for an unknown type
		tlvs = confOptionTLVs(p.MH, optStart)
	}
	if len(tlvs) != len(opts) {
		panic(fmt.Sprintf("%d options decoded from %d TLVs", len(opts), len(tlvs)))
	}
	for i, o := range opts {
		ob := tlvs[i]
		kind := map[mh.OptionType]string{
			mh.OptPad1: "pad1", mh.OptPadN: "padn", mh.OptRefreshAdvice: "bra", mh.OptAlternateCareOf: "acoa",
			mh.OptNonceIndices: "ni", mh.OptAuthorizationData: "bad_auth", mh.OptMobileNetworkPrefix: "mnp",
		}[o.Type]
		if kind == "" {
			add(fmt.Sprintf("Unknown (0x%02x)", uint8(o.Type)), "")
			add("mip6.mobility_opt", "%d", o.Type)
			// tshark 4.0 bug: it reads this Length from a wrong offset.
			f = append(f, confTsField{"mip6.mobility_opt.len", confTsAny})
			add("mip6.ie_not_dissected", "") // expert info, severity Note
			continue
		}
		add("mip6.options."+kind, "%s", colons(ob))
		if o.Type == mh.OptPad1 {
			continue
		}
		add("mip6.mobility_opt.len", "%d", ob[1])
		switch o.Type {
		case mh.OptPadN:
			if len(o.Data) > 0 {
				add("mip6.padn", "%s", colons(o.Data))
			}
		case mh.OptRefreshAdvice:
			add("mip6.bra.interval", "%d", o.RefreshInterval)
		case mh.OptAlternateCareOf:
			add("mip6.acoa.acoa", "%s", o.Addr)
		case mh.OptNonceIndices:
			add("mip6.ni.hni", "%d", o.HomeNonceIndex)
			add("mip6.ni.cni", "%d", o.CareOfNonceIndex)
		case mh.OptAuthorizationData:
			add("mip6.bad.auth", "%s", colons(o.Data))
		case mh.OptMobileNetworkPrefix: // tshark has no field for Reserved
			add("mip6.nemo.mnp.pfl", "%d", o.PrefixLen)
			add("mip6.nemo.mnp.mnp", "%s", o.Addr)
		}
	}
	return f
}

func confBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// confOptionTLVs splits the options of the Mobility Header mhdr, which
// start at offset off, into their octets: one per entry of the decoded
// Options, padding included.
func confOptionTLVs(mhdr []byte, off int) [][]byte {
	var tlvs [][]byte
	for off < len(mhdr) {
		n := 1 // Pad1
		if mhdr[off] != byte(mh.OptPad1) {
			n = 2 + int(mhdr[off+1])
		}
		tlvs = append(tlvs, mhdr[off:off+n])
		off += n
	}
	return tlvs
}

// confPcap writes packets as a pcap file of LINKTYPE_IPV6 (229): raw IPv6
// packets, no link-layer header.
func confPcap(packets [][]byte) []byte {
	const linktypeIPv6 = 229
	b := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4) // microsecond timestamps
	b = binary.LittleEndian.AppendUint16(b, 2)             // version 2.4
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 0)     // thiszone
	b = binary.LittleEndian.AppendUint32(b, 0)     // sigfigs
	b = binary.LittleEndian.AppendUint32(b, 65535) // snaplen
	b = binary.LittleEndian.AppendUint32(b, linktypeIPv6)
	for i, p := range packets {
		b = binary.LittleEndian.AppendUint32(b, uint32(i)) // seconds
		b = binary.LittleEndian.AppendUint32(b, 0)         // microseconds
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// confTsharkPackets flattens the output of "tshark -T json" into the fields
// of each packet in tree order. The JSON has duplicate keys (two
// "mip6.options.padn", several "ipv6.opt"), so it is read token by token
// rather than into maps.
func confTsharkPackets(t *testing.T, out []byte) [][]confTsField {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("tshark -T json output does not start with an array: %v %v\n%s", tok, err, out)
	}
	var packets [][]confTsField
	for dec.More() {
		var fields []confTsField
		if err := confFlatten(dec, "", &fields); err != nil {
			t.Fatalf("reading tshark -T json output: %v", err)
		}
		packets = append(packets, fields)
	}
	return packets
}

// confFlatten reads one JSON value named key and appends its leaves (and
// its subtrees, with an empty Show) to fields.
func confFlatten(dec *json.Decoder, key string, fields *[]confTsField) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' && key != "" && !strings.HasSuffix(key, "_tree") {
			*fields = append(*fields, confTsField{key, ""})
		}
		for dec.More() {
			k := key
			if tok == '{' {
				name, err := dec.Token()
				if err != nil {
					return err
				}
				if k, _ = name.(string); k == "" {
					return fmt.Errorf("tshark json: object key %v is not a string", name)
				}
			}
			if err := confFlatten(dec, k, fields); err != nil {
				return err
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	case string:
		*fields = append(*fields, confTsField{key, tok})
	default:
		*fields = append(*fields, confTsField{key, fmt.Sprint(tok)})
	}
	return nil
}
