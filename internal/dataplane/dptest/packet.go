package dptest

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// IPv6Packet builds an IPv6 header (hop limit 64) followed by payload.
func IPv6Packet(src, dst netip.Addr, nextHeader uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nextHeader
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// EchoRequest is an ICMPv6 echo request src -> dst with a valid checksum.
func EchoRequest(src, dst netip.Addr, id uint16) []byte {
	icmp := []byte{128, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'm', '6'}
	binary.BigEndian.PutUint16(icmp[2:], icmpv6Checksum(src, dst, icmp))
	return IPv6Packet(src, dst, netnstest.NextHeaderICMPv6, icmp)
}

// SizedEchoRequest is an ICMPv6 echo request src -> dst with a valid
// checksum, padded to size bytes in all (at least 50).
func SizedEchoRequest(src, dst netip.Addr, id uint16, size int) []byte {
	icmp := make([]byte, max(size-40, 10))
	icmp[0], icmp[4], icmp[5], icmp[7] = 128, byte(id>>8), byte(id), 1
	binary.BigEndian.PutUint16(icmp[2:], icmpv6Checksum(src, dst, icmp))
	return IPv6Packet(src, dst, netnstest.NextHeaderICMPv6, icmp)
}

func icmpv6Checksum(src, dst netip.Addr, msg []byte) uint16 {
	s, d := src.As16(), dst.As16()
	pseudo := append(append(s[:], d[:]...), 0, 0, byte(len(msg)>>8), byte(len(msg)), 0, 0, 0, netnstest.NextHeaderICMPv6)
	var sum uint32
	for _, b := range [][]byte{pseudo, msg} {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// Tunnelled wraps inner in an outer IPv6 header with next header 41.
func Tunnelled(outerSrc, outerDst netip.Addr, inner []byte) []byte {
	return IPv6Packet(outerSrc, outerDst, netnstest.NextHeaderIPv6, inner)
}

// SendRaw sends a complete IPv6 packet from ns (IPPROTO_RAW socket).
func SendRaw(t *testing.T, ns *netnstest.NS, packet []byte) {
	t.Helper()
	dst := netip.AddrFrom16([16]byte(packet[24:40]))
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer func() { _ = unix.Close(fd) }()
		return unix.Sendto(fd, packet, 0, &unix.SockaddrInet6{Addr: dst.As16()})
	})
	Must(t, err)
}

// AwaitPacket drains c until a packet matching want arrives (true) or a
// second passes, and returns every packet drained.
func AwaitPacket(t *testing.T, c *netnstest.Capture, want func(netnstest.Packet) bool) (bool, []netnstest.Packet) {
	t.Helper()
	var seen []netnstest.Packet
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		packets, err := c.Packets()
		Must(t, err)
		seen = append(seen, packets...)
		for _, p := range packets {
			if want(p) {
				return true, seen
			}
		}
	}
	return false, seen
}

// EchoID returns the identifier of an ICMPv6 echo request or reply, or -1.
func EchoID(p netnstest.Packet) int {
	if p.NextHeader != netnstest.NextHeaderICMPv6 || len(p.Payload) < 8 {
		return -1
	}
	if typ := p.Payload[0]; typ != 128 && typ != 129 {
		return -1
	}
	return int(p.Payload[4])<<8 | int(p.Payload[5])
}
