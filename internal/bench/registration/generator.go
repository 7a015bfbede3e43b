package registration

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// IPv6 numbers the receive filter needs.
const (
	protoRouting = 43
	protoMH      = 135
)

// genRcvBuf is the generator's receive buffer: far more than a window of
// Binding Acknowledgements.
const genRcvBuf = 8 << 20

// baFilter accepts IPv6 packets sent to this host at the link layer whose
// first Next Header is a routing header (a BA to a care-of address has a
// type 2 routing header) or a Mobility Header. mh.Packet.Unmarshal does the
// exact parsing.
var baFilter = []bpf.Instruction{
	/* 0 */ bpf.LoadExtension{Num: bpf.ExtType},
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_HOST, SkipTrue: 6}, // drop
	/* 2 */ bpf.LoadAbsolute{Off: 0, Size: 1},
	/* 3 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0},
	/* 4 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x60, SkipTrue: 3}, // drop
	/* 5 */ bpf.LoadAbsolute{Off: 6, Size: 1},
	/* 6 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoRouting, SkipTrue: 1}, // accept
	/* 7 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoMH, SkipTrue: 1}, // drop
	/* 8 */ bpf.RetConstant{Val: 0x40000},
	/* 9 */ bpf.RetConstant{Val: 0},
}

// generator is many mobile nodes in one process: it sends whole Binding
// Update packets (source a care-of address, Home Address option) on a raw
// IPPROTO_RAW socket and reads the Binding Acknowledgements, addressed to
// care-of addresses the namespace does not hold, from an AF_PACKET socket.
// Both sockets are made in the generator's namespace and stay there. It is
// used from one goroutine and allocates nothing per packet.
type generator struct {
	sendFD, recvFD int
	ha             netip.Addr
	dst            unix.RawSockaddrInet6

	out  []byte
	bu   mh.BindingUpdate
	buf  []byte
	oob  []byte
	pkt  mh.Packet
	ba   mh.BindingAck
	poll [1]unix.PollFd

	// userStamps counts BAs whose receive time was taken in user space
	// because the kernel gave no timestamp.
	userStamps int
}

// ack is a received Binding Acknowledgement.
type ack struct {
	hoa    netip.Addr
	seq    uint16
	status mh.Status
	at     int64 // receive time, Unix ns (kernel timestamp when there is one)
}

func openGenerator(ns *netns.NS, ifname string, ha netip.Addr) (*generator, error) {
	index, err := ns.LinkIndex(ifname)
	if err != nil {
		return nil, err
	}
	g := &generator{sendFD: -1, recvFD: -1, ha: ha, out: make([]byte, 0, 256),
		buf: make([]byte, 2048), oob: make([]byte, 128)}
	g.dst = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ha.As16()}
	err = ns.Do(func() error { return g.open(index) })
	if err != nil {
		return nil, errors.Join(fmt.Errorf("generator sockets in %s: %w", ns.Name(), err), g.close())
	}
	g.poll[0] = unix.PollFd{Fd: int32(g.recvFD), Events: unix.POLLIN}
	return g, nil
}

func (g *generator) open(ifindex int) error {
	var err error
	// IPPROTO_RAW implies IPV6_HDRINCL: the packet goes out as built, with
	// a source address the namespace does not hold.
	if g.sendFD, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW); err != nil {
		return fmt.Errorf("raw send socket: %w", err)
	}
	// Protocol 0 receives nothing until the bind below, after the filter.
	if g.recvFD, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0); err != nil {
		return fmt.Errorf("af_packet socket: %w", err)
	}
	prog, err := bpf.Assemble(baFilter)
	if err != nil {
		return fmt.Errorf("assemble filter: %w", err)
	}
	raw := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		raw[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	if err := unix.SetsockoptSockFprog(g.recvFD, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(raw)), Filter: &raw[0]}); err != nil {
		return fmt.Errorf("attach filter: %w", err)
	}
	if err := unix.SetsockoptInt(g.recvFD, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	if unix.SetsockoptInt(g.recvFD, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, genRcvBuf) != nil {
		_ = unix.SetsockoptInt(g.recvFD, unix.SOL_SOCKET, unix.SO_RCVBUF, genRcvBuf)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: ifindex}
	if err := unix.Bind(g.recvFD, sa); err != nil {
		return fmt.Errorf("bind af_packet socket: %w", err)
	}
	return nil
}

