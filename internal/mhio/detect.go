package mhio

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// DetectMode tells whether the running kernel was built with
// CONFIG_IPV6_MIP6, and so which Mode to use, and says why.
//
// How: it sets a type 2 routing header as a sticky option (setsockopt
// IPV6_RTHDR) on a throw-away UDP socket. The kernel accepts type 2 there
// only when built with MIP6 (net/ipv6/ipv6_sockglue.c, the "routing header
// option needs extra check" switch) and answers EINVAL otherwise. The probe
// needs no privilege, changes nothing and, unlike /proc/kallsyms or the
// kernel config, cannot be hidden from a container. Any other failure of the
// probe gives ModeAFPacket, which works on both kinds of kernel.
func DetectMode() (mode Mode, reason string) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ModeAFPacket, fmt.Sprintf("cannot open an ipv6 udp socket to probe for CONFIG_IPV6_MIP6 (%v); af_packet works without it", err)
	}
	defer func() { _ = unix.Close(fd) }() // a probe: nothing to report
	rthdr := make([]byte, 24)
	rthdr[1] = 2                                           // Hdr Ext Len: 24 octets
	rthdr[2] = 2                                           // Routing Type 2
	rthdr[3] = 1                                           // Segments Left
	copy(rthdr[8:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}) // 2001:db8::1
	err = unix.SetsockoptString(fd, unix.IPPROTO_IPV6, unix.IPV6_RTHDR, string(rthdr))
	switch {
	case err == nil:
		return ModeRawMH, "the kernel accepts a type 2 routing header (setsockopt IPV6_RTHDR): built with CONFIG_IPV6_MIP6"
	case errors.Is(err, unix.EINVAL):
		return ModeAFPacket, "the kernel rejects a type 2 routing header (setsockopt IPV6_RTHDR: EINVAL): built without CONFIG_IPV6_MIP6"
	default:
		return ModeAFPacket, fmt.Sprintf("probing for CONFIG_IPV6_MIP6 failed (setsockopt IPV6_RTHDR: %v); af_packet works without it", err)
	}
}
