package mhio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw_mh receive path, for kernels with CONFIG_IPV6_MIP6.
//
// A raw IPPROTO_MH socket returns the Mobility Header alone; the rest of the
// packet comes as ancillary data: the destination address and interface
// (IPV6_PKTINFO), hop limit, traffic class and flow label, and each
// Destination Options and Routing header in packet order. rebuild puts the
// packet back together in buf, in the form it had on the wire, so that
// mh.Packet.Unmarshal and SendParameterProblem work on it as in af_packet
// mode.
//
// A kernel with MIP6 has already processed the two Mobile IPv6 headers when
// the packet reaches the socket (net/ipv6/exthdrs.c):
//   - Home Address option (ipv6_dest_hao): it swapped the option's address
//     with the source, so the socket reports the home address as the source
//     and the care-of address inside the option;
//   - type 2 routing header (ipv6_rthdr_rcv): it decremented Segments Left
//     to 0 and swapped the header's address with the destination, so
//     IPV6_PKTINFO reports the home address and the routing header holds
//     the care-of address.
//
// rebuild undoes both swaps (and restores Segments Left to 1), so callers
// see what af_packet mode shows: Src the care-of address and HomeAddress the
// home address; Dst the care-of address and RoutingAddress the home
// address. A type 2 routing header that arrived with Segments Left 0 cannot
// be told apart from one the kernel processed and is treated the same.
//
// Before the kernel delivers such packets at all it requires an xfrm state
// for them (xfrm6_input_addr, net/ipv6/xfrm6_input.c): a wild-card
// route-optimisation state (XFRM_STATE_WILDRECV) for IPPROTO_DSTOPTS or
// IPPROTO_ROUTING, as UMIP installs, and an inbound policy accepting the
// resulting secpath; a type 2 routing header also needs the home address
// assigned with IFA_F_HOMEADDRESS (ipv6_chk_home_addr). This package does
// not install them. The kernel also verifies the Mobility Header checksum
// and, with its mip6_mh_filter, answers a bad Payload Proto or Header Len
// itself, so such packets never reach Receive in this mode.
//
// Only plain Mobility Header packets can be received this way on a kernel
// without MIP6 (TestRawMHModePlainPacket); the rest needs the qemu kernel.

// rawHeadroom is where in buf the Mobility Header is received, leaving room
// to put the IPv6 header and the usual extension headers in front of it.
const rawHeadroom = 128

// maxExtHeaders bounds the extension headers reported per packet.
const maxExtHeaders = 4

// rawOOBLen holds the ancillary data: IPV6_PKTINFO, hop limit and flow info,
// and extension headers of up to 2048 octets each.
const rawOOBLen = 8 << 10

const optTypeHomeAddress = 0xc9

// ipv6FlowInfo is IPV6_FLOWINFO (linux/in6.h), missing from x/sys/unix: as
// a socket option it asks for the flow information of received packets.
const ipv6FlowInfo = 11

type rawMH struct {
	log       *slog.Logger
	fd        int
	ifindexes []int // interfaces to accept; empty: all
	oob       []byte
	msg       unix.Msghdr
	iov       unix.Iovec
	from      unix.RawSockaddrInet6
	anc       ancillary
	fds       []int32
}

func openRawMH(log *slog.Logger, ifaces []iface) (*rawMH, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, protoMH)
	if err != nil {
		return nil, fmt.Errorf("raw IPPROTO_MH socket: %w", err)
	}
	r := &rawMH{log: log, fd: fd, oob: make([]byte, rawOOBLen), fds: []int32{int32(fd)}}
	for _, ifc := range ifaces {
		r.ifindexes = append(r.ifindexes, ifc.index)
	}
	for _, opt := range []struct {
		name string
		opt  int
	}{
		{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO},
		{"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT},
		{"IPV6_FLOWINFO", ipv6FlowInfo},
		{"IPV6_RECVDSTOPTS", unix.IPV6_RECVDSTOPTS},
		{"IPV6_RECVRTHDR", unix.IPV6_RECVRTHDR},
	} {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, opt.opt, 1); err != nil {
			return nil, errors.Join(fmt.Errorf("setsockopt %s: %w", opt.name, err), unix.Close(fd))
		}
	}
	setRcvBuf(fd, packetRcvBuf)
	log.Warn("raw_mh mode: the kernel delivers packets with a home address option or a type 2 routing header " +
		"only when xfrm route-optimisation states allow them, and mhio does not install those")
	return r, nil
}

