package main

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	mnchain "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

var (
	bootA = bootstrap.Bootstrap{HomeAddress: netip.MustParseAddr("2001:db8:1::100"),
		HomeAgent: netip.MustParseAddr("2001:db8:1::1"), HomePrefix: netip.MustParsePrefix("2001:db8:1::/64")}
	bootB = bootstrap.Bootstrap{HomeAddress: netip.MustParseAddr("2001:db8:2::200"),
		HomeAgent: netip.MustParseAddr("2001:db8:2::1"), HomePrefix: netip.MustParsePrefix("2001:db8:2::/64")}
	coa1 = netip.MustParseAddr("fd00:6d36::1")
	coa2 = netip.MustParseAddr("fd00:6d36::3")
)

// registerTimeout bounds a Register in these tests: a deadline for a
// broken run, not a timing.
const registerTimeout = 5 * time.Second

// TestRegistrarRegistersOverTheConnection: the first Register builds the
// mobile node for the bootstrap and returns once the Home Agent accepted
// the care-of address; /status then shows the connection and the binding.
func TestRegistrarRegistersOverTheConnection(t *testing.T) {
	h := newRegistrarHarness(t, mh.StatusAccepted)
	at := mnchain.Attachment{Bootstrap: bootA, CareOf: coa1, Interface: "nsm-1"}
	if err := h.register(at); err != nil {
		t.Fatalf("Register(%+v) = %v, want nil after an accepted BA", at, err)
	}
	s := h.reg.status("nsc-mobile-0")
	want := connectionView{ID: "nsc-mobile-0", CareOf: coa1, Interface: "nsm-1", HomeAddress: bootA.HomeAddress, HomeAgent: bootA.HomeAgent}
	if s.Connection != want {
		t.Errorf("status connection %+v, want %+v", s.Connection, want)
	}
	if s.Registration == nil || s.Registration.State != mobilenode.StateRegistered || s.Registration.BoundCareOf != coa1 {
		t.Errorf("status registration %+v, want registered at %s", s.Registration, coa1)
	}
	if err := h.register(mnchain.Attachment{Bootstrap: bootA, CareOf: coa2, Interface: "nsm-2"}); err != nil {
		t.Fatalf("Register at a new care-of address = %v", err)
	}
	if got := h.built(); len(got) != 1 {
		t.Errorf("mobile node built for %v, want once for the same bootstrap", got)
	}
}

// TestRegistrarReportsTheRefusal: a refusing Home Agent fails Register
// with its status.
func TestRegistrarReportsTheRefusal(t *testing.T) {
	h := newRegistrarHarness(t, mh.StatusAdministrativelyProhibited)
	err := h.register(mnchain.Attachment{Bootstrap: bootA, CareOf: coa1, Interface: "nsm-1"})
	var refused *mnserver.RefusedError
	if !errors.As(err, &refused) || refused.Status != mh.StatusAdministrativelyProhibited {
		t.Fatalf("Register against a refusing home agent = %v, want a refusal with status %s", err, mh.StatusAdministrativelyProhibited)
	}
}

