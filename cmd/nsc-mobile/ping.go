package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// defaultPingTimeout bounds a liveness check whose context has no deadline.
const defaultPingTimeout = time.Second

// pingEndpoint is the heal element's liveness check: one ICMPv6 echo from
// the client's address on the vWire to the endpoint's, answered in time.
// It plays the part of sdk-kernel's KernelLivenessCheck without its ping
// module; like it, it passes connections it cannot check.
func pingEndpoint(ctx context.Context, conn *networkservice.Connection) bool {
	if conn.GetMechanism().GetType() != kernelmech.MECHANISM {
		return true
	}
	src, srcOK := firstAddr(conn.GetContext().GetIpContext().GetSrcIpAddrs())
	dst, dstOK := firstAddr(conn.GetContext().GetIpContext().GetDstIpAddrs())
	if !srcOK || !dstOK || !src.Is6() || !dst.Is6() {
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultPingTimeout)
	}
	return echo(src, dst, deadline) == nil
}

// firstAddr is the address of the first of prefixes ("addr/len").
func firstAddr(prefixes []string) (netip.Addr, bool) {
	if len(prefixes) == 0 {
		return netip.Addr{}, false
	}
	p, err := netip.ParsePrefix(prefixes[0])
	if err != nil {
		return netip.Addr{}, false
	}
	return p.Addr(), true
}

var errNoEchoReply = errors.New("no echo reply")

// echo sends one echo request from src to dst and waits for its reply
// until deadline.
func echo(src, dst netip.Addr, deadline time.Time) error {
	c, err := icmp.ListenPacket("ip6:ipv6-icmp", src.String())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	id, seq := int(binary.BigEndian.Uint16(b[:2])), int(binary.BigEndian.Uint16(b[2:]))
	req := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("mip6mesh liveness")}}
	out, err := req.Marshal(nil) // the kernel fills in the ICMPv6 checksum
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(out, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return errors.Join(errNoEchoReply, err)
		}
		if isReply(buf[:n], from, dst, id, seq) {
			return nil
		}
	}
}

func isReply(pkt []byte, from net.Addr, dst netip.Addr, id, seq int) bool {
	ip, ok := from.(*net.IPAddr)
	if !ok {
		return false
	}
	if a, ok := netip.AddrFromSlice(ip.IP); !ok || a.Unmap() != dst {
		return false
	}
	m, err := icmp.ParseMessage(ipv6.ICMPTypeEchoReply.Protocol(), pkt)
	if err != nil || m.Type != ipv6.ICMPTypeEchoReply {
		return false
	}
	e, ok := m.Body.(*icmp.Echo)
	return ok && e.ID == id && e.Seq == seq
}
