package homeagent_test

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

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/checks/checkrequest"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/inject/injecterror"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
	"github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	chainha "github.com/mip6mesh/mip6mesh/internal/chain/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	haAddr     = netip.MustParseAddr("2001:db8:1::1")
	coa1       = netip.MustParseAddr("2001:db8:ca::1")
	coa2       = netip.MustParseAddr("2001:db8:ca::3")
	mobile     = "spiffe://example.org/ns/demo/sa/mobile"
	// mobileHoA is mobile's derived home address (identity package golden vector).
	mobileHoA = netip.MustParseAddr("2001:db8:1:0:e100:fa4d:7540:a732")
)

// fakeBindings is the binding cache as the element sees it: hoa → coa,
// with every RemoveAt recorded.
type fakeBindings struct {
	mu       sync.Mutex
	bindings map[netip.Addr]netip.Addr
	calls    [][2]netip.Addr
}

func newFakeBindings() *fakeBindings {
	return &fakeBindings{bindings: map[netip.Addr]netip.Addr{}}
}

func (f *fakeBindings) bind(hoa, coa netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bindings[hoa] = coa
}

func (f *fakeBindings) RemoveAt(_ context.Context, hoa, coa netip.Addr) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]netip.Addr{hoa, coa})
	if cur, ok := f.bindings[hoa]; ok && cur == coa {
		delete(f.bindings, hoa)
		return true, nil
	}
	return false, nil
}

type fixture struct {
	t        *testing.T
	reg      *chainha.Registry
	bindings *fakeBindings
}

func newFixture(t *testing.T, policy identity.Policy) *fixture {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	if policy == nil {
		d, err := identity.NewDerived(homePrefix, haAddr)
		if err != nil {
			t.Fatal(err)
		}
		policy = d
	}
	return &fixture{t: t, reg: chainha.NewRegistry(policy, chainha.WithoutIngressCheck()), bindings: newFakeBindings()}
}

// server is the element between metadata (as in the endpoint chain) and
// the given elements standing for the rest of the chain.
// These tests are about the registry and the bootstrap, so they identify
// the client by its (HS256, unverified) token's subject; the proof of
// identity is tested with VerifiedIdentity below and in package identity.
func (f *fixture) server(rest ...networkservice.NetworkServiceServer) networkservice.NetworkServiceServer {
	return f.serverWith(unverified, rest...)
}

func unverified(conn *networkservice.Connection) (spiffeid.ID, error) {
	return identity.ClaimedFromPath(conn.GetPath())
}

