package udpflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// ErrClosed is returned by Close when it was called before.
var ErrClosed = errors.New("flow receiver closed")

// Arrival is one datagram of a flow as received.
type Arrival struct {
	Flow uint32 // the flow's ID
	Seq  uint64
	// Sent and Received are Unix nanoseconds: the sender's clock just
	// before sendto, the receiver's just after recvfrom returned.
	Sent, Received int64
}

// OneWay is the datagram's one-way latency.
func (a Arrival) OneWay() time.Duration { return time.Duration(a.Received - a.Sent) }

// Of returns the arrivals of flow id, in the order they came.
func Of(arrivals []Arrival, id uint32) []Arrival {
	return slices.DeleteFunc(slices.Clone(arrivals), func(a Arrival) bool { return a.Flow != id })
}

// Mode is how a Receiver waits for datagrams.
type Mode int

const (
	// Block sleeps in recvfrom until a datagram comes. Waking the thread
	// costs tens of microseconds on an idle CPU (more in a VM), which
	// then shows in the one-way latency.
	Block Mode = iota
	// BusyPoll spins on non-blocking recvfrom, keeping one CPU busy, so
	// a datagram is seen as soon as the kernel queues it: for latency.
	BusyPoll
)

// recvPoll is how often a blocked receiver looks whether it was closed.
const recvPoll = 20 * time.Millisecond

// receiveBuffer is the receiving socket's buffer (SO_RCVBUFFORCE), enough
// for a second of a 10,000 packets/s flow that the reader falls behind on.
const receiveBuffer = 8 << 20

// ReceiveSpec describes what a Receiver receives, and how.
type ReceiveSpec struct {
	// Addr is where the socket is bound; a zero address: any of the
	// namespace's.
	Addr netip.AddrPort
	// IDs are the flows recorded; datagrams of others are dropped.
	IDs []uint32
	// Mode is how the receiver waits.
	Mode Mode
	// Capacity is the number of arrivals expected (it sizes the record
	// up front).
	Capacity int
}

// Receiver records the datagrams of some flows arriving on a UDP socket.
type Receiver struct {
	fd   int
	spec ReceiveSpec
	stop atomic.Bool
	done chan struct{}

	mu       sync.Mutex
	arrivals []Arrival
	err      error
}

// Listen opens a UDP socket inside ns as spec says and records the
// datagrams of spec.IDs that arrive on it, until Close.
func Listen(ns *netns.NS, spec ReceiveSpec) (*Receiver, error) {
	fd, err := socket(ns, spec.Addr, true)
	if err != nil {
		return nil, fmt.Errorf("flow receiver on %v: %w", spec.Addr, err)
	}
	r := &Receiver{fd: fd, spec: spec, done: make(chan struct{}), arrivals: make([]Arrival, 0, spec.Capacity)}
	go r.run()
	return r, nil
}

func (r *Receiver) run() {
	defer close(r.done)
	defer lockThread(0)()
	buf := make([]byte, 65536)
	flags := 0
	if r.spec.Mode == BusyPoll {
		flags = unix.MSG_DONTWAIT
	}
	for !r.stop.Load() {
		n, _, err := unix.Recvfrom(r.fd, buf, flags)
		now := time.Now().UnixNano()
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			r.mu.Lock()
			r.err = fmt.Errorf("receive flow: %w", err)
			r.mu.Unlock()
			return
		}
		r.record(buf[:n], now)
	}
}

func (r *Receiver) record(b []byte, now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(b) < HeaderLen || [4]byte(b[:4]) != magic || !slices.Contains(r.spec.IDs, binary.BigEndian.Uint32(b[4:])) {
		return // another flow's, or not a flow's at all
	}
	r.arrivals = append(r.arrivals, Arrival{
		Flow:     binary.BigEndian.Uint32(b[4:]),
		Seq:      binary.BigEndian.Uint64(b[8:]),
		Sent:     int64(binary.BigEndian.Uint64(b[16:])),
		Received: now,
	})
}

// Count is the number of datagrams of the flows received so far.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrivals)
}

// Close stops receiving and returns the arrivals in the order they came.
// Datagrams still in flight are lost to it: let the flows drain first.
func (r *Receiver) Close() ([]Arrival, error) {
	if r.stop.Swap(true) {
		return nil, ErrClosed
	}
	<-r.done
	err := unix.Close(r.fd)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("close flow receiver: %w", err)
	}
	return r.arrivals, errors.Join(r.err, err)
}
