package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// IPv6 next header numbers, for reading captured packets.
const (
	NextHeaderIPv6   = 41 // IPv6-in-IPv6 (RFC 2473)
	NextHeaderRoute  = 43 // routing header, e.g. an SRH
	NextHeaderICMPv6 = 58
)

// Packet is an IPv6 packet seen on a captured interface.
type Packet struct {
	Outgoing   bool // sent by this namespace rather than received
	Src, Dst   netip.Addr
	NextHeader uint8
	Payload    []byte // everything after the fixed 40-byte header
}

// Inner parses Payload as an encapsulated IPv6 packet (next header 41).
func (p Packet) Inner() (Packet, error) {
	if p.NextHeader != NextHeaderIPv6 {
		return Packet{}, fmt.Errorf("next header %d is not IPv6-in-IPv6", p.NextHeader)
	}
	inner, err := parseIPv6(p.Payload)
	inner.Outgoing = p.Outgoing
	return inner, err
}

func (p Packet) String() string {
	dir := "in"
	if p.Outgoing {
		dir = "out"
	}
	return fmt.Sprintf("%s %s > %s nh %d len %d", dir, p.Src, p.Dst, p.NextHeader, len(p.Payload))
}

// Capture records the IPv6 packets that an interface sends and receives,
// through an AF_PACKET socket. Packets queue in the socket (up to its
// receive buffer) until Packets drains them, so no goroutine is involved.
type Capture struct {
	fd   int
	once sync.Once
}

// Capture starts capturing on ifname. The caller must Close the capture.
func (ns *NS) Capture(ifname string) (*Capture, error) {
	index, err := ns.LinkIndex(ifname)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var fd int
	err = ns.Do(func() error {
		var err error
		fd, err = openPacketSocket(index)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("capture on %s in %s: %w", ifname, ns.name, err)
	}
	return &Capture{fd: fd}, nil
}

func openPacketSocket(ifindex int) (int, error) {
	// ETH_P_ALL, not ETH_P_IPV6: outgoing frames only reach catch-all taps.
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, fmt.Errorf("af_packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifindex}); err != nil {
		_ = unix.Close(fd) // the bind error is the one to report
		return -1, fmt.Errorf("bind af_packet socket: %w", err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Close stops the capture; calling it again does nothing.
func (c *Capture) Close() error {
	var err error
	c.once.Do(func() {
		if cerr := unix.Close(c.fd); cerr != nil {
			err = fmt.Errorf("close capture: %w", cerr)
		}
	})
	return err
}

// Packets returns the packets captured since the last call, without waiting.
// Frames that are not well-formed IPv6 are skipped.
func (c *Capture) Packets() ([]Packet, error) {
	var out []Packet
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read capture: %w", err)
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Protocol != htons(unix.ETH_P_IPV6) {
			continue
		}
		pkt, err := parseIPv6(buf[:n])
		if err != nil {
			continue
		}
		pkt.Outgoing = ll.Pkttype == unix.PACKET_OUTGOING
		out = append(out, pkt)
	}
}

func parseIPv6(b []byte) (Packet, error) {
	const headerLen = 40
	if len(b) < headerLen || b[0]>>4 != 6 {
		return Packet{}, errors.New("not an IPv6 packet")
	}
	return Packet{
		Src:        netip.AddrFrom16([16]byte(b[8:24])),
		Dst:        netip.AddrFrom16([16]byte(b[24:40])),
		NextHeader: b[6],
		Payload:    append([]byte(nil), b[headerLen:]...),
	}, nil
}
