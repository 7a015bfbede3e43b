package netnstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// DefaultPingTimeout bounds Ping when ctx has no earlier deadline.
const DefaultPingTimeout = 2 * time.Second

// ErrNoReply is returned by Ping when no matching echo reply arrived in time.
var ErrNoReply = errors.New("no echo reply")

// Ping sends one ICMPv6 echo request from src to dst inside the namespace
// and waits for the matching reply. A zero src lets the kernel choose the
// source address. It uses a raw ICMPv6 socket (needs CAP_NET_RAW), so it
// does not depend on a ping binary or on net.ipv4.ping_group_range.
func (ns *NS) Ping(ctx context.Context, src, dst netip.Addr) error {
	conn, err := ns.listenICMPv6(src)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }() // read-only use: nothing to flush

	deadline := time.Now().Add(DefaultPingTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("ping %s: %w", dst, err)
	}
	echo := &icmp.Echo{ID: rand.IntN(0xffff), Seq: rand.IntN(0xffff), Data: []byte("mip6mesh")}
	if err := sendEcho(conn, dst, echo); err != nil {
		return fmt.Errorf("ping %s from %s in %s: %w", dst, src, ns.name, err)
	}
	if err := awaitReply(conn, dst, echo); err != nil {
		return fmt.Errorf("ping %s from %s in %s: %w", dst, src, ns.name, err)
	}
	return nil
}

func (ns *NS) listenICMPv6(src netip.Addr) (*icmp.PacketConn, error) {
	local := "::"
	if src.IsValid() {
		local = src.String()
	}
	var conn *icmp.PacketConn
	err := ns.Do(func() error {
		var err error
		conn, err = icmp.ListenPacket("ip6:ipv6-icmp", local)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("icmpv6 socket on %s in %s: %w", local, ns.name, err)
	}
	return conn, nil
}

func sendEcho(conn *icmp.PacketConn, dst netip.Addr, echo *icmp.Echo) error {
	msg := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: echo}
	// The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets.
	wire, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	_, err = conn.WriteTo(wire, &net.IPAddr{IP: net.IP(dst.AsSlice())})
	return err
}

func awaitReply(conn *icmp.PacketConn, dst netip.Addr, echo *icmp.Echo) error {
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				return ErrNoReply
			}
			return err
		}
		if isReplyTo(buf[:n], peer, dst, echo) {
			return nil
		}
	}
}

func isReplyTo(b []byte, peer net.Addr, dst netip.Addr, echo *icmp.Echo) bool {
	ipAddr, ok := peer.(*net.IPAddr)
	if !ok {
		return false
	}
	from, ok := netip.AddrFromSlice(ipAddr.IP)
	if !ok || from.Unmap() != dst {
		return false
	}
	msg, err := icmp.ParseMessage(ipv6.ICMPTypeEchoReply.Protocol(), b)
	if err != nil || msg.Type != ipv6.ICMPTypeEchoReply {
		return false
	}
	got, ok := msg.Body.(*icmp.Echo)
	return ok && got.ID == echo.ID && got.Seq == echo.Seq
}
