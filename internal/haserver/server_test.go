package haserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/haserver"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

var (
	haAddr = netip.MustParseAddr("2001:db8:1::1")
	hoa    = netip.MustParseAddr("2001:db8:1::100")
	coa    = netip.MustParseAddr("2001:db8:a::2")
)

// queueConn stands in for the kernel sockets (internal/mhio, exercised for
// real by internal/e2e): Receive decodes queued packets as mhio does, and
// what the server sends is recorded.
type queueConn struct {
	in         chan queued
	receivedOn int // of the last packet received; only Serve's goroutine uses it

	mu       sync.Mutex
	sent     [][]byte
	problems []string
}

// queued is a packet and the index of the interface it "arrived" on.
type queued struct {
	pkt     []byte
	ifindex int
}

func newQueueConn() *queueConn { return &queueConn{in: make(chan queued, 64)} }

// receive queues pkt as arriving on interface 1.
func (c *queueConn) receive(pkt []byte) { c.in <- queued{pkt: pkt, ifindex: 1} }

func (c *queueConn) Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error) {
	c.receivedOn = 0
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case q := <-c.in:
		n := copy(buf, q.pkt)
		c.receivedOn = q.ifindex
		return n, p.Unmarshal(buf[:n])
	}
}

func (c *queueConn) ReceivedOn() int { return c.receivedOn }

func (c *queueConn) Send(pkt []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, append([]byte(nil), pkt...))
	return nil
}

func (c *queueConn) SendParameterProblem(_ []byte, code uint8, pointer uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf("code %d pointer %d", code, pointer))
	return nil
}

// sentPackets waits until n packets have been sent and decodes them.
func (c *queueConn) sentPackets(t *testing.T, n int) []mh.Packet {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.sent)
		c.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d packets sent, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]mh.Packet, len(c.sent))
	for i, b := range c.sent {
		if err := out[i].Unmarshal(b); err != nil {
			t.Fatalf("sent packet %d does not decode: %v", i, err)
		}
	}
	return out
}

type nopDataPlane struct{}

func (nopDataPlane) Bind(context.Context, netip.Addr, netip.Addr) error { return nil }
func (nopDataPlane) Unbind(context.Context, netip.Addr) error           { return nil }

// serve runs a Server over a queueConn until the test ends; auth, when not
// nil, is the Home Agent's Authorizer.
func serve(t *testing.T, auth ...homeagent.Authorizer) (*queueConn, *homeagent.HomeAgent, *haserver.Metrics) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	log := slog.New(slog.DiscardHandler)
	m := haserver.NewMetrics(nil)
	cfg := homeagent.Config{HomePrefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")},
		MaxLifetime: time.Minute, DataPlane: nopDataPlane{}, Logger: log, Observer: m}
	if len(auth) > 0 {
		cfg.Authorizer = auth[0]
	}
	ha, err := homeagent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := newQueueConn()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- haserver.New(conn, ha, haAddr, m, log).Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		_ = ha.Close(context.Background())
	})
	return conn, ha, m
}

func bu(t *testing.T, seq uint16, mhType mh.Type) []byte {
	t.Helper()
	b, err := mh.AppendPacket(nil, &mh.Packet{Src: coa, Dst: haAddr, HomeAddress: hoa},
		&mh.BindingUpdate{Sequence: seq, Flags: mh.FlagA | mh.FlagH, Lifetime: 15})
	if err != nil {
		t.Fatal(err)
	}
	if mhType != mh.TypeBindingUpdate { // same body, another MH type
		p := mh.Packet{}
		_ = p.Unmarshal(b)
		b[p.MHOffset+2] = byte(mhType)
		c := mh.Checksum(b[p.MHOffset:], hoa, haAddr)
		b[p.MHOffset+4], b[p.MHOffset+5] = byte(c>>8), byte(c)
	}
	return b
}