func (r *rawMH) pollFDs() []int32       { return r.fds }
func (r *rawMH) polled(_ []unix.PollFd) {}
func (r *rawMH) close() error           { return closeFD(&r.fd) }

func (r *rawMH) recv(buf []byte) (int, int, bool) {
	for range maxSkip {
		r.iov.Base = &buf[rawHeadroom]
		r.iov.SetLen(len(buf) - rawHeadroom)
		r.msg = unix.Msghdr{
			Name:    (*byte)(unsafe.Pointer(&r.from)),
			Namelen: unix.SizeofSockaddrInet6,
			Iov:     &r.iov,
			Iovlen:  1,
			Control: &r.oob[0],
		}
		r.msg.SetControllen(len(r.oob))
		n, e := recvmsg(r.fd, &r.msg)
		switch e {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			return 0, 0, false
		default:
			r.log.Warn("raw IPPROTO_MH receive failed", "error", e)
			return 0, 0, false
		}
		from := netip.AddrFrom16(r.from.Addr)
		if r.msg.Flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			r.log.Warn("mobility header packet truncated, dropped: receive buffer too small", "from", from)
			continue
		}
		if err := parseAncillary(r.oob[:r.msg.Controllen], &r.anc); err != nil {
			r.log.Warn("mobility header packet dropped", "from", from, "error", err)
			continue
		}
		if len(r.ifindexes) > 0 && !slices.Contains(r.ifindexes, r.anc.ifindex) {
			continue
		}
		pn, err := rebuild(buf, n, from, &r.anc)
		if err != nil {
			r.log.Warn("mobility header packet dropped", "from", from, "error", err)
			continue
		}
		return pn, r.anc.ifindex, true
	}
	return 0, 0, false
}

// ancillary is what parseAncillary found; ext aliases the parsed buffer.
type ancillary struct {
	dst      [16]byte
	ifindex  int
	hopLimit uint8
	flowInfo uint32 // traffic class and flow label, as in the IPv6 header
	ext      [maxExtHeaders]extHeader
	nExt     int
	havePkt  bool
}

type extHeader struct {
	proto uint8
	b     []byte
}

var errAncillary = errors.New("bad ancillary data")

// parseAncillary reads the control messages of a raw IPPROTO_MH socket.
func parseAncillary(oob []byte, a *ancillary) error {
	*a = ancillary{hopLimit: 64}
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return fmt.Errorf("%w: control message length %d of %d", errAncillary, l, len(oob))
		}
		if err := a.add(h.Level, h.Type, oob[hdr:l]); err != nil {
			return err
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
	if !a.havePkt {
		return fmt.Errorf("%w: no IPV6_PKTINFO", errAncillary)
	}
	return nil
}

func (a *ancillary) add(level, typ int32, data []byte) error {
	if level != unix.IPPROTO_IPV6 {
		return nil
	}
	switch typ {
	case unix.IPV6_PKTINFO:
		if len(data) < unix.SizeofInet6Pktinfo {
			return fmt.Errorf("%w: IPV6_PKTINFO of %d octets", errAncillary, len(data))
		}
		a.dst = [16]byte(data[:16])
		a.ifindex = int(binary.NativeEndian.Uint32(data[16:20]))
		a.havePkt = true
	case unix.IPV6_HOPLIMIT:
		if len(data) < 4 {
			return fmt.Errorf("%w: IPV6_HOPLIMIT of %d octets", errAncillary, len(data))
		}
		a.hopLimit = uint8(binary.NativeEndian.Uint32(data))
	case ipv6FlowInfo:
		if len(data) < 4 {
			return fmt.Errorf("%w: IPV6_FLOWINFO of %d octets", errAncillary, len(data))
		}
		a.flowInfo = binary.BigEndian.Uint32(data) & 0x0fffffff
	case unix.IPV6_DSTOPTS, unix.IPV6_RTHDR:
		proto := uint8(protoDestOpts)
		if typ == unix.IPV6_RTHDR {
			proto = protoRouting
		}
		if len(data) < 8 || len(data) != (int(data[1])+1)*8 {
			return fmt.Errorf("%w: extension header %d of %d octets", errAncillary, proto, len(data))
		}
		if a.nExt == maxExtHeaders {
			return fmt.Errorf("%w: more than %d extension headers", errAncillary, maxExtHeaders)
		}
		a.ext[a.nExt] = extHeader{proto: proto, b: data}
		a.nExt++
	}
	return nil
}

