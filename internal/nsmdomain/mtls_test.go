package nsmdomain_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	"github.com/networkservicemesh/sdk/pkg/networkservice/ipam/point2pointipam"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain/nsmtest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

// testCA is a throw-away SPIFFE trust domain: a CA and the SVIDs it signs.
type testCA struct {
	td     spiffeid.TrustDomain
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial int64
}

func newTestCA(t *testing.T, td string) *testCA {
	t.Helper()
	ca := &testCA{td: spiffeid.RequireTrustDomainFromString(td), key: newKey(t)}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nsmdomain test CA"},
		URIs:                  []*url.URL{ca.td.ID().URL()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	ca.cert = createCert(t, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	ca.serial = 1
	return ca
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func createCert(t *testing.T, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// credentials issues an SVID for path and returns mTLS credentials with it.
func (ca *testCA) credentials(t *testing.T, path string) nsmdomain.Credentials {
	t.Helper()
	ca.serial++
	id := spiffeid.RequireFromPath(ca.td, path)
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(ca.serial),
		URIs:                  []*url.URL{id.URL()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	svid := &x509svid.SVID{ID: id, Certificates: []*x509.Certificate{createCert(t, tmpl, ca.cert, &key.PublicKey, ca.key)}, PrivateKey: key}
	bundle := x509bundle.FromX509Authorities(ca.td, []*x509.Certificate{ca.cert})
	return nsmdomain.MTLS(svidSource{svid}, bundle, time.Hour)
}

type svidSource struct{ svid *x509svid.SVID }

func (s svidSource) GetX509SVID() (*x509svid.SVID, error) { return s.svid, nil }

func TestMTLSDomainCarriesClientIdentityToEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ca := newTestCA(t, "mip6mesh.test")
	clientNS, endpointNS := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	d := nsmtest.StartDomain(ctx, t, nsmdomain.Config{Dir: nsmtest.SocketDir(t), Credentials: ca.credentials(t, "/nsm")})
	_, prefix, _ := net.ParseCIDR("fd00:a::/120")
	// The sdk's default policies check that every path segment's token is
	// signed by the peer that sent it: the domain's components must sign
	// with their SVIDs.
	nsmtest.StartEndpoint(ctx, t, nsmtest.EndpointSpec{
		Name: "home-agent", Service: "home-agent", NSMgrURL: d.NSMgrURL, Dir: nsmtest.SocketDir(t),
		NetNS: nsmtest.NetNSURL(endpointNS.Name()), Credentials: ca.credentials(t, "/ns/ha/sa/home-agent"),
		Elements:  []networkservice.NetworkServiceServer{point2pointipam.NewServer(prefix)},
		Authorize: authorize.NewServer(),
	})
	const clientID = "spiffe://mip6mesh.test/ns/mn/sa/mobile"
	nsc := nsmtest.NewClient(ctx, nsmtest.ClientSpec{
		NSMgrURL: d.NSMgrURL, NetNS: nsmtest.NetNSURL(clientNS.Name()), InterfaceName: "nsm-1",
		Credentials: ca.credentials(t, "/ns/mn/sa/mobile"),
	})

	conn, err := nsc.Request(ctx, nsmtest.NewRequest("mtls-1", "home-agent"))
	if err != nil {
		t.Fatalf("request over mTLS: %v", err)
	}
	if sub := tokenSubject(t, conn.GetPath().GetPathSegments()[0].GetToken()); sub != clientID {
		t.Errorf("first path segment names %q, want the client's SVID %s", sub, clientID)
	}
	if _, err := nsc.Close(ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestMTLSDomainRefusesInsecureClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ca := newTestCA(t, "mip6mesh.test")
	clientNS := netnstest.New(t, "nsc")
	d := nsmtest.StartDomain(ctx, t, nsmdomain.Config{Dir: nsmtest.SocketDir(t), Credentials: ca.credentials(t, "/nsm")})
	nsc := nsmtest.NewClient(ctx, nsmtest.ClientSpec{
		NSMgrURL: d.NSMgrURL, NetNS: nsmtest.NetNSURL(clientNS.Name()), InterfaceName: "nsm-1",
		Credentials: nsmdomain.Insecure(),
	})
	reqCtx, reqCancel := context.WithTimeout(ctx, 3*time.Second)
	defer reqCancel()
	if _, err := nsc.Request(reqCtx, nsmtest.NewRequest("insecure-1", "home-agent")); err == nil {
		t.Fatal("an insecure client got a connection from an mTLS domain")
	}
}

func tokenSubject(t *testing.T, token string) string {
	t.Helper()
	claims := &jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatalf("parse token: %v", err)
	}
	return claims.Subject
}
