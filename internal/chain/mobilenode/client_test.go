package mobilenode_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	"github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
)

var (
	boot = bootstrap.Bootstrap{
		HomeAddress: netip.MustParseAddr("2001:db8:1::100"),
		HomeAgent:   netip.MustParseAddr("2001:db8:1::1"),
		HomePrefix:  netip.MustParsePrefix("2001:db8:1::/64"),
	}
	coa1 = netip.MustParseAddr("2001:db8:ca::1")
	coa2 = netip.MustParseAddr("2001:db8:ca::3")
)

// events is the order of calls the tests look at.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, " ")
}

// fakeRegistrar records the attachments it is asked to register.
type fakeRegistrar struct {
	ev            *events
	mu            sync.Mutex
	registered    []mobilenode.Attachment
	registerErr   error
	deregisterErr error
	block         bool // Register waits for its context to end
}

func (r *fakeRegistrar) Register(ctx context.Context, at mobilenode.Attachment) error {
	r.ev.add("register")
	if r.block {
		<-ctx.Done()
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registerErr != nil {
		return r.registerErr
	}
	r.registered = append(r.registered, at)
	return nil
}

func (r *fakeRegistrar) Deregister(context.Context) error {
	r.ev.add("deregister")
	return r.deregisterErr
}

// fakeEndpoint stands for the rest of the chain down to the Home Agent
// endpoint: it answers with the care-of address in coa, the bootstrap
// (unless noBootstrap) and a kernel mechanism named nsm-1.
type fakeEndpoint struct {
	ev          *events
	coa         netip.Addr
	noBootstrap bool
}

func (f *fakeEndpoint) Request(_ context.Context, req *networkservice.NetworkServiceRequest, _ ...grpc.CallOption) (*networkservice.Connection, error) {
	f.ev.add("request")
	conn := req.GetConnection().Clone()
	conn.Context = &networkservice.ConnectionContext{
		IpContext:    &networkservice.IPContext{SrcIpAddrs: []string{netip.PrefixFrom(f.coa, 128).String()}},
		ExtraContext: map[string]string{},
	}
	if !f.noBootstrap {
		boot.Put(conn.Context.ExtraContext)
	}
	conn.Mechanism = kernel.New("")
	kernel.ToMechanism(conn.Mechanism).SetInterfaceName("nsm-1")
	return conn, nil
}

func (f *fakeEndpoint) Close(_ context.Context, _ *networkservice.Connection, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	f.ev.add("close")
	return &emptypb.Empty{}, nil
}

type fixture struct {
	ev  *events
	reg *fakeRegistrar
	end *fakeEndpoint
	nsc networkservice.NetworkServiceClient
}

func newFixture(t *testing.T, opts ...mobilenode.Option) *fixture {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ev := &events{}
	f := &fixture{ev: ev, reg: &fakeRegistrar{ev: ev}, end: &fakeEndpoint{ev: ev, coa: coa1}}
	opts = append([]mobilenode.Option{mobilenode.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	f.nsc = chain.NewNetworkServiceClient(metadata.NewClient(), mobilenode.NewClient(f.reg, opts...), f.end)
	return f
}

func (f *fixture) request(t *testing.T, conn *networkservice.Connection) (*networkservice.Connection, error) {
	t.Helper()
	if conn == nil {
		conn = &networkservice.Connection{Id: "c1", NetworkService: "home-agent"}
	}
	return f.nsc.Request(context.Background(), &networkservice.NetworkServiceRequest{Connection: conn})
}

func TestRequestRegistersTheAttachment(t *testing.T) {
	f := newFixture(t)
	conn, err := f.request(t, nil)
	if err != nil || conn == nil {
		t.Fatalf("Request: %v", err)
	}
	want := mobilenode.Attachment{Bootstrap: boot, CareOf: coa1, Interface: "nsm-1"}
	if len(f.reg.registered) != 1 || f.reg.registered[0] != want {
		t.Errorf("registered %+v, want %+v", f.reg.registered, want)
	}
	if f.ev.String() != "request register" {
		t.Errorf("calls %q, want the Request first", f.ev)
	}
}

func TestRefreshRegistersOnlyWhenTheAttachmentChanges(t *testing.T) {
	f := newFixture(t)
	conn, err := f.request(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err = f.request(t, conn); err != nil {
		t.Fatal(err)
	}
	if len(f.reg.registered) != 1 {
		t.Errorf("%d registrations after a refresh with the same attachment, want 1", len(f.reg.registered))
	}
	f.end.coa = coa2 // a heal or reselect gave a new client address
	if _, err = f.request(t, conn); err != nil {
		t.Fatal(err)
	}
	if len(f.reg.registered) != 2 || f.reg.registered[1].CareOf != coa2 {
		t.Errorf("registered %+v, want a second registration at %v", f.reg.registered, coa2)
	}
}

func TestFailedRegistrationClosesTheConnection(t *testing.T) {
	f := newFixture(t)
	refused := errors.New("binding update rejected: status 133 (not home agent for this mobile node)")
	f.reg.registerErr = refused
	_, err := f.request(t, nil)
	var re *mobilenode.RegistrationError
	if !errors.As(err, &re) || !errors.Is(err, refused) || re.HomeAddress != boot.HomeAddress || re.CareOf != coa1 {
		t.Fatalf("error %v, want a RegistrationError for %v at %v wrapping the refusal", err, boot.HomeAddress, coa1)
	}
	for _, s := range []string{boot.HomeAddress.String(), coa1.String(), "status 133"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if f.ev.String() != "request register close" {
		t.Errorf("calls %q, want the new connection closed", f.ev)
	}
	// Nothing is registered over the connection: Close does not deregister.
	if _, err := f.nsc.Close(context.Background(), &networkservice.Connection{Id: "c1"}); err != nil {
		t.Fatal(err)
	}
	if f.ev.String() != "request register close close" {
		t.Errorf("calls %q, want no deregistration", f.ev)
	}
}

func TestFailedReRegistrationClosesTheConnection(t *testing.T) {
	f := newFixture(t)
	conn, err := f.request(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.end.coa, f.reg.registerErr = coa2, errors.New("no binding acknowledgement")
	_, err = f.request(t, conn)
	var re *mobilenode.RegistrationError
	if !errors.As(err, &re) || re.CareOf != coa2 {
		t.Fatalf("error %v, want a RegistrationError at %v", err, coa2)
	}
	if f.ev.String() != "request register request register close" {
		t.Errorf("calls %q", f.ev)
	}
}

func TestRegisterIsBoundedByTheTimeout(t *testing.T) {
	f := newFixture(t, mobilenode.WithTimeout(10*time.Millisecond))
	f.reg.block = true
	_, err := f.request(t, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the Register context's deadline", err)
	}
	if f.ev.String() != "request register close" {
		t.Errorf("calls %q", f.ev)
	}
}

func TestAConnectionWithoutBootstrapIsClosed(t *testing.T) {
	f := newFixture(t)
	f.end.noBootstrap = true
	_, err := f.request(t, nil)
	if !errors.Is(err, bootstrap.ErrBootstrap) || !strings.Contains(err.Error(), "c1") {
		t.Fatalf("error %v, want ErrBootstrap naming the connection", err)
	}
	if f.ev.String() != "request close" {
		t.Errorf("calls %q, want no registration and the connection closed", f.ev)
	}
}

func TestCloseDeregistersThenCloses(t *testing.T) {
	for _, deregErr := range []error{nil, errors.New("no binding acknowledgement")} {
		f := newFixture(t)
		conn, err := f.request(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.reg.deregisterErr = deregErr
		if _, err := f.nsc.Close(context.Background(), conn); err != nil {
			t.Errorf("Close with deregistration error %v: %v", deregErr, err)
		}
		if f.ev.String() != "request register deregister close" {
			t.Errorf("deregistration error %v: calls %q", deregErr, f.ev)
		}
	}
}

// TestRegisteredObserverGetsEachRegistration: WithRegistered hears of
// each accepted registration, with the attachment and a positive
// Request-to-BA time, and of nothing else.
func TestRegisteredObserverGetsEachRegistration(t *testing.T) {
	var heard []mobilenode.Attachment
	f := newFixture(t, mobilenode.WithRegistered(func(at mobilenode.Attachment, took time.Duration) {
		if took <= 0 {
			t.Errorf("Request to accepted BA took %v", took)
		}
		heard = append(heard, at)
	}))
	conn, err := f.request(t, nil)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if _, err := f.request(t, conn); err != nil { // a refresh with nothing new registers nothing
		t.Fatalf("refresh: %v", err)
	}
	want := mobilenode.Attachment{Bootstrap: boot, CareOf: coa1, Interface: "nsm-1"}
	if len(heard) != 1 || heard[0] != want {
		t.Errorf("observer heard %+v, want once %+v", heard, want)
	}
}
