package sandboxtest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/cls"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/api/pkg/api/registry"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/client"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/networkservice/ipam/point2pointipam"
	"github.com/networkservicemesh/sdk/pkg/tools/sandbox"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.uber.org/goleak"
	"google.golang.org/grpc/credentials"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	chainha "github.com/mip6mesh/mip6mesh/internal/chain/homeagent"
	chainmn "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	haAddr     = netip.MustParseAddr("2001:db8:1::1")
	coaPrefix  = netip.MustParsePrefix("2001:db8:ca::/64")
	mobileID   = "spiffe://example.org/ns/demo/sa/mobile"
	intruderID = "spiffe://example.org/ns/demo/sa/intruder"
)

const testTimeout = 30 * time.Second

// memoryDataPlane is the Home Agent's forwarding state in memory.
type memoryDataPlane struct {
	mu     sync.Mutex
	routes map[netip.Addr]netip.Addr
}

func (d *memoryDataPlane) Bind(_ context.Context, hoa, coa netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[hoa] = coa
	return nil
}

func (d *memoryDataPlane) Unbind(_ context.Context, hoa netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.routes, hoa)
	return nil
}

func (d *memoryDataPlane) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.routes)
}

// homeAgent is the Home Agent core with the endpoint element's registry
// as its Authorizer.
type homeAgent struct {
	core *homeagent.HomeAgent
	reg  *chainha.Registry
	dp   *memoryDataPlane
	elem networkservice.NetworkServiceServer
}

func newHomeAgent(t *testing.T) *homeAgent {
	t.Helper()
	// The sandbox signs every token with HS256 and has no SPIFFE
	// identities, so these tests take the client's identity from its
	// token unverified; TestProvedIdentity runs the verifying one.
	return newHomeAgentIdentifying(t, func(conn *networkservice.Connection) (spiffeid.ID, error) {
		return identity.ClaimedFromPath(conn.GetPath())
	})
}

func newHomeAgentIdentifying(t *testing.T, identify chainha.IdentifyFunc) *homeAgent {
	t.Helper()
	policy, err := identity.NewDerived(homePrefix, haAddr)
	if err != nil {
		t.Fatal(err)
	}
	h := &homeAgent{reg: chainha.NewRegistry(policy, chainha.WithoutIngressCheck()), dp: &memoryDataPlane{routes: map[netip.Addr]netip.Addr{}}}
	h.core, err = homeagent.New(homeagent.Config{HomePrefixes: []netip.Prefix{homePrefix}, MaxLifetime: 10 * time.Minute,
		Authorizer: h.reg, DataPlane: h.dp, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.core.Close(context.Background()) })
	h.elem = chainha.NewServer(h.reg, h.core, chainha.Config{HomeAgent: haAddr, HomePrefix: homePrefix,
		Identify: identify, Logger: discard()})
	return h
}

// endpointChain is the Home Agent endpoint's functionality after the
// sandbox's standard endpoint elements: IPAM then the element.
func (h *homeAgent) endpointChain() []networkservice.NetworkServiceServer {
	return []networkservice.NetworkServiceServer{point2pointipam.NewServer(ipNet(coaPrefix)), h.elem}
}

func (h *homeAgent) homeAddressOf(t *testing.T, id string) netip.Addr {
	t.Helper()
	policy, _ := identity.NewDerived(homePrefix, haAddr)
	hoa, err := policy.HomeAddress(spiffeid.RequireFromString(id))
	if err != nil {
		t.Fatal(err)
	}
	return hoa
}

// directRegistrar is the mobile node core as these tests need it. The
// sandbox's forwarder creates no interfaces, so a BU cannot cross a kernel
// here: Register hands the BU the mobile node would send from its care-of
// address straight to the Home Agent core. (The kernel path, BU and BA over
// a real vWire, is tested with the project's own forwarder.)
type directRegistrar struct {
	ha *homeagent.HomeAgent
	// claim, when valid, is the home address registered instead of the
	// one the Home Agent gave.
	claim netip.Addr
	// loseDeregistration drops the deregistration BU, as when the vWire
	// is already gone.
	loseDeregistration bool

	mu       sync.Mutex
	seq      uint16
	at       chainmn.Attachment
	attached []chainmn.Attachment
}

