package udpflow

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// HeaderLen is the flow's header at the start of every datagram: magic
// "m6fl", flow id (4 bytes), sequence number (8), send time in Unix
// nanoseconds (8), all big endian. The rest of the payload is zero.
const HeaderLen = 24

var magic = [4]byte{'m', '6', 'f', 'l'}

// ErrSpec is returned by Send and Listen for a flow they cannot handle.
var ErrSpec = errors.New("bad flow spec")

// timerSlack is the sending thread's timer slack: nanosleep wakes within
// it of the deadline (the default is 50 µs).
const timerSlack = 1000 // ns

// Spec describes a flow to send.
type Spec struct {
	// Src is the source address; zero lets the kernel choose. A mobile
	// node's traffic goes through the reverse tunnel only from its home
	// address.
	Src netip.Addr
	// Dst is where the flow goes.
	Dst netip.AddrPort
	// ID tells this flow's datagrams from any other's; NewID makes one.
	ID uint32
	// Rate is in packets per second; Count the number of packets.
	Rate, Count int
	// Size is the UDP payload in bytes, HeaderLen at least; 0 means
	// HeaderLen.
	Size int
}

func (s Spec) validate() error {
	switch {
	case !s.Dst.IsValid() || !s.Dst.Addr().Is6() || s.Dst.Addr().Is4In6():
		return fmt.Errorf("%w: destination %v is not an IPv6 address and port", ErrSpec, s.Dst)
	case s.Rate <= 0 || s.Count <= 0:
		return fmt.Errorf("%w: rate %d/s, count %d: want both positive", ErrSpec, s.Rate, s.Count)
	case s.Size != 0 && (s.Size < HeaderLen || s.Size > 65000):
		return fmt.Errorf("%w: size %d: want %d to 65000", ErrSpec, s.Size, HeaderLen)
	}
	return nil
}

// NewID returns a random flow id.
func NewID() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return binary.BigEndian.Uint32(b[:])
}

// Sent is what Send did with one flow.
type Sent struct {
	// Start is when the first packet was due, End when the last one was
	// handed to the kernel.
	Start, End time.Time
	// Packets is how many sequence numbers were used: 0 to Packets-1.
	Packets int
	// At holds when each packet was handed to the kernel, in Unix
	// nanoseconds, indexed by sequence number.
	At []int64
	// Errors counts the packets the kernel refused (ENETUNREACH while a
	// link is down, ...); they are part of Packets. FirstError is the
	// first refusal.
	Errors     int
	FirstError error
}

// Send sends the flows from inside ns, each from a socket of its own, and
// returns when the last packet is out or ctx ends (then with ctx's error
// and what was sent so far). Several flows are interleaved packet by
// packet, so they see the same conditions; they must have the same Rate
// and Count. Packet i of every flow is due at i/Rate after the start; a
// late packet goes out at once, so a stalled sender catches up in a burst
// rather than sending fewer packets.
func Send(ctx context.Context, ns *netns.NS, specs ...Spec) ([]Sent, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w: no flow", ErrSpec)
	}
	for _, s := range specs {
		if err := s.validate(); err != nil {
			return nil, err
		}
		if s.Rate != specs[0].Rate || s.Count != specs[0].Count {
			return nil, fmt.Errorf("%w: interleaved flows need the same rate and count", ErrSpec)
		}
	}
	flows := make([]*sender, 0, len(specs))
	defer func() {
		for _, f := range flows {
			_ = unix.Close(f.fd) // write-only sockets: nothing to flush
		}
	}()
	for _, s := range specs {
		fd, err := socket(ns, netip.AddrPortFrom(s.Src, 0), false)
		if err != nil {
			return nil, fmt.Errorf("flow to %v: %w", s.Dst, err)
		}
		flows = append(flows, newSender(fd, s))
	}
	errc := make(chan error, 1)
	go func() {
		defer lockThread(timerSlack)()
		errc <- sendPaced(ctx, flows, specs[0].Rate, specs[0].Count)
	}()
	err := <-errc
	sent := make([]Sent, len(flows))
	for i, f := range flows {
		sent[i] = f.sent
	}
	return sent, err
}

// sender is one flow being sent.
type sender struct {
	fd   int
	spec Spec
	dst  unix.Sockaddr
	buf  []byte
	sent Sent
}

func newSender(fd int, spec Spec) *sender {
	buf := make([]byte, max(spec.Size, HeaderLen))
	copy(buf, magic[:])
	binary.BigEndian.PutUint32(buf[4:], spec.ID)
	return &sender{fd: fd, spec: spec, dst: sockaddr(spec.Dst), buf: buf, sent: Sent{At: make([]int64, 0, spec.Count)}}
}

// sendPaced sends count packets of every flow, rate per second each,
// spreading the flows' packets evenly over each interval.
func sendPaced(ctx context.Context, flows []*sender, rate, count int) error {
	step := time.Second / time.Duration(rate*len(flows))
	start := time.Now()
	for _, f := range flows {
		f.sent.Start = start
	}
	defer func() {
		for _, f := range flows {
			f.sent.End = time.Now()
		}
	}()
	for i := range count * len(flows) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if wait := time.Until(start.Add(time.Duration(i) * step)); wait > 0 {
			ts := unix.NsecToTimespec(wait.Nanoseconds())
			_ = unix.Nanosleep(&ts, nil) // EINTR: sent a little early
		}
		flows[i%len(flows)].send(i / len(flows))
	}
	return nil
}

func (f *sender) send(seq int) {
	now := time.Now()
	binary.BigEndian.PutUint64(f.buf[8:], uint64(seq))
	binary.BigEndian.PutUint64(f.buf[16:], uint64(now.UnixNano()))
	f.sent.Packets++
	f.sent.At = append(f.sent.At, now.UnixNano())
	if err := unix.Sendto(f.fd, f.buf, 0, f.dst); err != nil {
		f.sent.Errors++
		if f.sent.FirstError == nil {
			f.sent.FirstError = fmt.Errorf("send packet %d to %v: %w", seq, f.spec.Dst, err)
		}
	}
}

// lockThread locks the calling goroutine to its OS thread and, if slack
// is not 0, sets the thread's timer slack (ns, best effort: without it the
// flow is only paced less precisely); the returned function puts the slack
// back and unlocks. The thread must survive (never exit locked): a thread
// that exits fires the parent-death signal (Pdeathsig) of every child
// process it forked, and the lab's daemons have one.
//
// (Real-time scheduling of the flow's threads was tried: on a small,
// busy machine it starves the daemons and makes handovers slower.)
func lockThread(slack uintptr) (unlock func()) {
	runtime.LockOSThread()
	if slack == 0 {
		return runtime.UnlockOSThread
	}
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || unix.Prctl(unix.PR_SET_TIMERSLACK, slack, 0, 0, 0) != nil {
		return runtime.UnlockOSThread
	}
	return func() {
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0) // raising the slack back is always allowed
		runtime.UnlockOSThread()
	}
}
