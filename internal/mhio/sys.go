package mhio

import (
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IPv6 numbers used by the filters and the packet rebuilding.
const (
	ipv6HeaderLen = 40
	protoHopByHop = 0
	protoRouting  = 43
	protoDestOpts = 60
	protoICMPv6   = 58
	protoMH       = 135
)

// The system calls on the receive and send paths are made directly: the
// x/sys/unix wrappers allocate a Sockaddr per call.

// discard reads one datagram into b without blocking, for callers that
// only need to know whether there was one.
func discard(fd int, b []byte) unix.Errno {
	_, e := recvTruncFrom(fd, b, nil)
	return e
}

// recvTruncFrom reads one datagram into b without blocking and returns its
// full length, which exceeds len(b) when it was truncated. A non-nil from
// (on an AF_PACKET socket) receives the packet's link-layer source
// address, with the interface it arrived on.
func recvTruncFrom(fd int, b []byte, from *unix.RawSockaddrLinklayer) (int, unix.Errno) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	var fromLen uint32
	if from != nil {
		fromLen = uint32(unsafe.Sizeof(*from))
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_TRUNC|unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(from)), uintptr(unsafe.Pointer(&fromLen)))
	return int(n), e
}

// recvmsg reads one datagram with its ancillary data without blocking.
func recvmsg(fd int, msg *unix.Msghdr) (int, unix.Errno) {
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), unix.MSG_DONTWAIT)
	return int(n), e
}

// sendTo sends pkt to dst on a raw IPv6 socket.
func sendTo(fd int, pkt []byte, dst [16]byte) unix.Errno {
	sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)),
		0, uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	return e
}

func netipFrom16(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b)) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// setRcvBuf asks for a receive buffer of n bytes, above net.core.rmem_max
// when the process has CAP_NET_ADMIN.
func setRcvBuf(fd, n int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	}
}

// iface is an interface to receive on.
type iface struct {
	index int
	name  string
}

// resolveInterfaces looks the named interfaces up in the calling thread's
// network namespace; none means all interfaces.
func resolveInterfaces(names []string) ([]iface, error) {
	out := make([]iface, 0, len(names))
	for _, name := range names {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("%w: interface %q: %w", ErrInvalidConfig, name, err)
		}
		out = append(out, iface{index: ifi.Index, name: name})
	}
	return out, nil
}

func interfaceNames(ifaces []iface) []string {
	if len(ifaces) == 0 {
		return []string{"all"}
	}
	names := make([]string, len(ifaces))
	for i, ifc := range ifaces {
		names[i] = ifc.name
	}
	return names
}
