package mh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IPv6 protocol numbers and lengths used when walking a packet.
const (
	ipv6HeaderLen    = 40
	protoHopByHop    = 0
	protoRouting     = 43
	protoFragment    = 44
	protoDestOpts    = 60
	routingType2     = 2
	routingType2Len  = 24 // octets, Hdr Ext Len 2
	destOptsHAOLen   = 24 // octets: header, PadN(4), HAO
	optTypeHomeAddr  = 0xc9
	homeAddrOptLen   = 16
	defaultHopLimit  = 64
	offPayloadLength = 4
	offNextHeader    = 6
)

// Packet is an IPv6 packet carrying a Mobility Header, with the extension
// headers Mobile IPv6 signalling uses: the Home Address destination option
// (RFC 6275 §6.3) and the type 2 routing header (§6.4).
type Packet struct {
	Src, Dst     netip.Addr
	TrafficClass uint8
	FlowLabel    uint32
	HopLimit     uint8 // AppendPacket sends 64 when zero
	// HomeAddress is the address of the Home Address destination option,
	// the zero Addr when the packet has none.
	HomeAddress netip.Addr
	// RoutingAddress is the address of the type 2 routing header (the home
	// address a BA is for), the zero Addr when the packet has none.
	RoutingAddress netip.Addr
	// SegmentsLeft is the type 2 routing header's field as received;
	// AppendPacket always sends 1.
	SegmentsLeft uint8
	// Header and MH are set by Unmarshal: the Mobility Header's common
	// fields and the whole header, aliasing the decoded buffer.
	Header   Header
	MH       []byte
	MHOffset int // where MH starts in the packet

	// Offsets in the decoded packet of the Home Address option's and the
	// routing header's addresses (0: absent), for the checksum.
	homeAddressAt, routingAddressAt int
}

// PseudoSource is the source address of the checksum pseudo-header: the
// home address when a Home Address option is present.
func (p *Packet) PseudoSource() netip.Addr {
	if p.HomeAddress.IsValid() {
		return p.HomeAddress
	}
	return p.Src
}

// PseudoDestination is the destination address of the checksum
// pseudo-header: the final destination, which is the routing header's
// address while a segment is left.
func (p *Packet) PseudoDestination() netip.Addr {
	if p.RoutingAddress.IsValid() && p.SegmentsLeft > 0 {
		return p.RoutingAddress
	}
	return p.Dst
}

// Unmarshal decodes the IPv6 packet in b and applies the receive checks of
// RFC 6275 §9.2 in order: Payload Proto, Header Len, checksum, MH Type. On
// an *Error the fields decoded so far are set, so that the caller can answer
// the source; Parameter Problem pointers count from the IPv6 header. An
// unknown MH Type fails with ActionBindingError and leaves MH set.
func (p *Packet) Unmarshal(b []byte) error {
	*p = Packet{}
	b, err := p.decodeIPv6Header(b)
	if err != nil {
		return err
	}
	off, err := p.walkExtensionHeaders(b)
	if err != nil {
		return err
	}
	return p.decodeMobilityHeader(b, off)
}

func (p *Packet) decodeIPv6Header(b []byte) ([]byte, error) {
	if len(b) < ipv6HeaderLen {
		return nil, dropErr(ErrTruncated, "%d octets, an ipv6 header needs %d", len(b), ipv6HeaderLen)
	}
	if b[0]>>4 != 6 {
		return nil, dropErr(ErrNotIPv6, "ip version %d", b[0]>>4)
	}
	vtf := binary.BigEndian.Uint32(b)
	p.TrafficClass, p.FlowLabel = uint8(vtf>>20), vtf&0xfffff
	p.HopLimit = b[7]
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	end := ipv6HeaderLen + int(binary.BigEndian.Uint16(b[offPayloadLength:]))
	if end > len(b) {
		return nil, dropErr(ErrTruncated, "payload length says %d octets, %d present", end, len(b))
	}
	return b[:end], nil // octets after the payload (link padding) are not ours
}

// walkExtensionHeaders follows the Next Header chain to the Mobility Header
// and returns its offset.
func (p *Packet) walkExtensionHeaders(b []byte) (int, error) {
	next, nextAt, off := b[offNextHeader], offNextHeader, ipv6HeaderLen
	for next != ProtoMH {
		if off+8 > len(b) || off+extLen(b, off) > len(b) {
			return 0, dropErr(ErrTruncated, "extension header %d at offset %d", next, off)
		}
		var err error
		switch next {
		case protoHopByHop:
			if off != ipv6HeaderLen {
				return 0, paramProblem(ErrNoMobilityHeader, CodeUnrecognizedNextHdr, nextAt,
					"hop-by-hop options header at offset %d", off)
			}
		case protoDestOpts:
			err = p.decodeDestOpts(b[off:off+extLen(b, off)], off)
		case protoRouting:
			err = p.decodeRouting(b[off:off+extLen(b, off)], off)
		case protoFragment:
			return 0, dropErr(ErrFragment, "fragment header at offset %d", off)
		default:
			return 0, dropErr(ErrNoMobilityHeader, "next header %d at offset %d", next, off)
		}
		if err != nil {
			return 0, err
		}
		next, nextAt, off = b[off], off, off+extLen(b, off)
	}
	return off, nil
}