// send sends a Binding Update (A and H flags) for hoa from coa and returns
// the time just before the packet was handed to the kernel, Unix ns.
func (g *generator) send(hoa, coa netip.Addr, seq uint16, lifetime mh.Lifetime) (int64, error) {
	g.bu = mh.BindingUpdate{Sequence: seq, Flags: mh.FlagA | mh.FlagH, Lifetime: lifetime}
	out, err := mh.AppendPacket(g.out[:0], &mh.Packet{Src: coa, Dst: g.ha, HomeAddress: hoa}, &g.bu)
	if err != nil {
		return 0, err
	}
	g.out = out
	at := time.Now().UnixNano()
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(g.sendFD), uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)),
		0, uintptr(unsafe.Pointer(&g.dst)), unsafe.Sizeof(g.dst))
	if e != 0 {
		return 0, fmt.Errorf("send binding update for %s: %w", hoa, e)
	}
	return at, nil
}

// receive returns the next Binding Acknowledgement, waiting up to wait;
// ok is false when none came. Other packets are skipped.
func (g *generator) receive(wait time.Duration) (a ack, ok bool, err error) {
	deadline := time.Now().Add(wait)
	for {
		n, oobn, e := g.recvmsg()
		switch {
		case e == unix.EAGAIN || e == unix.EINTR:
			left := time.Until(deadline)
			if left <= 0 {
				return ack{}, false, nil
			}
			g.poll[0].Revents = 0
			if _, err := unix.Poll(g.poll[:], int(min(left, 100*time.Millisecond)/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
				return ack{}, false, fmt.Errorf("poll: %w", err)
			}
			continue
		case e != 0:
			return ack{}, false, fmt.Errorf("receive: %w", e)
		}
		if a, ok := g.decode(n, oobn); ok {
			return a, true, nil
		}
	}
}

func (g *generator) recvmsg() (n, oobn int, e unix.Errno) {
	iov := unix.Iovec{Base: &g.buf[0]}
	iov.SetLen(len(g.buf))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &g.oob[0]}
	msg.SetControllen(len(g.oob))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(g.recvFD), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT)
	return int(r), int(msg.Controllen), e
}

// decode reads a BA out of the packet in buf[:n] with its control data.
func (g *generator) decode(n, oobn int) (ack, bool) {
	if n > len(g.buf) || g.pkt.Unmarshal(g.buf[:n]) != nil || g.pkt.Header.Type != mh.TypeBindingAck {
		return ack{}, false
	}
	if g.ba.Unmarshal(g.pkt.MH) != nil {
		return ack{}, false
	}
	a := ack{hoa: g.pkt.RoutingAddress, seq: g.ba.Sequence, status: g.ba.Status}
	if !a.hoa.IsValid() {
		a.hoa = g.pkt.Dst
	}
	if ts, ok := kernelStamp(g.oob[:oobn]); ok {
		a.at = ts
	} else {
		a.at = time.Now().UnixNano()
		g.userStamps++
	}
	return a, true
}

// kernelStamp finds the SCM_TIMESTAMPNS control message in oob.
func kernelStamp(oob []byte) (int64, bool) {
	tsLen := unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{})))
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		length := int(h.Len)
		if length < unix.SizeofCmsghdr || length > len(oob) {
			return 0, false
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && length >= tsLen {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			if ns := ts.Nano(); ns > 0 {
				return ns, true
			}
			return 0, false
		}
		oob = oob[min(unix.CmsgSpace(length-unix.CmsgLen(0)), len(oob)):]
	}
	return 0, false
}

func (g *generator) close() error {
	var errs []error
	for _, fd := range []*int{&g.sendFD, &g.recvFD} {
		if *fd >= 0 {
			errs = append(errs, unix.Close(*fd))
			*fd = -1
		}
	}
	return errors.Join(errs...)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
