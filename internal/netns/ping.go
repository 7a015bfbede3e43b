package netns

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// DefaultPingTimeout bounds Ping when ctx has no earlier deadline.
const DefaultPingTimeout = 2 * time.Second

// SeriesGrace is how long PingEvery waits for replies after its last request.
const SeriesGrace = time.Second

// ErrNoReply is returned by Ping when no matching echo reply arrived in time.
var ErrNoReply = errors.New("no echo reply")

// echoData is the payload of every echo request.
var echoData = []byte("mip6mesh")

// Ping sends one ICMPv6 echo request from src to dst inside the namespace,
// waits for the matching reply and returns the round-trip time. A zero src
// lets the kernel choose the source address. It waits until ctx is done or
// DefaultPingTimeout has passed, whichever comes first. It uses a raw
// ICMPv6 socket (needs CAP_NET_RAW), so it depends neither on a ping
// binary nor on net.ipv4.ping_group_range.
func (ns *NS) Ping(ctx context.Context, src, dst netip.Addr) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultPingTimeout)
	defer cancel()
	s, err := ns.newEchoSession(ctx, src, dst)
	if err != nil {
		return 0, err
	}
	defer s.close()
	seq := int(random16())
	sent := time.Now()
	if err := s.send(seq); err != nil {
		return 0, s.wrap(err)
	}
	for {
		got, at, err := s.receive()
		if err != nil {
			return 0, s.wrap(err)
		}
		if got == seq {
			return at.Sub(sent), nil
		}
	}
}

// Echo is one request of a series and what became of it.
type Echo struct {
	Seq     int
	Sent    time.Time
	Replied bool
	RTT     time.Duration // zero when no reply came
	Err     error         // why the request could not be sent (ENOBUFS while a link is down, ...)
}

// Series is what PingEvery saw, one Echo per request in the order sent.
type Series []Echo

// Lost counts the requests that got no reply.
func (s Series) Lost() int {
	n := 0
	for _, e := range s {
		if !e.Replied {
			n++
		}
	}
	return n
}

// Outage is the longest stretch of unanswered requests, measured from the
// sending of its first request to the sending of the next answered one
// (or of the series' last request when none was answered after it): at a
// fixed interval, lost requests times the interval.
func (s Series) Outage() time.Duration {
	var longest time.Duration
	start := -1
	for i, e := range s {
		switch {
		case !e.Replied && start < 0:
			start = i
		case e.Replied && start >= 0:
			longest = max(longest, e.Sent.Sub(s[start].Sent))
			start = -1
		}
	}
	if start >= 0 {
		longest = max(longest, s[len(s)-1].Sent.Sub(s[start].Sent))
	}
	return longest
}

// RTTs returns the smallest, mean and largest round-trip time of the
// answered requests (zeros when none was answered).
func (s Series) RTTs() (lo, mean, hi time.Duration) {
	var sum time.Duration
	n := 0
	for _, e := range s {
		if !e.Replied {
			continue
		}
		if n == 0 || e.RTT < lo {
			lo = e.RTT
		}
		hi = max(hi, e.RTT)
		sum += e.RTT
		n++
	}
	if n > 0 {
		mean = sum / time.Duration(n)
	}
	return lo, mean, hi
}

// PingEvery sends count echo requests from src to dst, one every interval,
// over one socket, and waits up to SeriesGrace after the last one for
// outstanding replies. A request the kernel refuses to send counts as lost
// (Echo.Err says why) and the series goes on, as ping(8) does. If ctx ends
// first it stops sending and returns the requests sent so far with ctx's
// error.
func (ns *NS) PingEvery(ctx context.Context, src, dst netip.Addr, interval time.Duration, count int) (Series, error) {
	if count < 1 || count > 0x10000 || interval <= 0 {
		return nil, fmt.Errorf("ping series: want 1 to 65536 requests and a positive interval, got %d every %v", count, interval)
	}
	s, err := ns.newEchoSession(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rec := &recorder{series: make(Series, 0, count), answered: make(chan struct{})}
	receiverDone := make(chan struct{})
	go func() {
		defer close(receiverDone)
		s.collect(rec)
	}()
	err = s.sendEvery(ctx, rec, interval, count)
	if err == nil {
		grace := time.NewTimer(SeriesGrace)
		select {
		case <-rec.answered:
		case <-grace.C:
		case <-ctx.Done():
			err = s.wrap(ctx.Err())
		}
		grace.Stop()
	}
	s.close() // ends the receiver's read
	<-receiverDone
	return rec.result(), err
}

// recorder is the series being sent, shared by the sender and the receiver.
type recorder struct {
	mu       sync.Mutex
	series   Series
	replies  int
	answered chan struct{} // closed when every request has its reply
}

func (r *recorder) sent(seq int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.series = append(r.series, Echo{Seq: seq, Sent: at})
}

func (r *recorder) failed(seq int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.series[seq].Err = err
}

func (r *recorder) replied(seq int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq >= len(r.series) || r.series[seq].Replied {
		return // a duplicate, or not one of ours
	}
	e := &r.series[seq]
	e.Replied, e.RTT = true, at.Sub(e.Sent)
	r.replies++
	if r.replies == cap(r.series) {
		close(r.answered)
	}
}

func (r *recorder) result() Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.series
}