func cmsgAlign(n int) int {
	const align = int(unsafe.Sizeof(uintptr(0)))
	return (n + align - 1) &^ (align - 1)
}

// rebuild writes into buf the packet whose Mobility Header is
// buf[rawHeadroom:rawHeadroom+mhLen], received from the source address from with the
// ancillary data a, in its on-the-wire form (see the comment at the top of
// this file), and returns its length.
func rebuild(buf []byte, mhLen int, from netip.Addr, a *ancillary) (int, error) {
	hdrLen := ipv6HeaderLen
	for _, e := range a.ext[:a.nExt] {
		hdrLen += len(e.b)
	}
	total := hdrLen + mhLen
	if total > len(buf) || total-ipv6HeaderLen > 0xffff {
		return 0, fmt.Errorf("%w: packet of %d octets does not fit the receive buffer", errAncillary, total)
	}
	copy(buf[hdrLen:total], buf[rawHeadroom:rawHeadroom+mhLen]) // memmove: the ranges may overlap

	first := uint8(protoMH)
	if a.nExt > 0 {
		first = a.ext[0].proto
	}
	binary.BigEndian.PutUint32(buf[0:], 6<<28|a.flowInfo)
	binary.BigEndian.PutUint16(buf[4:], uint16(total-ipv6HeaderLen))
	buf[6], buf[7] = first, a.hopLimit
	src := from.As16()
	copy(buf[8:24], src[:])
	copy(buf[24:40], a.dst[:])

	off := ipv6HeaderLen
	for i, e := range a.ext[:a.nExt] {
		h := buf[off : off+len(e.b)]
		copy(h, e.b)
		h[0] = protoMH
		if i+1 < a.nExt {
			h[0] = a.ext[i+1].proto
		}
		switch e.proto {
		case protoDestOpts:
			unswapHomeAddress(buf, h)
		case protoRouting:
			unswapRoutingHeader(buf, h)
		}
		off += len(h)
	}
	return total, nil
}

// unswapHomeAddress undoes ipv6_dest_hao in pkt, whose Destination Options
// header h may hold the Home Address option.
func unswapHomeAddress(pkt, h []byte) {
	for i := 2; i+2 <= len(h); {
		t := h[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		l := int(h[i+1])
		if i+2+l > len(h) {
			return
		}
		if t == optTypeHomeAddress && l == 16 {
			opt := h[i+2 : i+18]
			var tmp [16]byte
			copy(tmp[:], opt)
			copy(opt, pkt[8:24]) // the home address the kernel moved to the source
			copy(pkt[8:24], tmp[:])
			return
		}
		i += 2 + l
	}
}

// unswapRoutingHeader undoes ipv6_rthdr_rcv in pkt for a type 2 routing
// header h that the kernel processed (Segments Left 0).
func unswapRoutingHeader(pkt, h []byte) {
	if len(h) != 24 || h[2] != 2 || h[3] != 0 {
		return
	}
	var tmp [16]byte
	copy(tmp[:], h[8:24])
	copy(h[8:24], pkt[24:40]) // the home address the kernel moved to the destination
	copy(pkt[24:40], tmp[:])
	h[3] = 1
}
