package mhio

import (
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// maxSkip bounds the packets one recv skips (not for this node) in a row.
const maxSkip = 64

// packetRcvBuf is the receive buffer asked for each AF_PACKET socket: room
// for a burst of a few thousand Binding Updates.
const packetRcvBuf = 4 << 20

// mhFilter is the classic BPF program on the AF_PACKET sockets. It is
// deliberately coarse, so that the daemon does not wake for data packets:
// it accepts IPv6 packets sent to this host at the link layer whose first
// Next Header is a Mobility Header, a Destination Options header, a Routing
// header or a Hop-by-Hop Options header. Go does the exact parsing.
var mhFilter = []bpf.Instruction{
	/* 0 */ bpf.LoadExtension{Num: bpf.ExtType},
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_HOST, SkipTrue: 9}, // drop
	/* 2 */ bpf.LoadAbsolute{Off: 0, Size: 1}, // version and traffic class
	/* 3 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0},
	/* 4 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x60, SkipTrue: 6}, // drop
	/* 5 */ bpf.LoadAbsolute{Off: 6, Size: 1}, // next header
	/* 6 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoMH, SkipTrue: 3}, // accept
	/* 7 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoDestOpts, SkipTrue: 2},
	/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoRouting, SkipTrue: 1},
	/* 9 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoHopByHop, SkipTrue: 1}, // drop
	/* 10 */ bpf.RetConstant{Val: 0x40000}, // accept the whole packet
	/* 11 */ bpf.RetConstant{Val: 0}, // drop
}

// dropAll is the filter on the IPPROTO_MH socket of af_packet mode: the
// socket exists only so that the kernel counts plain Mobility Header
// packets as delivered; AF_PACKET delivers them to us.
var dropAll = []bpf.Instruction{bpf.RetConstant{Val: 0}}

// afPacket is the receive path of ModeAFPacket.
type afPacket struct {
	log   *slog.Logger
	socks []int    // AF_PACKET sockets
	names []string // the interface of each socket, for logs
	mhFD  int      // IPPROTO_MH socket that drops everything
	addrs *localAddrs
	next  int // socket to read first, round robin
	fds   []int32
	from  unix.RawSockaddrLinklayer // source of the last packet read
}

func openAFPacket(log *slog.Logger, ifaces []iface) (_ *afPacket, err error) {
	a := &afPacket{log: log, mhFD: -1}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.close())
		}
	}()
	if a.mhFD, err = openMHSink(); err != nil {
		return nil, err
	}
	if len(ifaces) == 0 {
		ifaces = []iface{{index: 0, name: "all"}}
	}
	for _, ifc := range ifaces {
		fd, err := openPacketSocket(ifc.index)
		if err != nil {
			return nil, fmt.Errorf("af_packet socket on %s: %w", ifc.name, err)
		}
		a.socks = append(a.socks, fd)
		a.names = append(a.names, ifc.name)
		a.fds = append(a.fds, int32(fd))
	}
	if a.addrs, err = openLocalAddrs(log); err != nil {
		return nil, err
	}
	a.fds = append(a.fds, int32(a.addrs.fd))
	return a, nil
}

// openMHSink opens the IPPROTO_MH socket whose presence stops the kernel
// from answering plain Mobility Header packets with Parameter Problem
// "unrecognized next header". Its filter drops every packet, so nothing
// queues and nothing is delivered twice.
func openMHSink() (int, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, protoMH)
	if err != nil {
		return -1, fmt.Errorf("raw IPPROTO_MH socket: %w", err)
	}
	if err := attachFilter(fd, dropAll); err != nil {
		return -1, errors.Join(err, unix.Close(fd))
	}
	// Discard what arrived before the filter was attached.
	var b [1]byte
	for {
		if e := discard(fd, b[:]); e != 0 {
			break
		}
	}
	return fd, nil
}

// openPacketSocket opens a cooked AF_PACKET socket (no link-layer header:
// works on any link type) for IPv6 on ifindex, 0 for all interfaces. It is
// created for protocol 0, which receives nothing, and bound only once the
// filter is in place.
func openPacketSocket(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, err
	}
	if err := setupPacketSocket(fd, ifindex); err != nil {
		return -1, errors.Join(err, unix.Close(fd))
	}
	return fd, nil
}

func setupPacketSocket(fd, ifindex int) error {
	if err := attachFilter(fd, mhFilter); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
	}
	setRcvBuf(fd, packetRcvBuf)
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

func attachFilter(fd int, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assemble socket filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("attach socket filter: %w", err)
	}
	return nil
}

func (a *afPacket) pollFDs() []int32 { return a.fds }

func (a *afPacket) recv(buf []byte) (int, int, bool) {
	for i := range a.socks {
		k := (a.next + i) % len(a.socks)
		n, ok := a.recvFrom(k, buf)
		if ok {
			a.next = (k + 1) % len(a.socks)
			return n, int(a.from.Ifindex), true
		}
	}
	return 0, 0, false
}

// recvFrom reads socket k until it finds a packet for this node, has
// nothing left, or has skipped maxSkip packets (Receive then checks its
// context before going on).
func (a *afPacket) recvFrom(k int, buf []byte) (int, bool) {
	for range maxSkip {
		n, e := recvTruncFrom(a.socks[k], buf, &a.from)
		switch e {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			return 0, false
		default:
			// ENETDOWN when the interface went away: the socket then
			// receives nothing more until the Conn is opened again.
			a.log.Warn("af_packet receive failed", "interface", a.names[k], "error", e)
			return 0, false
		}
		if n < ipv6HeaderLen || !a.addrs.contains(netipFrom16(buf[24:40])) {
			continue // forwarded through this node, or not IPv6 at all
		}
		if n > len(buf) {
			a.log.Warn("packet dropped: longer than the receive buffer", "len", n, "buffer", len(buf))
			continue
		}
		return n, true
	}
	return 0, false
}

func (a *afPacket) polled(fds []unix.PollFd) {
	if fds[len(fds)-1].Revents != 0 {
		a.addrs.update()
	}
}

func (a *afPacket) close() error {
	errs := []error{closeFD(&a.mhFD)}
	for i := range a.socks {
		errs = append(errs, closeFD(&a.socks[i]))
	}
	if a.addrs != nil {
		errs = append(errs, a.addrs.close())
	}
	return errors.Join(errs...)
}