// sendEvery sends the requests of a series and records each one.
func (s *echoSession) sendEvery(ctx context.Context, rec *recorder, interval time.Duration, count int) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for seq := range count {
		if seq > 0 {
			select {
			case <-ctx.Done():
				return s.wrap(ctx.Err())
			case <-ticker.C:
			}
		}
		rec.sent(seq, time.Now())
		if err := s.send(seq); err != nil {
			rec.failed(seq, err)
		}
	}
	return nil
}

// collect records replies to the series until the socket is closed.
func (s *echoSession) collect(rec *recorder) {
	for {
		seq, at, err := s.receive()
		if err != nil {
			return
		}
		rec.replied(seq, at)
	}
}

// echoSession is a raw ICMPv6 socket in a namespace exchanging echo
// messages with one peer under one identifier.
type echoSession struct {
	ns       *NS
	conn     *icmp.PacketConn
	src, dst netip.Addr
	id       int
	ctx      context.Context
	stop     func() bool // unregisters the ctx watcher
	once     sync.Once
}

func (ns *NS) newEchoSession(ctx context.Context, src, dst netip.Addr) (*echoSession, error) {
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
	s := &echoSession{ns: ns, conn: conn, src: src, dst: dst, id: int(random16()), ctx: ctx}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(d) // a fresh socket takes a deadline
	}
	// Cancellation interrupts a blocked read through a past deadline.
	s.stop = context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	return s, nil
}

// random16 returns a random echo identifier or sequence number.
func random16() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return binary.BigEndian.Uint16(b[:])
}

func (s *echoSession) close() {
	s.once.Do(func() {
		s.stop()
		_ = s.conn.Close() // read-only use: nothing to flush
	})
}

// wrap says which ping failed; a read that timed out becomes ErrNoReply.
func (s *echoSession) wrap(err error) error {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		err = ErrNoReply
		if cause := context.Cause(s.ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
			err = cause
		}
	}
	return fmt.Errorf("ping %s from %s in %s: %w", s.dst, s.srcString(), s.ns.name, err)
}

func (s *echoSession) srcString() string {
	if s.src.IsValid() {
		return s.src.String()
	}
	return "any address"
}

func (s *echoSession) send(seq int) error {
	msg := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: s.id, Seq: seq, Data: echoData}}
	// The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets.
	wire, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	_, err = s.conn.WriteTo(wire, &net.IPAddr{IP: net.IP(s.dst.AsSlice())})
	return err
}

// receive returns the sequence number of the next echo reply of this
// session and when it arrived, skipping every other ICMPv6 message.
func (s *echoSession) receive() (seq int, at time.Time, err error) {
	buf := make([]byte, 1500)
	for {
		n, peer, err := s.conn.ReadFrom(buf)
		if err != nil {
			return 0, time.Time{}, err
		}
		at := time.Now()
		if seq, ok := s.replySeq(buf[:n], peer); ok {
			return seq, at, nil
		}
	}
}

func (s *echoSession) replySeq(b []byte, peer net.Addr) (int, bool) {
	ipAddr, ok := peer.(*net.IPAddr)
	if !ok {
		return 0, false
	}
	from, ok := netip.AddrFromSlice(ipAddr.IP)
	if !ok || from.Unmap() != s.dst {
		return 0, false
	}
	msg, err := icmp.ParseMessage(ipv6.ICMPTypeEchoReply.Protocol(), b)
	if err != nil || msg.Type != ipv6.ICMPTypeEchoReply {
		return 0, false
	}
	got, ok := msg.Body.(*icmp.Echo)
	if !ok || got.ID != s.id {
		return 0, false
	}
	return got.Seq, true
}