func (f *fixture) serverWith(identify chainha.IdentifyFunc, rest ...networkservice.NetworkServiceServer) networkservice.NetworkServiceServer {
	el := chainha.NewServer(f.reg, f.bindings, chainha.Config{HomeAgent: haAddr, HomePrefix: homePrefix, Identify: identify,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return chain.NewNetworkServiceServer(append([]networkservice.NetworkServiceServer{metadata.NewServer(), el}, rest...)...)
}

func token(t *testing.T, subject string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: subject}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// request is what the element sees after IPAM: the client's token in
// path segment 0, the client's address coa.
func request(t *testing.T, id, subject string, coa netip.Addr) *networkservice.NetworkServiceRequest {
	return &networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{
		Id: id,
		Path: &networkservice.Path{PathSegments: []*networkservice.PathSegment{
			{Name: "nsc", Token: token(t, subject)}, {Name: "nsmgr", Token: token(t, "spiffe://example.org/nsmgr")},
		}},
		Context: &networkservice.ConnectionContext{IpContext: &networkservice.IPContext{
			SrcIpAddrs: []string{netip.PrefixFrom(coa, 128).String()},
			DstIpAddrs: []string{"2001:db8:ca::/128"},
			SrcRoutes:  []*networkservice.Route{{Prefix: "2001:db8:ca::/128"}},
		}},
	}}
}

func (f *fixture) wantAuthorized(hoa, coa netip.Addr) {
	f.t.Helper()
	if err := f.reg.Authorize(context.Background(), homeagent.Request{HomeAddress: hoa, CareOf: coa, Source: coa}); err != nil {
		f.t.Errorf("BU for %s from %s refused: %v", hoa, coa, err)
	}
}

func (f *fixture) wantRefused(hoa, coa netip.Addr, want mh.Status) {
	f.t.Helper()
	err := f.reg.Authorize(context.Background(), homeagent.Request{HomeAddress: hoa, CareOf: coa, Source: coa})
	var r *homeagent.RefusalError
	if !errors.As(err, &r) || r.Status != want {
		f.t.Errorf("BU for %s from %s: %v, want status %v", hoa, coa, err, want)
	}
}

func TestRequestBootstrapsTheClientAndRecordsTheConnection(t *testing.T) {
	f := newFixture(t, nil)
	var nextCalled bool
	srv := f.server(checkrequest.NewServer(t, func(t *testing.T, req *networkservice.NetworkServiceRequest) {
		nextCalled = true
		if f.reg.Len() != 1 {
			t.Errorf("registry has %d connections while the rest of the chain runs, want 1", f.reg.Len())
		}
	}))
	conn, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1))
	if err != nil || !nextCalled {
		t.Fatalf("Request: %v (next called: %v)", err, nextCalled)
	}
	b, err := bootstrap.Get(conn.GetContext().GetExtraContext())
	want := bootstrap.Bootstrap{HomeAddress: mobileHoA, HomeAgent: haAddr, HomePrefix: homePrefix}
	if err != nil || b != want {
		t.Errorf("bootstrap %+v, %v; want %+v", b, err, want)
	}
	var routes []string
	for _, r := range conn.GetContext().GetIpContext().GetSrcRoutes() {
		routes = append(routes, r.GetPrefix()+" via "+r.GetNextHop())
	}
	if strings.Join(routes, ", ") != "2001:db8:ca::/128 via , 2001:db8:1::1/128 via 2001:db8:ca::" {
		t.Errorf("client routes %v, want IPAM's and the home agent's via the endpoint's vWire address", routes)
	}
	f.wantAuthorized(mobileHoA, coa1)
	f.wantRefused(netip.MustParseAddr("2001:db8:1::100"), coa1, mh.StatusNotHomeAgentForThisMobileNode)
	f.wantRefused(mobileHoA, coa2, mh.StatusAdministrativelyProhibited)
}

func TestRefusalsChangeNothing(t *testing.T) {
	listed, err := identity.NewDerived(homePrefix)
	if err != nil {
		t.Fatal(err)
	}
	policy := policyFunc(func(id spiffeid.ID) (netip.Addr, error) {
		if id.String() == mobile {
			return listed.HomeAddress(id)
		}
		return netip.Addr{}, identity.ErrRefused
	})
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) *networkservice.NetworkServiceRequest
		code codes.Code
		want string
	}{
		{"identity refused by the policy", func(t *testing.T) *networkservice.NetworkServiceRequest {
			return request(t, "c1", "spiffe://example.org/stranger", coa1)
		}, codes.PermissionDenied, "spiffe://example.org/stranger"},
		{"no identity", func(t *testing.T) *networkservice.NetworkServiceRequest {
			r := request(t, "c1", mobile, coa1)
			r.Connection.Path.PathSegments[0].Token = ""
			return r
		}, codes.PermissionDenied, "carries no token"},
		{"no client address", func(t *testing.T) *networkservice.NetworkServiceRequest {
			r := request(t, "c1", mobile, coa1)
			r.Connection.Context.IpContext.SrcIpAddrs = nil
			return r
		}, codes.FailedPrecondition, "no client address"},
		{"IPv4 client address", func(t *testing.T) *networkservice.NetworkServiceRequest {
			r := request(t, "c1", mobile, coa1)
			r.Connection.Context.IpContext.SrcIpAddrs = []string{"172.16.0.1/32"}
			return r
		}, codes.FailedPrecondition, "172.16.0.1/32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, policy)
			srv := f.server(checkrequest.NewServer(t, func(t *testing.T, _ *networkservice.NetworkServiceRequest) {
				t.Error("a refused Request reached the rest of the chain")
			}))
			req := tc.req(t)
			_, err := srv.Request(context.Background(), req)
			if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v naming %q", err, tc.code, tc.want)
			}
			if f.reg.Len() != 0 || len(req.GetConnection().GetContext().GetExtraContext()) != 0 {
				t.Errorf("refusal left %d connections, extra context %v", f.reg.Len(), req.GetConnection().GetContext().GetExtraContext())
			}
		})
	}
}