func (r *directRegistrar) Register(ctx context.Context, at chainmn.Attachment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	hoa := at.HomeAddress
	if r.claim.IsValid() {
		hoa = r.claim
	}
	if err := r.send(ctx, at.CareOf, hoa, 60); err != nil {
		return err
	}
	r.at = at
	r.attached = append(r.attached, at)
	return nil
}

func (r *directRegistrar) Deregister(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loseDeregistration {
		return mobilenode.ErrNoAck
	}
	return r.send(ctx, r.at.CareOf, r.at.HomeAddress, 0)
}

func (r *directRegistrar) send(ctx context.Context, coa, hoa netip.Addr, lifetime mh.Lifetime) error {
	r.seq++
	reply := r.ha.HandleBindingUpdate(ctx, homeagent.Update{Source: coa, HomeAddress: hoa,
		BU: &mh.BindingUpdate{Sequence: r.seq, Flags: mh.FlagA | mh.FlagH, Lifetime: lifetime}})
	if reply.Ack.Status >= mh.StatusUnspecified {
		return &mobilenode.StatusError{Status: reply.Ack.Status}
	}
	return nil
}

func (r *directRegistrar) attachments() []chainmn.Attachment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chainmn.Attachment(nil), r.attached...)
}

// tokenFor is sandbox.GenerateTestToken with subject as the identity.
func tokenFor(subject string) token.GeneratorFunc {
	return func(credentials.AuthInfo) (string, time.Time, error) {
		expires := time.Now().Add(time.Hour)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
			Subject: subject, ExpiresAt: jwt.NewNumericDate(expires),
		}).SignedString([]byte("supersecret"))
		return tok, expires, err
	}
}

// newClient is the sandbox's client without retry and heal, so that a
// refused Request returns its error instead of being tried again.
func newClient(ctx context.Context, node *sandbox.Node, subject string, r chainmn.Registrar) networkservice.NetworkServiceClient {
	return newClientWith(ctx, node, tokenFor(subject), chainmn.NewClient(r, chainmn.WithLogger(discard())))
}

// newClientWith is newClient with the given token generator and elements.
func newClientWith(ctx context.Context, node *sandbox.Node, tokens token.GeneratorFunc,
	elements ...networkservice.NetworkServiceClient) networkservice.NetworkServiceClient {
	return client.NewClient(ctx,
		client.WithClientURL(sandbox.CloneURL(node.NSMgr.URL)),
		client.WithDialOptions(sandbox.DialOptions(sandbox.WithTokenGenerator(tokens))...),
		client.WithAuthorizeClient(authorize.NewClient(authorize.Any())),
		client.WithDialTimeout(sandbox.DialTimeout),
		client.WithAdditionalFunctionality(elements...),
	)
}

func kernelRequest(id, service string) *networkservice.NetworkServiceRequest {
	return &networkservice.NetworkServiceRequest{
		MechanismPreferences: []*networkservice.Mechanism{{Cls: cls.LOCAL, Type: kernel.MECHANISM,
			Parameters: map[string]string{kernel.InterfaceNameKey: "nsm-1"}}},
		Connection: &networkservice.Connection{Id: id, NetworkService: service, Context: &networkservice.ConnectionContext{}},
	}
}

