package mhio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Mode is how a Conn receives Mobility Header packets.
type Mode string

const (
	// ModeAFPacket is for kernels without CONFIG_IPV6_MIP6. Packets are read
	// whole from AF_PACKET sockets; an nftables table stops the kernel from
	// answering packets with a Home Address option or a type 2 routing
	// header with ICMPv6 Parameter Problem; a raw IPPROTO_MH socket is held
	// open (with a filter that drops everything) so that the kernel does not
	// answer plain Mobility Header packets with "unrecognized next header".
	ModeAFPacket Mode = "af_packet"
	// ModeRawMH is for kernels with CONFIG_IPV6_MIP6: a raw IPPROTO_MH
	// socket, the packet rebuilt from its ancillary data. The kernel itself
	// then checks the Home Address option and the type 2 routing header,
	// and delivers such packets only when an xfrm state allows them (see
	// the package documentation).
	ModeRawMH Mode = "raw_mh"
)

// Config says what a Conn receives and how it names its kernel state.
type Config struct {
	// Instance names the nftables table, "mip6mesh-<Instance>": 1 to 32
	// characters from [a-z0-9-]. It must be unique in the network
	// namespace: Open replaces a table of the same name.
	Instance string
	// Interfaces to receive on; empty means all.
	Interfaces []string
	// Mode forces a mode; empty means the one DetectMode returns.
	Mode Mode
	// Logger gets the mode chosen at Open and operational events; nil
	// discards them.
	Logger *slog.Logger
}

// Errors returned by this package, usable with errors.Is. A Conn used after
// Close returns net.ErrClosed.
var (
	ErrInvalidConfig = errors.New("invalid mhio config")
	ErrInvalidPacket = errors.New("invalid packet")
	ErrRateLimited   = errors.New("icmpv6 error rate limited")
)

// MinReceiveBuffer is the smallest buf Receive takes: the IPv6 minimum MTU.
const MinReceiveBuffer = 1280

// TablePrefix starts the name of the nftables table of every Conn.
const TablePrefix = "mip6mesh-"

var instancePattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

func (cfg *Config) validate() error {
	if !instancePattern.MatchString(cfg.Instance) {
		return fmt.Errorf("%w: instance %q: want %s", ErrInvalidConfig, cfg.Instance, instancePattern)
	}
	switch cfg.Mode {
	case "", ModeAFPacket, ModeRawMH:
	default:
		return fmt.Errorf("%w: mode %q: want %q or %q", ErrInvalidConfig, cfg.Mode, ModeAFPacket, ModeRawMH)
	}
	for _, name := range cfg.Interfaces {
		if name == "" {
			return fmt.Errorf("%w: empty interface name", ErrInvalidConfig)
		}
	}
	return nil
}

// receiver is the receive path of one Mode. Its methods run under
// Conn.recvMu.
type receiver interface {
	// recv reads one pending packet addressed to this node into buf
	// without blocking and returns its length and the index of the
	// interface it arrived on, or ok false when none is pending. Packets
	// that are not for this node are consumed silently.
	recv(buf []byte) (n, ifindex int, ok bool)
	// pollFDs are the descriptors to wait on when recv finds nothing.
	pollFDs() []int32
	// polled is called after every wait with the revents of pollFDs.
	polled(fds []unix.PollFd)
	close() error
}

// Conn sends and receives Mobility Header packets in one network namespace.
// Send and SendParameterProblem may be called concurrently with each other
// and with Receive; concurrent Receive calls take turns.
type Conn struct {
	mode  Mode
	log   *slog.Logger
	table string // nftables table (af_packet mode), "" once removed
	netns int    // the network namespace Open ran in, for nftables at Close

	sendMu sync.RWMutex // read-held while sending; Close write-holds it
	sendFD int          // socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)

	wakeMu sync.Mutex
	wakeFD int // eventfd that ends a wait: ctx done or Close

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	recvMu    sync.Mutex // one Receive at a time; Close waits for it
	rx        receiver
	pollFDs   []unix.PollFd // rx.pollFDs() then wakeFD
	wakeBuf   [8]byte
	watchDone <-chan struct{} // Done of the context whose AfterFunc is registered
	stopWatch func() bool
	// receivedOn is the ingress interface of the last packet Receive
	// returned; atomic so that a misused ReceivedOn is merely stale, not a
	// data race.
	receivedOn atomic.Int64

	limiter tokenBucket
}

