package mhio

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// drainEvery is how many accepted packets may pass between two looks at the
// address notifications when packets keep arriving and the Conn never waits.
const drainEvery = 256

// localAddrs is the set of IPv6 addresses of the network namespace, kept
// fresh through RTNLGRP_IPV6_IFADDR notifications: a notification only marks
// the set stale, and the set is then dumped again. A miss also looks for
// pending notifications first, so a packet to an address added a moment ago
// is not lost. Addresses routed as local without being assigned to an
// interface (AnyIP routes in the local table) are not in the set.
type localAddrs struct {
	log   *slog.Logger
	nl    *netlink.Handle // for dumps; bound to the namespace of Open
	fd    int             // notification socket, non-blocking
	buf   []byte
	set   map[netip.Addr]struct{}
	stale bool
	hits  int
}

func openLocalAddrs(log *slog.Logger) (_ *localAddrs, err error) {
	a := &localAddrs{log: log, fd: -1, buf: make([]byte, 16<<10), set: make(map[netip.Addr]struct{})}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.close())
		}
	}()
	// Subscribe before the first dump so that no change falls between them.
	if a.fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE); err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(a.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_IPV6_IFADDR}); err != nil {
		return nil, fmt.Errorf("subscribe to ipv6 address changes: %w", err)
	}
	if a.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	if err := a.load(); err != nil {
		return nil, err
	}
	return a, nil
}

// contains reports whether addr is an address of this namespace.
func (a *localAddrs) contains(addr netip.Addr) bool {
	if a.hits++; a.hits >= drainEvery {
		a.hits = 0
		a.update()
	}
	if _, ok := a.set[addr]; ok {
		return true
	}
	if !a.drain() && !a.stale {
		return false
	}
	a.refresh()
	_, ok := a.set[addr]
	return ok
}

// update reloads the set if notifications are pending or a reload failed.
func (a *localAddrs) update() {
	if a.drain() || a.stale {
		a.refresh()
	}
}

// drain reads all pending notifications and reports whether there were any
// (or whether some were lost: ENOBUFS).
func (a *localAddrs) drain() bool {
	changed := false
	for {
		e := discard(a.fd, a.buf)
		switch e {
		case 0, unix.ENOBUFS:
			changed = true
		case unix.EINTR:
		default: // EAGAIN: nothing left
			return changed
		}
	}
}

func (a *localAddrs) refresh() {
	if err := a.load(); err != nil {
		a.stale = true
		a.log.Warn("reading local addresses failed, keeping the previous set", "error", err)
	}
}

// load dumps the IPv6 addresses, retrying a dump that a change interrupted.
func (a *localAddrs) load() error {
	var list []netlink.Addr
	var err error
	for range 3 {
		if list, err = a.nl.AddrList(nil, netlink.FAMILY_V6); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("list ipv6 addresses: %w", err)
	}
	clear(a.set)
	for _, addr := range list {
		if ip, ok := netip.AddrFromSlice(addr.IP); ok {
			a.set[ip] = struct{}{}
		}
	}
	a.stale = false
	return nil
}

func (a *localAddrs) close() error {
	if a.nl != nil {
		a.nl.Close()
	}
	return closeFD(&a.fd)
}