type policyFunc func(spiffeid.ID) (netip.Addr, error)

func (p policyFunc) HomeAddress(id spiffeid.ID) (netip.Addr, error) { return p(id) }

func TestFailedNextRollsBack(t *testing.T) {
	t.Run("first request", func(t *testing.T) {
		f := newFixture(t, nil)
		srv := f.server(injecterror.NewServer())
		if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1)); err == nil {
			t.Fatal("Request succeeded")
		}
		if f.reg.Len() != 0 {
			t.Errorf("%d connections after a failed Request", f.reg.Len())
		}
		f.wantRefused(mobileHoA, coa1, mh.StatusAdministrativelyProhibited)
	})
	t.Run("refresh to a new care-of address", func(t *testing.T) {
		f := newFixture(t, nil)
		srv := f.server(injecterror.NewServer(injecterror.WithRequestErrorTimes(1), injecterror.WithCloseErrorTimes()))
		if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1)); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa2)); err == nil {
			t.Fatal("refresh succeeded")
		}
		f.wantAuthorized(mobileHoA, coa1)
		f.wantRefused(mobileHoA, coa2, mh.StatusAdministrativelyProhibited)
		// The connection still has its first care-of address to close.
		if _, err := srv.Close(context.Background(), request(t, "c1", mobile, coa1).GetConnection()); err != nil {
			t.Fatal(err)
		}
		if f.reg.Len() != 0 || len(f.bindings.calls) != 1 || f.bindings.calls[0] != [2]netip.Addr{mobileHoA, coa1} {
			t.Errorf("after Close: %d connections, RemoveAt calls %v", f.reg.Len(), f.bindings.calls)
		}
	})
}

func TestRefresh(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	req := request(t, "c1", mobile, coa1)
	conn, err := srv.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Connection = conn // a refresh carries the connection as it came back
	if conn, err = srv.Request(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if f.reg.Len() != 1 {
		t.Errorf("%d connections after a refresh with the same care-of address", f.reg.Len())
	}
	if routes := conn.GetContext().GetIpContext().GetSrcRoutes(); len(routes) != 2 {
		t.Errorf("client routes after a refresh %v, want IPAM's and the home agent's once each", routes)
	}
	f.wantAuthorized(mobileHoA, coa1)

	if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa2)); err != nil {
		t.Fatal(err)
	}
	if f.reg.Len() != 1 {
		t.Errorf("%d connections after a refresh with a new care-of address", f.reg.Len())
	}
	f.wantAuthorized(mobileHoA, coa2)
	f.wantRefused(mobileHoA, coa1, mh.StatusAdministrativelyProhibited)
}

func TestCloseForgetsTheConnectionAndRemovesItsBinding(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	conn, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1))
	if err != nil {
		t.Fatal(err)
	}
	f.bindings.bind(mobileHoA, coa1)
	if _, err := srv.Close(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	if f.reg.Len() != 0 || len(f.bindings.bindings) != 0 {
		t.Errorf("after Close: %d connections, bindings %v", f.reg.Len(), f.bindings.bindings)
	}
	f.wantRefused(mobileHoA, coa1, mh.StatusAdministrativelyProhibited)
	// A second Close has nothing to forget.
	if _, err := srv.Close(context.Background(), conn); err != nil || len(f.bindings.calls) != 1 {
		t.Errorf("second Close: %v, RemoveAt calls %v", err, f.bindings.calls)
	}
}

