package mhio

// The raw_mh receive path cannot run end to end on a kernel without
// CONFIG_IPV6_MIP6, except for plain packets (TestRawMHModePlainPacket).
// These tests feed rebuild what a MIP6 kernel reports, per
// net/ipv6/exthdrs.c and ip6_datagram_recv_specific_ctl: hand-built control
// messages and the Mobility Header. The end-to-end check of packets with a
// Home Address option or a type 2 routing header needs the qemu kernel.

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

var (
	careOf   = netip.MustParseAddr("2001:db8:a::2")
	haAddr   = netip.MustParseAddr("2001:db8:a::1")
	homeAddr = netip.MustParseAddr("2001:db8:100::2")
)

// cmsg is one control message as the kernel lays it out, padded to its
// aligned space.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func pktinfo(dst netip.Addr, ifindex uint32) []byte {
	var b [unix.SizeofInet6Pktinfo]byte
	a := dst.As16()
	copy(b[:], a[:])
	*(*uint32)(unsafe.Pointer(&b[16])) = ifindex
	return cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, b[:])
}

func hopLimit(h uint32) []byte {
	return cmsg(unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, unsafe.Slice((*byte)(unsafe.Pointer(&h)), 4))
}

func flowInfo(tc uint8, flow uint32) []byte {
	v := uint32(tc)<<20 | flow
	return cmsg(unix.IPPROTO_IPV6, ipv6FlowInfo, []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// kernelView is what a MIP6 kernel reports for the wire packet: the source
// (after the Home Address option swap), the control messages and the MH.
type kernelView struct {
	from netip.Addr
	oob  []byte
	mh   []byte
}

// mip6Kernel processes wire as net/ipv6/exthdrs.c does: a type 2 routing
// header swaps its address with the destination and drops Segments Left to
// 0, a Home Address option swaps its address with the source.
func mip6Kernel(t *testing.T, wire []byte, p *mh.Packet) kernelView {
	t.Helper()
	k := bytes.Clone(wire)
	var ext [][]byte
	var types []int32
	off, next := 40, k[6]
	for next != mh.ProtoMH {
		h := k[off : off+(int(k[off+1])+1)*8]
		switch next {
		case protoRouting:
			h[3]--
			tmp := bytes.Clone(h[8:24])
			copy(h[8:24], k[24:40])
			copy(k[24:40], tmp)
			types = append(types, unix.IPV6_RTHDR)
		case protoDestOpts:
			tmp := bytes.Clone(h[8:24]) // the option as mh.AppendPacket places it
			copy(h[8:24], k[8:24])
			copy(k[8:24], tmp)
			types = append(types, unix.IPV6_DSTOPTS)
		}
		ext = append(ext, h)
		next, off = h[0], off+len(h)
	}
	var oob []byte
	oob = append(oob, pktinfo(netipFrom16(k[24:40]), 3)...)
	oob = append(oob, hopLimit(uint32(k[7]))...)
	oob = append(oob, flowInfo(p.TrafficClass, p.FlowLabel)...)
	oob = append(oob, cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, make([]byte, 16))...) // ignored
	for i, h := range ext {
		oob = append(oob, cmsg(unix.IPPROTO_IPV6, types[i], h)...)
	}
	return kernelView{from: netipFrom16(k[8:24]), oob: oob, mh: k[off:]}
}

func TestRebuildUndoesMIP6Kernel(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    mh.Packet
		m    mh.Message
	}{
		{"plain CoTI", mh.Packet{Src: careOf, Dst: haAddr}, &mh.CareOfTestInit{Cookie: mh.Cookie{1}}},
		{"BU with home address option", mh.Packet{Src: careOf, Dst: haAddr, HomeAddress: homeAddr, TrafficClass: 0xb8, FlowLabel: 0xabcde},
			&mh.BindingUpdate{Sequence: 9, Flags: mh.FlagA | mh.FlagH, Lifetime: 60}},
		{"BA with type 2 routing header", mh.Packet{Src: haAddr, Dst: careOf, RoutingAddress: homeAddr, HopLimit: 17},
			&mh.BindingAck{Sequence: 9, Lifetime: 60}},
		{"both headers", mh.Packet{Src: careOf, Dst: careOf.Next(), HomeAddress: homeAddr, RoutingAddress: homeAddr.Next()},
			&mh.BindingUpdate{Sequence: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := mh.AppendPacket(nil, &tc.p, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			kv := mip6Kernel(t, wire, &tc.p)
			buf := make([]byte, 2048)
			copy(buf[rawHeadroom:], kv.mh)
			var a ancillary
			if err := parseAncillary(kv.oob, &a); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if a.ifindex != 3 {
				t.Errorf("ifindex %d, want 3", a.ifindex)
			}
			n, err := rebuild(buf, len(kv.mh), kv.from, &a)
			if err != nil {
				t.Fatalf("rebuild: %v", err)
			}
			if !bytes.Equal(buf[:n], wire) {
				t.Fatalf("rebuilt\n%x\nwant the wire packet\n%x", buf[:n], wire)
			}
			var p mh.Packet
			if err := p.Unmarshal(buf[:n]); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if p.Src != tc.p.Src || p.Dst != tc.p.Dst || p.HomeAddress != tc.p.HomeAddress || p.RoutingAddress != tc.p.RoutingAddress {
				t.Errorf("src %s dst %s home %s routing %s, want %s %s %s %s", p.Src, p.Dst, p.HomeAddress, p.RoutingAddress,
					tc.p.Src, tc.p.Dst, tc.p.HomeAddress, tc.p.RoutingAddress)
			}
		})
	}
}

// A large Mobility Header received at rawHeadroom moves up behind headers
// longer than the headroom.
func TestRebuildMovesLongHeaders(t *testing.T) {
	dstopts := make([]byte, 256)
	dstopts[1] = 256/8 - 1
	dstopts[2], dstopts[3] = 1, 252 // PadN
	oob := append(pktinfo(haAddr, 1), cmsg(unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS, dstopts)...)
	mhdr := bytes.Repeat([]byte{0xa5}, 1000)
	buf := make([]byte, 2048)
	copy(buf[rawHeadroom:], mhdr)
	var a ancillary
	if err := parseAncillary(oob, &a); err != nil {
		t.Fatal(err)
	}
	n, err := rebuild(buf, len(mhdr), careOf, &a)
	if err != nil || n != 40+256+1000 {
		t.Fatalf("rebuild = %d, %v", n, err)
	}
	if !bytes.Equal(buf[296:n], mhdr) || buf[6] != protoDestOpts || buf[40] != protoMH {
		t.Errorf("headers or mobility header misplaced: %x", buf[:64])
	}
	if _, err := rebuild(buf[:1200], len(mhdr), careOf, &a); !errors.Is(err, errAncillary) {
		t.Errorf("rebuild into a short buffer: %v, want errAncillary", err)
	}
}

func TestParseAncillaryRejects(t *testing.T) {
	badExt := cmsg(unix.IPPROTO_IPV6, unix.IPV6_RTHDR, make([]byte, 16)) // Hdr Ext Len 0 says 8 octets
	five := pktinfo(haAddr, 1)
	for range 5 {
		five = append(five, cmsg(unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS, make([]byte, 8))...)
	}
	overrun := pktinfo(haAddr, 1)
	(*unix.Cmsghdr)(unsafe.Pointer(&overrun[0])).SetLen(4096)
	for name, oob := range map[string][]byte{
		"no pktinfo":         hopLimit(64),
		"short pktinfo":      cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, make([]byte, 8)),
		"ext length":         append(pktinfo(haAddr, 1), badExt...),
		"too many headers":   five,
		"length past buffer": overrun,
	} {
		var a ancillary
		if err := parseAncillary(oob, &a); !errors.Is(err, errAncillary) {
			t.Errorf("%s: %v, want errAncillary", name, err)
		}
	}
}