// TestRegistrarRebuildsForAnotherBootstrap: a Register with another home
// agent or home address tears the mobile node down and builds a new one.
func TestRegistrarRebuildsForAnotherBootstrap(t *testing.T) {
	h := newRegistrarHarness(t, mh.StatusAccepted)
	if err := h.register(mnchain.Attachment{Bootstrap: bootA, CareOf: coa1, Interface: "nsm-1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.register(mnchain.Attachment{Bootstrap: bootB, CareOf: coa2, Interface: "nsm-1"}); err != nil {
		t.Fatalf("Register with another bootstrap = %v", err)
	}
	if got := h.built(); len(got) != 2 || got[0] != bootA || got[1] != bootB {
		t.Fatalf("built %v, want %v then %v", got, bootA, bootB)
	}
	if got := h.closedCount(); got != 1 {
		t.Errorf("%d mobile nodes closed after the rebuild, want the first one", got)
	}
	if s := h.reg.status("x"); s.Connection.HomeAddress != bootB.HomeAddress || s.Registration.HomeAddress != bootB.HomeAddress {
		t.Errorf("status after the rebuild %+v, want home address %s", s, bootB.HomeAddress)
	}
}

// TestRegistrarDeregistersAndCloses: Deregister sends a lifetime-0 BU and
// returns on its BA; Close removes the mobile node and refuses later
// registrations.
func TestRegistrarDeregistersAndCloses(t *testing.T) {
	h := newRegistrarHarness(t, mh.StatusAccepted)
	if err := h.reg.Deregister(t.Context()); err != nil {
		t.Errorf("Deregister before any registration = %v", err)
	}
	if err := h.register(mnchain.Attachment{Bootstrap: bootA, CareOf: coa1, Interface: "nsm-1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), registerTimeout)
	defer cancel()
	if err := h.reg.Deregister(ctx); err != nil {
		t.Fatalf("Deregister = %v", err)
	}
	if s := h.reg.status("x"); s.Registration.State != mobilenode.StateUnregistered || h.lastLifetime() != 0 {
		t.Errorf("after Deregister: state %s, last BU lifetime %d; want unregistered by a lifetime-0 BU", s.Registration.State, h.lastLifetime())
	}
	if err := h.reg.Close(); err != nil {
		t.Fatal(err)
	}
	if got := h.closedCount(); got != 1 {
		t.Errorf("%d mobile nodes closed by Close, want 1", got)
	}
	if err := h.register(mnchain.Attachment{Bootstrap: bootA, CareOf: coa1, Interface: "nsm-1"}); !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("Register after Close = %v, want ErrClosed", err)
	}
}

// registrarHarness is a registrar whose stacks run mnserver over a fake
// Home Agent that answers every BU with one status.
type registrarHarness struct {
	t      *testing.T
	status mh.Status
	reg    *registrar

	mu       sync.Mutex
	boots    []bootstrap.Bootstrap
	closed   int
	lifetime mh.Lifetime
}

func newRegistrarHarness(t *testing.T, status mh.Status) *registrarHarness {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	h := &registrarHarness{t: t, status: status}
	h.reg = newRegistrar(h.build, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		if err := h.reg.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *registrarHarness) register(at mnchain.Attachment) error {
	ctx, cancel := context.WithTimeout(h.t.Context(), registerTimeout)
	defer cancel()
	return h.reg.Register(ctx, at)
}

func (h *registrarHarness) build(_ context.Context, boot bootstrap.Bootstrap) (*stack, error) {
	h.mu.Lock()
	h.boots = append(h.boots, boot)
	h.mu.Unlock()
	conn := &fakeHomeAgent{h: h, boot: boot, in: make(chan []byte, 16)}
	return startStack(boot, mnserver.Config{Conn: conn, DataPlane: nopDataPlane{},
		Registration: mobilenode.Config{HomeAddress: boot.HomeAddress, HomeAgent: boot.HomeAgent},
		LinkHolds:    func(dataplane.Attachment) bool { return true }},
		slog.New(slog.DiscardHandler), func() error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.closed++
			return nil
		})
}

func (h *registrarHarness) built() []bootstrap.Bootstrap {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bootstrap.Bootstrap(nil), h.boots...)
}

func (h *registrarHarness) closedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *registrarHarness) lastLifetime() mh.Lifetime {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lifetime
}

// fakeHomeAgent is the mobile node's Conn: it answers each BU at once.
type fakeHomeAgent struct {
	h    *registrarHarness
	boot bootstrap.Bootstrap
	in   chan []byte
}

func (c *fakeHomeAgent) Send(pkt []byte) error {
	var p mh.Packet
	var bu mh.BindingUpdate
	if err := p.Unmarshal(pkt); err != nil {
		return err
	}
	if err := bu.Unmarshal(p.MH); err != nil {
		return err
	}
	c.h.mu.Lock()
	c.h.lifetime = bu.Lifetime
	c.h.mu.Unlock()
	status := c.h.status
	if bu.Lifetime == 0 {
		status = mh.StatusAccepted
	}
	ba := &mh.BindingAck{Status: status, Sequence: bu.Sequence, Lifetime: bu.Lifetime}
	out, err := mh.AppendPacket(nil, &mh.Packet{Src: c.boot.HomeAgent, Dst: p.Src, RoutingAddress: c.boot.HomeAddress}, ba)
	if err != nil {
		return err
	}
	select {
	case c.in <- out:
	default: // Send runs under the registration's lock: never block
	}
	return nil
}

func (c *fakeHomeAgent) Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case b := <-c.in:
		n := copy(buf, b)
		return n, p.Unmarshal(buf[:n])
	}
}

// nopDataPlane accepts every attachment.
type nopDataPlane struct{}

func (nopDataPlane) Name() string                                       { return "nop" }
func (nopDataPlane) Start(context.Context) error                        { return nil }
func (nopDataPlane) Close() error                                       { return nil }
func (nopDataPlane) Attach(context.Context, dataplane.Attachment) error { return nil }
func (nopDataPlane) Release(context.Context, netip.Addr) error          { return nil }
