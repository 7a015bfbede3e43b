package udpflow

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// socket makes a UDP socket inside ns bound to addr (a zero address binds
// to any; a zero address and port leave it unbound). A receiving socket
// gets a large buffer and a receive timeout, so its reader can be stopped.
func socket(ns *netns.NS, addr netip.AddrPort, receive bool) (int, error) {
	fd := -1
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
		if err != nil {
			return fmt.Errorf("udp socket in %s: %w", ns.Name(), err)
		}
		return nil
	})
	if err != nil {
		return -1, err
	}
	if err := setup(fd, addr, receive); err != nil {
		_ = unix.Close(fd) // the setup error is the one to report
		return -1, fmt.Errorf("udp socket in %s: %w", ns.Name(), err)
	}
	return fd, nil
}

func setup(fd int, addr netip.AddrPort, receive bool) error {
	if receive {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, receiveBuffer); err != nil {
			return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
		}
		tv := unix.NsecToTimeval(recvPoll.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return fmt.Errorf("SO_RCVTIMEO: %w", err)
		}
	}
	if !addr.Addr().IsValid() && addr.Port() == 0 {
		return nil
	}
	if err := unix.Bind(fd, sockaddr(addr)); err != nil {
		return fmt.Errorf("bind %v: %w", addr, err)
	}
	return nil
}

func sockaddr(ap netip.AddrPort) *unix.SockaddrInet6 {
	a := ap.Addr()
	if !a.IsValid() {
		a = netip.IPv6Unspecified()
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}
