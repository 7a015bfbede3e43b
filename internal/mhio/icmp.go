package mhio

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// ICMPv6 numbers (RFC 4443).
const (
	icmpTypeParameterProblem = 4
	icmpHeaderLen            = 8    // type, code, checksum, pointer
	minMTU                   = 1280 // an ICMPv6 error must fit the IPv6 minimum MTU
	icmpHopLimit             = 64
)

// Rate limit of SendParameterProblem (RFC 4443 §2.4 (f)), per Conn.
const (
	icmpBurst    = 20
	icmpInterval = 50 * time.Millisecond // one more token per interval: 20 a second
)

// SendParameterProblem answers the invoking packet with an ICMPv6 Parameter
// Problem (type 4) of the given code and pointer, counted from the start of
// its IPv6 header as mh.Error.Pointer is. It goes from the invoking packet's
// destination to its source (the care-of address of a packet with a Home
// Address option, RFC 6275 §9.3.1) and quotes as much of the invoking packet
// as fits in 1280 octets. It fails with ErrRateLimited beyond 20 a second,
// and with ErrInvalidPacket when RFC 4443 §2.4 (e) forbids an answer.
func (c *Conn) SendParameterProblem(invoking []byte, code uint8, pointer uint32) error {
	pkt, err := appendParameterProblem(make([]byte, 0, minMTU), invoking, code, pointer)
	if err != nil {
		return err
	}
	if !c.limiter.allow(time.Now()) {
		return ErrRateLimited
	}
	return c.Send(pkt)
}

// appendParameterProblem appends the whole IPv6 packet answering invoking.
func appendParameterProblem(b, invoking []byte, code uint8, pointer uint32) ([]byte, error) {
	if len(invoking) < ipv6HeaderLen || invoking[0]>>4 != 6 {
		return b, fmt.Errorf("%w: invoking packet is not ipv6 (%d octets)", ErrInvalidPacket, len(invoking))
	}
	src, dst := netipFrom16(invoking[24:40]), netipFrom16(invoking[8:24])
	if dst.IsUnspecified() || dst.IsMulticast() || src.IsMulticast() {
		return b, fmt.Errorf("%w: no icmpv6 error for a packet from %s to %s", ErrInvalidPacket, dst, src)
	}
	if end := ipv6HeaderLen + int(binary.BigEndian.Uint16(invoking[4:])); end < len(invoking) {
		invoking = invoking[:end] // link-layer padding is not part of the packet
	}
	quoted := invoking[:min(len(invoking), minMTU-ipv6HeaderLen-icmpHeaderLen)]
	payloadLen := icmpHeaderLen + len(quoted)

	s, d := src.As16(), dst.As16()
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(payloadLen))
	b = append(b, protoICMPv6, icmpHopLimit)
	b = append(append(b, s[:]...), d[:]...)
	icmp := len(b)
	b = append(b, icmpTypeParameterProblem, code, 0, 0)
	b = binary.BigEndian.AppendUint32(b, pointer)
	b = append(b, quoted...)
	binary.BigEndian.PutUint16(b[icmp+2:], icmpChecksum(b[icmp:], src, dst))
	return b, nil
}

// icmpChecksum is the ICMPv6 checksum of msg (checksum field zero) over the
// RFC 8200 §8.1 pseudo-header.
func icmpChecksum(msg []byte, src, dst netip.Addr) uint16 {
	s, d := src.As16(), dst.As16()
	sum := uint32(0)
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(s[:])
	add(d[:])
	sum += uint32(len(msg)>>16) + uint32(len(msg)&0xffff) + protoICMPv6
	add(msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// tokenBucket limits ICMPv6 errors; the zero value is a full bucket.
type tokenBucket struct {
	mu    sync.Mutex
	spent int       // tokens taken and not yet refilled
	last  time.Time // refills are counted from here
}

func (t *tokenBucket) allow(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := now.Sub(t.last) / icmpInterval; n > 0 {
		t.spent = max(0, t.spent-int(min(n, icmpBurst)))
		t.last = t.last.Add(n * icmpInterval)
	}
	if t.spent == 0 {
		t.last = now
	}
	if t.spent >= icmpBurst {
		return false
	}
	t.spent++
	return true
}
