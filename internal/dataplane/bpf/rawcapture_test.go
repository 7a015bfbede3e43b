package bpf_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// outerHeader is the fixed IPv6 header of a captured tunnel packet, with
// the fields netnstest.Packet does not carry.
type outerHeader struct {
	first         [4]byte // version, traffic class, flow label
	payloadLength uint16
	nextHeader    uint8
	hopLimit      uint8
	src, dst      netip.Addr
	captured      int // bytes after the fixed header
}

// rawCapture records whole IPv6 packets an interface receives (AF_PACKET,
// cooked), for checks of header fields.
type rawCapture struct{ fd int }

func newRawCapture(t *testing.T, ns *netnstest.NS, ifname string) *rawCapture {
	t.Helper()
	index, err := ns.LinkIndex(ifname)
	dptest.Must(t, err)
	c := &rawCapture{}
	proto := int(htons(unix.ETH_P_IPV6))
	dptest.Must(t, ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		c.fd = fd
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: index})
	}))
	t.Cleanup(func() { unix.Close(c.fd) })
	return c
}

// tunnelHeaders returns the outer headers of the IPv6-in-IPv6 packets
// received since the last call.
func (c *rawCapture) tunnelHeaders(t *testing.T) []outerHeader {
	t.Helper()
	var out []outerHeader
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			return out
		}
		dptest.Must(t, err)
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Pkttype == unix.PACKET_OUTGOING || n < 40 || buf[6] != netnstest.NextHeaderIPv6 {
			continue
		}
		out = append(out, outerHeader{
			first:         [4]byte(buf[0:4]),
			payloadLength: binary.BigEndian.Uint16(buf[4:6]),
			nextHeader:    buf[6],
			hopLimit:      buf[7],
			src:           netip.AddrFrom16([16]byte(buf[8:24])),
			dst:           netip.AddrFrom16([16]byte(buf[24:40])),
			captured:      n - 40,
		})
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
