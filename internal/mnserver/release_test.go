package mnserver_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

var (
	homeAddr  = netip.MustParseAddr("2001:db8:1::100")
	homeAgent = netip.MustParseAddr("2001:db8:1::1")
	atA       = dataplane.Attachment{CoA: netip.MustParseAddr("2001:db8:a::2"), Interface: "m1", Router: netip.MustParseAddr("2001:db8:a::1")}
	atB       = dataplane.Attachment{CoA: netip.MustParseAddr("2001:db8:b::2"), Interface: "m2", Router: netip.MustParseAddr("2001:db8:b::1")}
	t0        = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// waitFor bounds waits for the Node's goroutines; it is a deadline for a
// broken run, not a timing.
const waitFor = 5 * time.Second

// TestPreviousCareOfReleasedWhenHomeAgentBindsTheNewOne: after a move with
// both links up, the previous care-of address stays in the data plane
// until the Binding Acknowledgement for the new one arrives.
func TestPreviousCareOfReleasedWhenHomeAgentBindsTheNewOne(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.attach(atB)
	if got := r.dp.held(); len(got) != 1 || got[0] != atA.CoA {
		t.Fatalf("after the move the data plane holds %v, want the previous care-of address %s", got, atA.CoA)
	}
	r.dp.allowRelease()
	r.ack(atB.CoA)
	r.awaitReleased(atA.CoA)
	r.assertLogged("released care-of address", "care_of="+atA.CoA.String(), "reason=\"home agent bound the new care-of address\"")
}

// TestPreviousCareOfReleasedAtOnceWhenItsLinkIsGone: a move caused by the
// loss of the previous link releases its care-of address without waiting.
func TestPreviousCareOfReleasedAtOnceWhenItsLinkIsGone(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.linkGone(atA)
	r.dp.allowRelease()
	r.attach(atB)
	r.awaitReleased(atA.CoA)
	r.assertLogged("released care-of address", "reason=\"interface gone\"")
}

// TestPreviousCareOfReleasedWhenNoAckComes: without a Binding
// Acknowledgement the previous care-of address goes after ReleaseAfter.
func TestPreviousCareOfReleasedWhenNoAckComes(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.attach(atB)
	r.clk.Advance(mnserver.DefaultReleaseAfter - time.Millisecond)
	r.dp.allowRelease()
	deadline := time.Now().Add(waitFor)
	for len(r.dp.releases()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("previous care-of address not released after %v", mnserver.DefaultReleaseAfter)
		}
		r.clk.Advance(time.Millisecond) // the timer may be armed after the first Advance
		time.Sleep(time.Millisecond)
	}
	r.awaitReleased(atA.CoA)
	r.assertLogged("released care-of address", "reason=\"no binding acknowledgement in time\"")
}

// TestMovingBackKeepsTheAddressAndReleasesTheOther: A -> B -> A before any
// BA: A is current again and must stay; B goes once A is acknowledged.
func TestMovingBackKeepsTheAddressAndReleasesTheOther(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.attach(atB)
	r.attach(atA)
	r.dp.allowRelease()
	r.ack(atA.CoA)
	r.awaitReleased(atB.CoA)
	if got := r.dp.releases(); len(got) != 1 {
		t.Errorf("releases %v, want only %s", got, atB.CoA)
	}
}

// TestCloseStopsReleasing: Close with a previous care-of address held
// returns without releasing it (the data plane's Close removes it), leaves
// no goroutine (checked at cleanup), and a later Attach does not block but
// says the registration is closed.
func TestCloseStopsReleasing(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.attach(atB)
	r.node.Close()
	r.node.Close()
	if err := r.node.Attach(t.Context(), atA); !errors.Is(err, mobilenode.ErrClosed) {
		t.Fatalf("Attach after Close = %v, want mobilenode.ErrClosed", err)
	}
	if got := r.dp.releases(); len(got) != 0 {
		t.Errorf("released %v at Close", got)
	}
}

// rig is a Node on a fake clock, with a fake data plane and connection.
type rig struct {
	t    *testing.T
	clk  *clock.Fake
	dp   *fakeDataPlane
	conn *fakeConn
	node *mnserver.Node
	log  *syncBuffer

	mu   sync.Mutex
	gone map[netip.Addr]bool
}

func newRig(t *testing.T) *rig {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	r := &rig{
		t: t, clk: clock.NewFake(t0), dp: newFakeDataPlane(t), log: &syncBuffer{},
		conn: &fakeConn{sent: make(chan sentBU, 64), in: make(chan []byte)}, gone: map[netip.Addr]bool{},
	}
	node, err := mnserver.New(mnserver.Config{
		Conn: r.conn, DataPlane: r.dp,
		Logger:       slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registration: mobilenode.Config{HomeAddress: homeAddr, HomeAgent: homeAgent, Sequence: 100, Clock: r.clk},
		LinkHolds:    r.linkHolds,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.node = node
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- node.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		node.Close()
		if t.Failed() {
			t.Logf("node log:\n%s", r.log)
		}
	})
	return r
}