// Open detects the mode (unless cfg.Mode sets it), logs it with the reason,
// and sets up the sockets and, in af_packet mode, the nftables table. It
// works in the network namespace of the calling thread.
func Open(ctx context.Context, cfg Config) (_ *Conn, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	detected, why := DetectMode()
	mode := cfg.Mode
	if mode == "" {
		mode = detected
	} else {
		why = "set in the configuration; detected " + string(detected) + ": " + why
	}
	c := &Conn{mode: mode, log: log, netns: -1, sendFD: -1, wakeFD: -1}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Close())
		}
	}()
	if err := c.openCommon(); err != nil {
		return nil, err
	}
	ifaces, err := resolveInterfaces(cfg.Interfaces)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch mode {
	case ModeAFPacket:
		rx, err := openAFPacket(log, ifaces)
		if err != nil {
			return nil, err
		}
		c.rx = rx
		if err := installTable(c.netns, TablePrefix+cfg.Instance, log); err != nil {
			return nil, err
		}
		c.table = TablePrefix + cfg.Instance
	case ModeRawMH:
		rx, err := openRawMH(log, ifaces)
		if err != nil {
			return nil, err
		}
		c.rx = rx
	}
	for _, fd := range c.rx.pollFDs() {
		c.pollFDs = append(c.pollFDs, unix.PollFd{Fd: fd, Events: unix.POLLIN})
	}
	c.pollFDs = append(c.pollFDs, unix.PollFd{Fd: int32(c.wakeFD), Events: unix.POLLIN})
	log.Info("mobility header i/o open", "mode", mode, "reason", why,
		"interfaces", interfaceNames(ifaces), "nft_table", c.table)
	return c, nil
}

func (c *Conn) openCommon() error {
	var err error
	if c.netns, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return fmt.Errorf("open own network namespace: %w", err)
	}
	if c.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fmt.Errorf("eventfd: %w", err)
	}
	// IPPROTO_RAW implies IPV6_HDRINCL: the kernel sends the packet as given.
	if c.sendFD, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW); err != nil {
		return fmt.Errorf("send socket (AF_INET6, SOCK_RAW, IPPROTO_RAW): %w", err)
	}
	return nil
}

// Mode is the mode the Conn works in.
func (c *Conn) Mode() Mode { return c.mode }

// Receive blocks until the next Mobility Header packet addressed to this
// node, stores it in buf and decodes it into p (p.MH aliases buf). It
// returns the packet's length in buf, also when decoding fails: the error is
// then the *mh.Error, p holds the fields decoded so far, and buf[:n] is the
// invoking packet for SendParameterProblem. A packet longer than buf is
// dropped with a warning: 64 KiB always suffice, the link MTU usually does;
// buf must hold at least MinReceiveBuffer octets. ctx being done or Close
// ends the wait. Receive is meant for one goroutine: concurrent calls take
// turns, and one waiting for its turn does not see its ctx end.
//
// In af_packet mode buf holds the packet as received; in raw_mh mode the
// packet is rebuilt from what the kernel reports, in its on-the-wire form.
// Either way p.Src is the care-of address and p.HomeAddress the home
// address of a packet with a Home Address option, and p.Dst the care-of
// address and p.RoutingAddress the home address of one with a type 2
// routing header.
func (c *Conn) Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error) {
	if len(buf) < MinReceiveBuffer {
		return 0, fmt.Errorf("receive buffer of %d octets, want %d: %w", len(buf), MinReceiveBuffer, io.ErrShortBuffer)
	}
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	c.receivedOn.Store(0)
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	c.watch(ctx)
	for {
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if n, ifindex, ok := c.rx.recv(buf); ok {
			c.receivedOn.Store(int64(ifindex))
			return n, p.Unmarshal(buf[:n])
		}
		if err := c.wait(); err != nil {
			return 0, err
		}
	}
}

