package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// prepareNamespace turns IPv6 forwarding on and makes the Home Agent
// address local; undo puts both back as they were, logging what fails.
func prepareNamespace(cfg Config, log *slog.Logger) (undo func(), err error) {
	restoreForwarding, err := enableForwarding(log)
	if err != nil {
		return nil, err
	}
	removeAddress, err := ensureHomeAgentAddress(cfg.HomeAgentAddress, log)
	if err != nil {
		cli.CloseLogged(log, "ipv6 forwarding", restoreForwarding)
		return nil, err
	}
	return func() {
		cli.CloseLogged(log, "home agent address", removeAddress)
		cli.CloseLogged(log, "ipv6 forwarding", restoreForwarding)
	}, nil
}

// ensureHomeAgentAddress makes the Home Agent address local: Binding
// Updates and the reverse tunnel are addressed to it. When no interface of
// the namespace holds it (a pod with a virtual home network has nobody to
// configure it), it goes on lo as a /128, and restore takes it off again.
func ensureHomeAgentAddress(addr netip.Addr, log *slog.Logger) (restore func() error, err error) {
	held, err := isLocal(addr)
	if err != nil {
		return nil, err
	}
	if held {
		return func() error { return nil }, nil
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return nil, fmt.Errorf("home agent address %s: find lo: %w", addr, err)
	}
	a := &netlink.Addr{IPNet: kernel.HostNet(addr), Flags: unix.IFA_F_NODAD}
	if err := netlink.AddrAdd(lo, a); err != nil {
		return nil, fmt.Errorf("home agent address %s: add to lo: %w", addr, err)
	}
	log.Info("put the home agent address on lo; it is removed at shutdown", "address", addr)
	return func() error {
		if err := netlink.AddrDel(lo, a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove home agent address %s from lo: %w", addr, err)
		}
		return nil
	}, nil
}

// isLocal reports whether an interface of this namespace holds addr.
func isLocal(addr netip.Addr) (bool, error) {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V6)
	if err != nil {
		return false, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if got, ok := netip.AddrFromSlice(a.IP); ok && got.Unmap() == addr {
			return true, nil
		}
	}
	return false, nil
}