// The mobile node made a second connection and moved its binding there;
// closing the first leaves the binding and the second connection alone.
func TestCloseKeepsANewerBindingOverAnotherConnection(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	first, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Request(context.Background(), request(t, "c2", mobile, coa2)); err != nil {
		t.Fatal(err)
	}
	f.bindings.bind(mobileHoA, coa2)
	if _, err := srv.Close(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if got := f.bindings.bindings[mobileHoA]; got != coa2 {
		t.Errorf("binding at %v after closing the first connection, want %v", got, coa2)
	}
	if len(f.bindings.calls) != 1 || f.bindings.calls[0] != [2]netip.Addr{mobileHoA, coa1} {
		t.Errorf("RemoveAt calls %v, want one for the first connection's care-of address", f.bindings.calls)
	}
	f.wantAuthorized(mobileHoA, coa2)
	f.wantRefused(mobileHoA, coa1, mh.StatusAdministrativelyProhibited)
}

func TestACareOfAddressOfAnotherConnectionIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1)); err != nil {
		t.Fatal(err)
	}
	_, err := srv.Request(context.Background(), request(t, "c2", "spiffe://example.org/other", coa1))
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), coa1.String()) {
		t.Errorf("error %v, want AlreadyExists naming %s", err, coa1)
	}
	f.wantAuthorized(mobileHoA, coa1)
}

// TestRegistryIsSafeForConcurrentUse authorizes BUs while connections come
// and go (run with -race).
func TestRegistryIsSafeForConcurrentUse(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			coa := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xca, 15: byte(i + 1)})
			for range 100 {
				conn, err := srv.Request(context.Background(), request(t, string(rune('a'+i)), mobile, coa))
				if err != nil {
					t.Error(err)
					return
				}
				_ = f.reg.Authorize(context.Background(), homeagent.Request{HomeAddress: mobileHoA, CareOf: coa, Source: coa})
				if _, err := srv.Close(context.Background(), conn); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if f.reg.Len() != 0 {
		t.Errorf("%d connections left", f.reg.Len())
	}
}

// TestRegistryKnowsTheEndpointsVWireEnds: the registry lists this
// endpoint's end of each live connection's vWire, as the endpoint's
// kernel mechanism (later in the chain) named it, until the connection
// closes; the agent withdraws them at shutdown.
func TestRegistryKnowsTheEndpointsVWireEnds(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server(namesInterface(t, "home-age-1"))
	conn, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.reg.Interfaces(); len(got) != 1 || got[0] != "home-age-1" {
		t.Errorf("interfaces %v, want [home-age-1]", got)
	}
	if _, err := srv.Close(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	if got := f.reg.Interfaces(); len(got) != 0 {
		t.Errorf("interfaces after Close %v, want none", got)
	}
}

// namesInterface is what the endpoint's kernel mechanism server does to
// the connection: a kernel mechanism naming the endpoint's interface.
func namesInterface(t *testing.T, name string) networkservice.NetworkServiceServer {
	return checkrequest.NewServer(t, func(_ *testing.T, req *networkservice.NetworkServiceRequest) {
		m := kernelmech.New("")
		kernelmech.ToMechanism(m).SetInterfaceName(name)
		req.GetConnection().Mechanism = m
	})
}

type staticSource struct{ svid *x509svid.SVID }

func (s staticSource) GetX509SVID() (*x509svid.SVID, error) { return s.svid, nil }

// provedRequest is request "c1" with segment 0's token signed by signer for
// subject and proof's chain as the SVID proof.
func provedRequest(t *testing.T, signer *x509svid.SVID, subject string, proof *x509svid.SVID) *networkservice.NetworkServiceRequest {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Subject: subject, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString(signer.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	r := request(t, "c1", subject, coa1)
	r.Connection.Path.PathSegments[0].Token = tok
	r.Connection.Context.ExtraContext = map[string]string{identity.KeySVIDProof: identity.EncodeProof(proof.Certificates)}
	return r
}

func devIdentities(t *testing.T) (ca *devca.CA, victim, attacker *x509svid.SVID) {
	t.Helper()
	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if victim, err = ca.Issue(spiffeid.RequireFromString(mobile)); err != nil {
		t.Fatal(err)
	}
	if attacker, err = ca.Issue(spiffeid.RequireFromString("spiffe://example.org/ns/demo/sa/attacker")); err != nil {
		t.Fatal(err)
	}
	return ca, victim, attacker
}

// TestAForgedIdentityGetsNothing: a client with a valid SVID of its own
// signs a token naming another identity, as NSM's default policies allow:
// PermissionDenied, nothing recorded, the rest of the chain never runs.
func TestAForgedIdentityGetsNothing(t *testing.T) {
	ca, victim, attacker := devIdentities(t)
	for _, tc := range []struct {
		name string
		req  *networkservice.NetworkServiceRequest
		want string
	}{
		{"own SVID, victim's subject", provedRequest(t, attacker, mobile, attacker), "subject"},
		{"victim's SVID, own key", provedRequest(t, attacker, mobile, victim), "not signed"},
		{"no proof", func() *networkservice.NetworkServiceRequest {
			r := provedRequest(t, victim, mobile, victim)
			r.Connection.Context.ExtraContext = nil
			return r
		}(), identity.KeySVIDProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			srv := f.serverWith(chainha.VerifiedIdentity(ca), checkrequest.NewServer(t, func(t *testing.T, _ *networkservice.NetworkServiceRequest) {
				t.Error("a forged Request reached the rest of the chain")
			}))
			_, err := srv.Request(context.Background(), tc.req)
			if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want PermissionDenied mentioning %q", err, tc.want)
			}
			if f.reg.Len() != 0 {
				t.Errorf("a forged Request recorded %d connections", f.reg.Len())
			}
			if _, err := bootstrap.Get(tc.req.GetConnection().GetContext().GetExtraContext()); err == nil {
				t.Error("a forged Request was told a home address")
			}
			f.wantRefused(mobileHoA, coa1, mh.StatusAdministrativelyProhibited)
		})
	}
}