func extLen(b []byte, off int) int { return (int(b[off+1]) + 1) * 8 }

// decodeDestOpts finds the Home Address option in a Destination Options
// header h that starts at offset off of the packet.
func (p *Packet) decodeDestOpts(h []byte, off int) error {
	for i := 2; i < len(h); {
		t := h[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+2 > len(h) || i+2+int(h[i+1]) > len(h) {
			return dropErr(ErrTruncated, "destination option %d at offset %d", t, off+i)
		}
		if err := p.destOption(t, h[i+2:i+2+int(h[i+1])], off+i); err != nil {
			return err
		}
		i += 2 + int(h[i+1])
	}
	return nil
}

// destOption handles one destination option of type t with body data,
// found at offset at of the packet (RFC 8200 §4.2 for unknown types).
func (p *Packet) destOption(t byte, data []byte, at int) error {
	switch {
	case t == 1: // PadN
		return nil
	case t == optTypeHomeAddr:
		return p.decodeHomeAddress(data, at)
	case t>>6 == 0:
		return nil // skip over
	case t>>6 == 1 || (t>>6 == 3 && p.Dst.IsMulticast()):
		return dropErr(ErrDestOption, "option type %#x", t)
	default:
		return paramProblem(ErrDestOption, CodeUnrecognizedOption, at, "option type %#x", t)
	}
}

func (p *Packet) decodeHomeAddress(data []byte, at int) error {
	if len(data) != homeAddrOptLen {
		return paramProblem(ErrHomeAddress, CodeErroneousHeaderField, at+1,
			"home address option length %d, want %d", len(data), homeAddrOptLen)
	}
	if p.HomeAddress.IsValid() {
		return dropErr(ErrHomeAddress, "more than one home address option")
	}
	hoa := [16]byte(data)
	if !usableHomeAddress(hoa) {
		return dropErr(ErrHomeAddress, "home address %s is not a unicast global address", netip.AddrFrom16(hoa))
	}
	p.HomeAddress, p.homeAddressAt = netip.AddrFrom16(hoa), at+2
	return nil
}

// usableHomeAddress rules out what RFC 6275 §6.3 forbids in the option:
// multicast, link-local, loopback, unspecified and IPv4-mapped addresses.
// It reads the octets because it runs for every Binding Update.
func usableHomeAddress(a [16]byte) bool {
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	switch {
	case a[0] == 0xff: // multicast
		return false
	case a[0] == 0xfe && a[1]&0xc0 == 0x80: // link-local
		return false
	case hi == 0 && lo <= 1: // unspecified, loopback
		return false
	case hi == 0 && lo>>32 == 0xffff: // IPv4-mapped
		return false
	}
	return true
}

// decodeRouting reads a routing header h found at offset off: a type 2
// header gives RoutingAddress; other types are accepted only when no
// segment is left.
func (p *Packet) decodeRouting(h []byte, off int) error {
	rtype, left := h[2], h[3]
	if rtype != routingType2 {
		if left == 0 {
			return nil
		}
		return paramProblem(ErrRoutingHeader, CodeErroneousHeaderField, off+2, "routing type %d", rtype)
	}
	if len(h) != routingType2Len {
		return paramProblem(ErrRoutingHeader, CodeErroneousHeaderField, off+1,
			"type 2 routing header of %d octets, want %d", len(h), routingType2Len)
	}
	if left > 1 {
		return paramProblem(ErrRoutingHeader, CodeErroneousHeaderField, off+3,
			"type 2 routing header with %d segments left", left)
	}
	if p.RoutingAddress.IsValid() {
		return dropErr(ErrRoutingHeader, "more than one type 2 routing header")
	}
	p.RoutingAddress, p.SegmentsLeft = netip.AddrFrom16([16]byte(h[8:24])), left
	p.routingAddressAt = off + 8
	return nil
}

// pseudoSourceAt and pseudoDestinationAt locate in the decoded packet the
// addresses PseudoSource and PseudoDestination return.
func (p *Packet) pseudoSourceAt() int {
	if p.homeAddressAt > 0 {
		return p.homeAddressAt
	}
	return 8
}

func (p *Packet) pseudoDestinationAt() int {
	if p.routingAddressAt > 0 && p.SegmentsLeft > 0 {
		return p.routingAddressAt
	}
	return 24
}

// decodeMobilityHeader checks the Mobility Header at offset off.
func (p *Packet) decodeMobilityHeader(b []byte, off int) error {
	h, err := ParseHeader(b[off:])
	p.Header, p.MHOffset = h, off
	if err != nil {
		return shift(err, off)
	}
	p.MH = b[off : off+h.Length]
	if !verifyChecksumRaw(p.MH, b[p.pseudoSourceAt():], b[p.pseudoDestinationAt():]) {
		return dropErr(ErrChecksum, "checksum %#04x from %s", h.Checksum, p.Src)
	}
	if !h.Type.Known() {
		return &Error{Cause: ErrUnknownType, Action: ActionBindingError,
			Status: ErrorStatusUnknownType, Detail: h.Type.String()}
	}
	return nil
}

// AppendPacket appends to b an IPv6 packet from p.Src to p.Dst carrying m:
// with a type 2 routing header when p.RoutingAddress is set, and a Home
// Address destination option when p.HomeAddress is set. The checksum uses
// the pseudo-header those headers imply.
func AppendPacket(b []byte, p *Packet, m Message) ([]byte, error) {
	if err := p.checkAddresses(); err != nil {
		return b, err
	}
	start := len(b)
	b = p.appendIPv6Header(b)
	if p.RoutingAddress.IsValid() {
		b = appendRoutingType2(b, p.RoutingAddress, p.nextAfterRouting())
	}
	if p.HomeAddress.IsValid() {
		b = appendHomeAddressOption(b, p.HomeAddress)
	}
	mhStart := len(b)
	b, err := appendUnchecked(b, m)
	if err != nil {
		return b[:start], err
	}
	binary.BigEndian.PutUint16(b[start+offPayloadLength:], uint16(len(b)-start-ipv6HeaderLen))
	src, dst := p.Src, p.Dst
	if p.HomeAddress.IsValid() {
		src = p.HomeAddress
	}
	if p.RoutingAddress.IsValid() {
		dst = p.RoutingAddress
	}
	putChecksum(b[mhStart:], src, dst)
	return b, nil
}

func (p *Packet) checkAddresses() error {
	switch {
	case !p.Src.Is6():
		return fmt.Errorf("%w: source %q is not an ipv6 address", ErrInvalidMessage, p.Src)
	case !p.Dst.Is6():
		return fmt.Errorf("%w: destination %q is not an ipv6 address", ErrInvalidMessage, p.Dst)
	case p.HomeAddress.IsValid() && !p.HomeAddress.Is6():
		return fmt.Errorf("%w: home address %q is not an ipv6 address", ErrInvalidMessage, p.HomeAddress)
	case p.RoutingAddress.IsValid() && !p.RoutingAddress.Is6():
		return fmt.Errorf("%w: routing address %q is not an ipv6 address", ErrInvalidMessage, p.RoutingAddress)
	}
	return nil
}

func (p *Packet) appendIPv6Header(b []byte) []byte {
	hop := p.HopLimit
	if hop == 0 {
		hop = defaultHopLimit
	}
	next := byte(ProtoMH)
	switch {
	case p.RoutingAddress.IsValid():
		next = protoRouting
	case p.HomeAddress.IsValid():
		next = protoDestOpts
	}
	b = binary.BigEndian.AppendUint32(b, 6<<28|uint32(p.TrafficClass)<<20|p.FlowLabel&0xfffff)
	b = append(b, 0, 0, next, hop) // payload length is filled in last
	s, d := p.Src.As16(), p.Dst.As16()
	return append(append(b, s[:]...), d[:]...)
}

func (p *Packet) nextAfterRouting() byte {
	if p.HomeAddress.IsValid() {
		return protoDestOpts
	}
	return ProtoMH
}

// appendRoutingType2 appends a type 2 routing header (RFC 6275 §6.4).
func appendRoutingType2(b []byte, hoa netip.Addr, next byte) []byte {
	a := hoa.As16()
	b = append(b, next, routingType2Len/8-1, routingType2, 1, 0, 0, 0, 0)
	return append(b, a[:]...)
}

// appendHomeAddressOption appends a Destination Options header holding a
// PadN of 4 octets and the Home Address option at its 8n+6 alignment.
func appendHomeAddressOption(b []byte, hoa netip.Addr) []byte {
	a := hoa.As16()
	b = append(b, ProtoMH, destOptsHAOLen/8-1, 1, 2, 0, 0, optTypeHomeAddr, homeAddrOptLen)
	return append(b, a[:]...)
}