func (r *rig) attach(at dataplane.Attachment) {
	r.t.Helper()
	if err := r.node.Attach(r.t.Context(), at); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) linkHolds(at dataplane.Attachment) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.gone[at.CoA]
}

func (r *rig) linkGone(at dataplane.Attachment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone[at.CoA] = true
}

// ack waits for the next BU from coa and answers it with an accepted BA.
func (r *rig) ack(coa netip.Addr) {
	r.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case bu := <-r.conn.sent:
			if bu.coa != coa {
				continue
			}
			ba := &mh.BindingAck{Sequence: bu.seq, Lifetime: mh.LifetimeOf(time.Minute)}
			pkt, err := mh.AppendPacket(nil, &mh.Packet{Src: homeAgent, Dst: coa, RoutingAddress: homeAddr}, ba)
			if err != nil {
				r.t.Fatal(err)
			}
			r.conn.in <- pkt
			r.awaitBound(coa)
			return
		case <-timeout:
			r.t.Fatalf("no binding update from %s", coa)
		}
	}
}

func (r *rig) awaitBound(coa netip.Addr) {
	r.t.Helper()
	deadline := time.Now().Add(waitFor)
	for r.node.Status().BoundCareOf != coa {
		if time.Now().After(deadline) {
			r.t.Fatalf("not bound at %s: %+v", coa, r.node.Status())
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *rig) awaitReleased(coa netip.Addr) {
	r.t.Helper()
	select {
	case got := <-r.dp.released:
		if got != coa {
			r.t.Errorf("released %s, want %s", got, coa)
		}
	case <-time.After(waitFor):
		r.t.Fatalf("%s not released; data plane holds %v", coa, r.dp.held())
	}
}

// assertLogged waits for a log line holding every part (the log is
// written just after the release).
func (r *rig) assertLogged(parts ...string) {
	r.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !r.log.hasLine(parts) {
		if time.Now().After(deadline) {
			r.t.Fatalf("no log line with %q in:\n%s", parts, r.log)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeDataPlane keeps the attachment state as a driver does, and fails the
// test if a release comes before allowRelease or hits the current
// care-of address.
type fakeDataPlane struct {
	t        *testing.T
	released chan netip.Addr
	allowed  atomic.Bool

	mu       sync.Mutex
	current  netip.Addr
	previous map[netip.Addr]bool
	done     []netip.Addr
}

func newFakeDataPlane(t *testing.T) *fakeDataPlane {
	return &fakeDataPlane{t: t, released: make(chan netip.Addr, 16), previous: map[netip.Addr]bool{}}
}

func (*fakeDataPlane) Name() string                { return "fake" }
func (*fakeDataPlane) Start(context.Context) error { return nil }
func (*fakeDataPlane) Close() error                { return nil }
func (d *fakeDataPlane) allowRelease()             { d.allowed.Store(true) }
func (d *fakeDataPlane) releases() []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]netip.Addr(nil), d.done...)
}
func (d *fakeDataPlane) Attach(_ context.Context, at dataplane.Attachment) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current.IsValid() && d.current != at.CoA {
		d.previous[d.current] = true
	}
	delete(d.previous, at.CoA)
	d.current = at.CoA
	return nil
}

func (d *fakeDataPlane) Release(_ context.Context, coa netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.allowed.Load() {
		d.t.Errorf("%s released too early", coa)
	}
	if !d.previous[coa] {
		d.t.Errorf("Release(%s) of an address that is not a previous attachment (current %s)", coa, d.current)
		return dataplane.ErrNotPrevious
	}
	delete(d.previous, coa)
	d.done = append(d.done, coa)
	d.released <- coa
	return nil
}

func (d *fakeDataPlane) held() []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []netip.Addr
	for a := range d.previous {
		out = append(out, a)
	}
	return out
}

// sentBU is what fakeConn saw of a Binding Update.
type sentBU struct {
	coa netip.Addr
	seq uint16
}

// fakeConn decodes the BUs the Node sends and hands it the packets put on in.
type fakeConn struct {
	sent chan sentBU
	in   chan []byte
}

func (c *fakeConn) Send(pkt []byte) error {
	var p mh.Packet
	var bu mh.BindingUpdate
	if err := p.Unmarshal(pkt); err != nil {
		return err
	}
	if err := bu.Unmarshal(p.MH); err != nil {
		return err
	}
	select {
	case c.sent <- sentBU{coa: p.Src, seq: bu.Sequence}:
	default: // retransmissions nobody waits for
	}
	return nil
}

func (c *fakeConn) Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case b := <-c.in:
		n := copy(buf, b)
		return n, p.Unmarshal(buf[:n])
	}
}

// syncBuffer is a log sink safe for the Node's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) hasLine(parts []string) bool {
	for _, line := range strings.Split(b.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