// TestOneDomain: a mobile node connects to the Home Agent in one domain,
// registers its home address over the connection and deregisters when it
// closes it.
func TestOneDomain(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	domain := sandbox.NewBuilder(ctx, t).SetNodesCount(1).SetNSMgrProxySupplier(nil).SetRegistryProxySupplier(nil).Build()
	if _, err := domain.NewNSRegistryClient(ctx, sandbox.GenerateTestToken).Register(ctx, &registry.NetworkService{Name: "home-agent"}); err != nil {
		t.Fatal(err)
	}
	ha := newHomeAgent(t)
	domain.Nodes[0].NewEndpoint(ctx, &registry.NetworkServiceEndpoint{Name: "nse-homeagent", NetworkServiceNames: []string{"home-agent"}},
		sandbox.GenerateTestToken, ha.endpointChain()...)

	mn := &directRegistrar{ha: ha.core}
	nsc := newClient(ctx, domain.Nodes[0], mobileID, mn)
	conn := requestAndCheckRegistered(ctx, t, ha, nsc, mn, "home-agent")

	checkIntruderRefused(ctx, t, ha, domain.Nodes[0], "home-agent", mn.attachments()[0])
	checkUnknownCareOfRefused(ctx, t, ha)

	if _, err := nsc.Close(ctx, conn); err != nil {
		t.Fatal(err)
	}
	checkAllGone(t, ha)
}

// TestFloatingInterdomain: the mobile node's domain (cluster1) reaches the
// Home Agent in another (cluster2) through the floating registry
// (floating.domain), as deployments-k8s's floating interdomain example
// does. The deregistration BU is lost on Close here: the Home Agent's side
// of the connection closing removes the binding.
func TestFloatingInterdomain(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	dns := sandbox.NewFakeResolver()
	cluster1 := sandbox.NewBuilder(ctx, t).SetNodesCount(1).SetDNSResolver(dns).SetDNSDomainName("cluster1").Build()
	cluster2 := sandbox.NewBuilder(ctx, t).SetNodesCount(1).SetDNSResolver(dns).SetDNSDomainName("cluster2").Build()
	floating := sandbox.NewBuilder(ctx, t).SetNodesCount(0).SetDNSResolver(dns).SetDNSDomainName("floating.domain").
		SetNSMgrProxySupplier(nil).SetRegistryProxySupplier(nil).Build()

	service := "home-agent@" + floating.Name
	if _, err := cluster2.NewNSRegistryClient(ctx, sandbox.GenerateTestToken).Register(ctx, &registry.NetworkService{Name: service}); err != nil {
		t.Fatal(err)
	}
	ha := newHomeAgent(t)
	cluster2.Nodes[0].NewEndpoint(ctx, &registry.NetworkServiceEndpoint{Name: "nse-homeagent@" + floating.Name, NetworkServiceNames: []string{"home-agent"}},
		sandbox.GenerateTestToken, ha.endpointChain()...)

	mn := &directRegistrar{ha: ha.core, loseDeregistration: true}
	nsc := newClient(ctx, cluster1.Nodes[0], mobileID, mn)
	conn := requestAndCheckRegistered(ctx, t, ha, nsc, mn, service)
	if n := countSegments(conn, "nsmgr-proxy-"); n != 2 {
		t.Errorf("the connection crossed %d nsmgr-proxies, want 2 (path %v)", n, conn.GetPath().GetPathSegments())
	}

	checkIntruderRefused(ctx, t, ha, cluster1.Nodes[0], service, mn.attachments()[0])
	checkUnknownCareOfRefused(ctx, t, ha)

	if _, err := nsc.Close(ctx, conn); err != nil {
		t.Fatal(err)
	}
	checkAllGone(t, ha)
}

