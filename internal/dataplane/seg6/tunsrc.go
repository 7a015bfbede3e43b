package seg6

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// SEG6 generic netlink family, include/uapi/linux/seg6_genl.h.
const (
	seg6GenlName        = "SEG6"
	seg6GenlVersion     = 1
	seg6CmdSetTunsrc    = 3
	seg6CmdGetTunsrc    = 4
	seg6AttrDst         = 1
	tunsrcFeatureDetail = "SEG6 generic netlink family (CONFIG_IPV6_SEG6_LWTUNNEL)"
)

// getTunsrc reads the namespace's SRv6 tunnel source ("ip sr tunsrc show");
// the unspecified address means "not set".
func getTunsrc(ns netns.NsHandle) (netip.Addr, error) {
	var addr netip.Addr
	err := nsexec.Run(ns, func() error {
		msgs, err := seg6Request(seg6CmdGetTunsrc, nil, 0)
		if err != nil {
			return err
		}
		addr, err = parseTunsrc(msgs)
		return err
	})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("get seg6 tunsrc: %w", err)
	}
	return addr, nil
}

// setTunsrc sets the namespace's SRv6 tunnel source ("ip sr tunsrc set").
func setTunsrc(ns netns.NsHandle, addr netip.Addr) error {
	raw := addr.As16()
	attr := nl.NewRtAttr(seg6AttrDst, raw[:])
	err := nsexec.Run(ns, func() error {
		_, err := seg6Request(seg6CmdSetTunsrc, attr, unix.NLM_F_ACK)
		return err
	})
	if err != nil {
		return fmt.Errorf("set seg6 tunsrc %s: %w", addr, err)
	}
	return nil
}

// seg6Request runs one SEG6 generic netlink command in the calling
// thread's namespace.
func seg6Request(cmd uint8, attr *nl.RtAttr, flags int) ([][]byte, error) {
	family, err := netlink.GenlFamilyGet(seg6GenlName)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, &dataplane.FeatureError{Feature: tunsrcFeatureDetail, Err: err}
		}
		return nil, fmt.Errorf("resolve generic netlink family %s: %w", seg6GenlName, err)
	}
	req := nl.NewNetlinkRequest(int(family.ID), flags)
	req.AddData(&nl.Genlmsg{Command: cmd, Version: seg6GenlVersion})
	if attr != nil {
		req.AddData(attr)
	}
	return req.Execute(unix.NETLINK_GENERIC, 0)
}

func parseTunsrc(msgs [][]byte) (netip.Addr, error) {
	for _, msg := range msgs {
		if len(msg) < nl.SizeofGenlmsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(msg[nl.SizeofGenlmsg:])
		if err != nil {
			return netip.Addr{}, fmt.Errorf("parse tunsrc reply: %w", err)
		}
		for _, a := range attrs {
			if a.Attr.Type == seg6AttrDst && len(a.Value) == 16 {
				return netip.AddrFrom16([16]byte(a.Value)), nil
			}
		}
	}
	return netip.Addr{}, errors.New("tunsrc reply without SEG6_ATTR_DST")
}

// tunsrcGuard remembers the tunnel source found at Start and puts it back
// at Close. Setting tunsrc takes effect at once but returns only after an
// RCU grace period (synchronize_net, 7 to 21 ms measured), so the guard
// keeps the value it knows the namespace holds and sets only changes.
type tunsrcGuard struct {
	ns      netns.NsHandle
	saved   netip.Addr // valid once remembered
	current netip.Addr // the namespace's value, valid once remembered
}

// remember saves the current tunsrc. A value in ours was set by a crashed
// run of this instance and is saved as "unset".
func (g *tunsrcGuard) remember(ours ...netip.Addr) error {
	current, err := getTunsrc(g.ns)
	if err != nil {
		return err
	}
	g.current, g.saved = current, current
	if slices.Contains(ours, current) {
		g.saved = netip.IPv6Unspecified()
	}
	return nil
}

// set makes addr the tunsrc (the unspecified address unsets it); it asks
// the kernel only if addr is not what the namespace holds.
func (g *tunsrcGuard) set(addr netip.Addr) error {
	if addr == g.current {
		return nil
	}
	if err := setTunsrc(g.ns, addr); err != nil {
		return err
	}
	g.current = addr
	return nil
}

// restore puts the remembered tunsrc back.
func (g *tunsrcGuard) restore() error {
	if !g.saved.IsValid() {
		return nil
	}
	if err := g.set(g.saved); err != nil {
		return err
	}
	g.saved, g.current = netip.Addr{}, netip.Addr{}
	return nil
}