// ReceivedOn is the index of the interface the packet last returned by
// Receive arrived on, 0 when Receive returned no packet. It is valid after
// Receive returned, called from the goroutine that called Receive: a
// concurrent Receive replaces it. It lets a caller tie a packet to its
// link, which its addresses alone do not: anyone may forge a source
// address, but not the interface the kernel received the packet on.
func (c *Conn) ReceivedOn() int { return int(c.receivedOn.Load()) }

// watch makes ctx's cancellation end a wait. The registration is kept
// across calls with the same context so that Receive does not allocate.
func (c *Conn) watch(ctx context.Context) {
	done := ctx.Done()
	if done == c.watchDone {
		return
	}
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
	c.watchDone = done
	if done != nil {
		c.stopWatch = context.AfterFunc(ctx, c.wake)
	}
}

// wait blocks until a receive socket is readable or wake is called.
func (c *Conn) wait() error {
	for i := range c.pollFDs {
		c.pollFDs[i].Revents = 0
	}
	_, err := unix.Poll(c.pollFDs, -1)
	if err == unix.EINTR {
		return nil
	}
	if err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	last := len(c.pollFDs) - 1
	if c.pollFDs[last].Revents != 0 {
		_, _ = unix.Read(c.wakeFD, c.wakeBuf[:]) // reset the eventfd
	}
	c.rx.polled(c.pollFDs[:last])
	return nil
}

func (c *Conn) wake() {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if c.wakeFD < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(c.wakeFD, one[:])
}

// Send sends pkt, a whole IPv6 packet (as built by mh.AppendPacket), to the
// destination in its IPv6 header. The kernel adds nothing: routing headers
// and destination options go out as given. The destination must not be
// link-local.
func (c *Conn) Send(pkt []byte) error {
	if len(pkt) < ipv6HeaderLen || pkt[0]>>4 != 6 {
		return fmt.Errorf("%w: not an ipv6 packet (%d octets)", ErrInvalidPacket, len(pkt))
	}
	c.sendMu.RLock()
	defer c.sendMu.RUnlock()
	if c.closed.Load() {
		return net.ErrClosed
	}
	if err := sendTo(c.sendFD, pkt, [16]byte(pkt[24:40])); err != 0 {
		return fmt.Errorf("send to %s: %w", netipFrom16(pkt[24:40]), err)
	}
	return nil
}

// Close closes the sockets and removes the nftables table, leaving no kernel
// state behind. A Receive in progress returns net.ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.wake()
		c.recvMu.Lock() // waits for a Receive to leave
		var errs []error
		if c.stopWatch != nil {
			c.stopWatch()
		}
		if c.rx != nil {
			errs = append(errs, c.rx.close())
		}
		c.recvMu.Unlock()

		c.sendMu.Lock()
		errs = append(errs, closeFD(&c.sendFD))
		c.sendMu.Unlock()
		c.wakeMu.Lock()
		errs = append(errs, closeFD(&c.wakeFD))
		c.wakeMu.Unlock()

		if c.table != "" {
			if err := removeTable(c.netns, c.table); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, closeFD(&c.netns))
		c.closeErr = errors.Join(errs...)
		c.log.Info("mobility header i/o closed", "mode", c.mode, "nft_table_removed", c.table, "error", c.closeErr)
	})
	return c.closeErr
}

func closeFD(fd *int) error {
	if *fd < 0 {
		return nil
	}
	err := unix.Close(*fd)
	*fd = -1
	return err
}