// requestAndCheckRegistered connects the mobile node and checks it got its
// derived home address, the Home Agent's address, and a binding at its
// care-of address.
func requestAndCheckRegistered(ctx context.Context, t *testing.T, ha *homeAgent, nsc networkservice.NetworkServiceClient,
	mn *directRegistrar, service string) *networkservice.Connection {
	t.Helper()
	conn, err := nsc.Request(ctx, kernelRequest("mobile-1", service))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	b, err := bootstrap.Get(conn.GetContext().GetExtraContext())
	want := bootstrap.Bootstrap{HomeAddress: ha.homeAddressOf(t, mobileID), HomeAgent: haAddr, HomePrefix: homePrefix}
	if err != nil || b != want {
		t.Errorf("bootstrap %+v, %v; want %+v", b, err, want)
	}
	coa := netip.MustParsePrefix(conn.GetContext().GetIpContext().GetSrcIpAddrs()[0]).Addr()
	if !coaPrefix.Contains(coa) {
		t.Errorf("care-of address %s is not from IPAM's %s", coa, coaPrefix)
	}
	// The attachment's interface stays empty: the sandbox's forwarder
	// selects no mechanism for the client.
	if at := mn.attachments(); len(at) != 1 || at[0].CareOf != coa || at[0].Bootstrap != want {
		t.Errorf("registered %+v, want one attachment at %s", at, coa)
	}
	if bnd, ok := ha.core.Lookup(want.HomeAddress); !ok || bnd.CareOf != coa {
		t.Errorf("binding of %s: %+v %v, want at %s", want.HomeAddress, bnd, ok, coa)
	}
	if ha.reg.Len() != 1 {
		t.Errorf("%d live connections at the Home Agent, want 1", ha.reg.Len())
	}
	return conn
}

// checkIntruderRefused connects a second client with another identity
// that claims the first one's home address: the Home Agent refuses the BU
// with 133, the binding stays as it was, and the second client's
// connection is closed.
func checkIntruderRefused(ctx context.Context, t *testing.T, ha *homeAgent, node *sandbox.Node, service string, victim chainmn.Attachment) {
	t.Helper()
	before, _ := ha.core.Lookup(victim.HomeAddress)
	intruder := &directRegistrar{ha: ha.core, claim: victim.HomeAddress}
	_, err := newClient(ctx, node, intruderID, intruder).Request(ctx, kernelRequest("intruder-1", service))
	var se *mobilenode.StatusError
	var re *chainmn.RegistrationError
	if !errors.As(err, &se) || se.Status != mh.StatusNotHomeAgentForThisMobileNode || !errors.As(err, &re) || re.HomeAddress != ha.homeAddressOf(t, intruderID) {
		t.Errorf("intruder's Request: %v, want its registration of %s refused with status 133", err, victim.HomeAddress)
	}
	if after, ok := ha.core.Lookup(victim.HomeAddress); !ok || after != before {
		t.Errorf("binding changed by the refused BU: %+v, was %+v", after, before)
	}
	if ha.core.Len() != 1 || ha.reg.Len() != 1 {
		t.Errorf("%d bindings, %d live connections after the intruder, want 1 and 1", ha.core.Len(), ha.reg.Len())
	}
}

// checkUnknownCareOfRefused sends a BU from a care-of address that is no
// connection's: status 129.
func checkUnknownCareOfRefused(ctx context.Context, t *testing.T, ha *homeAgent) {
	t.Helper()
	stranger := &directRegistrar{ha: ha.core}
	err := stranger.Register(ctx, chainmn.Attachment{
		Bootstrap: bootstrap.Bootstrap{HomeAddress: ha.homeAddressOf(t, intruderID), HomeAgent: haAddr, HomePrefix: homePrefix},
		CareOf:    netip.MustParseAddr("2001:db8:ff::1"),
	})
	var se *mobilenode.StatusError
	if !errors.As(err, &se) || se.Status != mh.StatusAdministrativelyProhibited {
		t.Errorf("BU from an unknown care-of address: %v, want status 129", err)
	}
}

func checkAllGone(t *testing.T, ha *homeAgent) {
	t.Helper()
	if ha.core.Len() != 0 || ha.dp.len() != 0 || ha.reg.Len() != 0 {
		t.Errorf("after Close: %d bindings, %d data plane routes, %d live connections; want none",
			ha.core.Len(), ha.dp.len(), ha.reg.Len())
	}
}

func countSegments(conn *networkservice.Connection, prefix string) int {
	n := 0
	for _, s := range conn.GetPath().GetPathSegments() {
		if strings.HasPrefix(s.GetName(), prefix) {
			n++
		}
	}
	return n
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