// TestAProvedIdentityGetsItsHomeAddress: the sdk's own token with the
// client's own SVID as proof; the proof travels neither on nor back.
func TestAProvedIdentityGetsItsHomeAddress(t *testing.T) {
	ca, victim, _ := devIdentities(t)
	f := newFixture(t, nil)
	srv := f.serverWith(chainha.VerifiedIdentity(ca), checkrequest.NewServer(t, func(t *testing.T, r *networkservice.NetworkServiceRequest) {
		if p, ok := r.GetConnection().GetContext().GetExtraContext()[identity.KeySVIDProof]; ok {
			t.Errorf("the rest of the chain sees the proof (%d bytes)", len(p))
		}
	}))
	req := provedRequest(t, victim, mobile, victim)
	tok, _, err := spiffejwt.TokenGeneratorFunc(staticSource{victim}, time.Minute)(nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Connection.Path.PathSegments[0].Token = tok
	conn, err := srv.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := bootstrap.Get(conn.GetContext().GetExtraContext()); err != nil || b.HomeAddress != mobileHoA {
		t.Errorf("bootstrap %+v, %v; want home address %s", b, err, mobileHoA)
	}
	if _, ok := conn.GetContext().GetExtraContext()[identity.KeySVIDProof]; ok {
		t.Error("the returned connection carries the proof back")
	}
	f.wantAuthorized(mobileHoA, coa1)
}

func TestWithoutIdentifyEveryRequestIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.serverWith(nil).Request(context.Background(), request(t, "c1", mobile, coa1))
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "Config.Identify") || f.reg.Len() != 0 {
		t.Errorf("error %v (%d connections), want PermissionDenied naming Config.Identify", err, f.reg.Len())
	}
}

// TestARefreshCannotChangeTheIdentity: a Request that reuses a live
// connection's ID under another identity is refused, and the connection
// keeps its owner and care-of address.
func TestARefreshCannotChangeTheIdentity(t *testing.T) {
	f := newFixture(t, nil)
	srv := f.server()
	if _, err := srv.Request(context.Background(), request(t, "c1", mobile, coa1)); err != nil {
		t.Fatal(err)
	}
	_, err := srv.Request(context.Background(), request(t, "c1", "spiffe://example.org/ns/demo/sa/intruder", coa2))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Request under another identity: %v, want PermissionDenied", err)
	}
	if f.reg.Len() != 1 {
		t.Errorf("%d connections, want the first only", f.reg.Len())
	}
	f.wantAuthorized(mobileHoA, coa1)
	f.wantRefused(mobileHoA, coa2, mh.StatusAdministrativelyProhibited)
}
