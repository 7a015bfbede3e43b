package sandboxtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/registry"
	"github.com/networkservicemesh/sdk/pkg/tools/sandbox"
	"github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"go.uber.org/goleak"
	"google.golang.org/grpc/credentials"

	chainha "github.com/mip6mesh/mip6mesh/internal/chain/homeagent"
	chainmn "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
	"github.com/mip6mesh/mip6mesh/internal/chain/svidproof"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

// TestProvedIdentity runs the Home Agent with the verifying
// identification through a whole NSM domain: the client's segment 0
// carries the sdk's ES256 token signed with a devca SVID (the sandbox's
// own hops keep their HS256 tokens) and its SVID proof crosses the nsmgr
// and forwarder, on the first Request and on a refresh (the Home Agent
// removes the proof from the connection, so the refresh must bring its
// own). A client that signs a token naming the mobile node with its own
// SVID is refused.
func TestProvedIdentity(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("example.org"))
	if err != nil {
		t.Fatal(err)
	}
	domain := sandbox.NewBuilder(ctx, t).SetNodesCount(1).SetNSMgrProxySupplier(nil).SetRegistryProxySupplier(nil).Build()
	if _, err := domain.NewNSRegistryClient(ctx, sandbox.GenerateTestToken).Register(ctx, &registry.NetworkService{Name: "home-agent"}); err != nil {
		t.Fatal(err)
	}
	ha := newHomeAgentIdentifying(t, chainha.VerifiedIdentity(ca))
	domain.Nodes[0].NewEndpoint(ctx, &registry.NetworkServiceEndpoint{Name: "nse-homeagent", NetworkServiceNames: []string{"home-agent"}},
		sandbox.GenerateTestToken, ha.endpointChain()...)

	mobileSrc := source(t, ca, mobileID)
	mn := &directRegistrar{ha: ha.core}
	nsc := newClientWith(ctx, domain.Nodes[0], spiffejwt.TokenGeneratorFunc(mobileSrc, time.Hour),
		svidproof.NewClient(mobileSrc), chainmn.NewClient(mn, chainmn.WithLogger(discard())))
	conn := requestAndCheckRegistered(ctx, t, ha, nsc, mn, "home-agent")

	if _, ok := conn.GetContext().GetExtraContext()[identity.KeySVIDProof]; ok {
		t.Error("the proof came back to the client")
	}
	refresh := kernelRequest("mobile-1", "home-agent")
	refresh.Connection = conn // a refresh carries the connection as it came back
	refreshed, err := nsc.Request(ctx, refresh)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if ha.reg.Len() != 1 || len(mn.attachments()) != 1 {
		t.Errorf("after the refresh: %d live connections, %d registrations; want 1 and 1", ha.reg.Len(), len(mn.attachments()))
	}

	attackerSrc := source(t, ca, intruderID)
	forger := forgedTokens(attackerSrc, mobileID)
	intruder := &directRegistrar{ha: ha.core}
	_, err = newClientWith(ctx, domain.Nodes[0], forger, svidproof.NewClient(attackerSrc), chainmn.NewClient(intruder, chainmn.WithLogger(discard()))).
		Request(ctx, kernelRequest("intruder-1", "home-agent"))
	// The nsmgr passes the endpoint's PermissionDenied on as text.
	if err == nil || !strings.Contains(err.Error(), identity.ErrSubjectMismatch.Error()) || len(intruder.attachments()) != 0 {
		t.Errorf("forged identity: %v, %d registrations; want the subject mismatch and none", err, len(intruder.attachments()))
	}
	if ha.reg.Len() != 1 || ha.core.Len() != 1 {
		t.Errorf("after the forgery: %d live connections, %d bindings; want 1 and 1", ha.reg.Len(), ha.core.Len())
	}

	if _, err := nsc.Close(ctx, refreshed); err != nil {
		t.Fatal(err)
	}
	checkAllGone(t, ha)
}

func source(t *testing.T, ca *devca.CA, id string) x509svid.Source {
	t.Helper()
	src, err := ca.Source(spiffeid.RequireFromString(id))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// forgedTokens signs, with src's own SVID key, tokens whose subject is
// victim: what NSM's default policies let any workload with an SVID do.
func forgedTokens(src x509svid.Source, victim string) token.GeneratorFunc {
	return func(credentials.AuthInfo) (string, time.Time, error) {
		svid, err := src.GetX509SVID()
		if err != nil {
			return "", time.Time{}, err
		}
		expires := time.Now().Add(time.Hour)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
			Subject: victim, ExpiresAt: jwt.NewNumericDate(expires),
		}).SignedString(svid.PrivateKey)
		return tok, expires, err
	}
}