func TestBindingUpdateIsAnsweredWithARoutedAck(t *testing.T) {
	conn, ha, m := serve(t)
	conn.receive(bu(t, 7, mh.TypeBindingUpdate))
	p := conn.sentPackets(t, 1)[0]
	var ba mh.BindingAck
	if err := ba.Unmarshal(p.MH); err != nil {
		t.Fatal(err)
	}
	if p.Src != haAddr || p.Dst != coa || p.RoutingAddress != hoa || ba.Status != mh.StatusAccepted || ba.Sequence != 7 || ba.Lifetime != 15 {
		t.Errorf("BA %v -> %v via %v: %+v", p.Src, p.Dst, p.RoutingAddress, ba)
	}
	if b, ok := ha.Lookup(hoa); !ok || b.CareOf != coa {
		t.Errorf("binding %+v %v", b, ok)
	}
	rec := httptest.NewRecorder()
	haserver.Handler(ha, m).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"mip6_bindings 1", `mip6_binding_updates_total{status="0"} 1`, "mip6_registration_latency_seconds_count 1"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	rec = httptest.NewRecorder()
	haserver.Handler(ha, m).ServeHTTP(rec, httptest.NewRequest("GET", "/bindings", nil))
	var bs []homeagent.Binding
	if err := json.Unmarshal(rec.Body.Bytes(), &bs); err != nil || len(bs) != 1 || bs[0].HomeAddress != hoa {
		t.Errorf("/bindings %s: %v", rec.Body, err)
	}
}

// Each BU reaches the Authorizer with the interface its own packet came
// in on, so that it can tie a care-of address to its link.
func TestBindingUpdateCarriesItsIngressInterface(t *testing.T) {
	asked := make(chan int, 2)
	conn, _, _ := serve(t, homeagent.AuthorizerFunc(func(_ context.Context, req homeagent.Request) error {
		asked <- req.Interface
		return nil
	}))
	conn.in <- queued{pkt: bu(t, 1, mh.TypeBindingUpdate), ifindex: 5}
	conn.in <- queued{pkt: bu(t, 2, mh.TypeBindingUpdate), ifindex: 9}
	conn.sentPackets(t, 2)
	for _, want := range []int{5, 9} {
		if got := <-asked; got != want {
			t.Errorf("Authorizer asked about a BU from interface %d, want %d", got, want)
		}
	}
}

func TestBadPacketsGetTheAnswerTheRFCPrescribes(t *testing.T) {
	conn, ha, _ := serve(t)
	bad := bu(t, 1, mh.TypeBindingUpdate)
	bad[64] = 6 // payload proto: a parameter problem at offset 64
	c := mh.Checksum(bad[64:], hoa, haAddr)
	bad[68], bad[69] = byte(c>>8), byte(c)
	conn.receive(bad)
	conn.receive(bu(t, 2, 42)) // unknown type: binding error 2
	be := conn.sentPackets(t, 1)[0]
	var msg mh.BindingError
	if err := msg.Unmarshal(be.MH); err != nil || msg.Status != mh.ErrorStatusUnknownType || msg.HomeAddress != hoa || be.Dst != coa {
		t.Errorf("binding error %+v to %v: %v", msg, be.Dst, err)
	}
	conn.mu.Lock()
	problems := append([]string(nil), conn.problems...)
	conn.mu.Unlock()
	if len(problems) != 1 || problems[0] != "code 0 pointer 64" {
		t.Errorf("parameter problems %q, want one with code 0 pointer 64", problems)
	}
	if ha.Len() != 0 {
		t.Errorf("bad packets created %d bindings", ha.Len())
	}
}

func TestBindingErrorsAreRateLimited(t *testing.T) {
	conn, _, _ := serve(t)
	for range 30 {
		conn.receive(bu(t, 1, 42))
	}
	conn.sentPackets(t, 10)
	time.Sleep(50 * time.Millisecond) // let the server drain the queue
	conn.mu.Lock()
	n := len(conn.sent)
	conn.mu.Unlock()
	if n > 11 { // 10 a second, and perhaps one refilled token
		t.Errorf("%d binding errors for 30 bad packets in a burst, want at most 11", n)
	}
}

func TestServeReturnsTheConnError(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ha, _ := homeagent.New(homeagent.Config{HomePrefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")},
		MaxLifetime: time.Minute, DataPlane: nopDataPlane{}})
	broken := errors.New("socket gone")
	err := haserver.New(failingConn{broken}, ha, haAddr, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Serve(context.Background())
	if !errors.Is(err, broken) {
		t.Errorf("Serve = %v, want %v", err, broken)
	}
}

type failingConn struct{ err error }

func (c failingConn) Receive(context.Context, []byte, *mh.Packet) (int, error) { return 0, c.err }
func (failingConn) ReceivedOn() int                                            { return 0 }
func (failingConn) Send([]byte) error                                          { return nil }
func (failingConn) SendParameterProblem([]byte, uint8, uint32) error           { return nil }
