package identity_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

var (
	homeTD   = spiffeid.RequireTrustDomainFromString("example.org")
	victimID = spiffeid.RequireFromPath(homeTD, "/mn-1")
	mallory  = spiffeid.RequireFromPath(homeTD, "/mn-2")
)

// pki is the home trust domain's CA (the one the endpoint trusts), a
// foreign trust domain's, and an impostor CA that claims the home trust
// domain with a key of its own.
type pki struct{ home, foreign, impostor *devca.CA }

func newPKI(t *testing.T) pki {
	t.Helper()
	var p pki
	var err error
	for _, ca := range []struct {
		dst **devca.CA
		td  string
	}{{&p.home, "example.org"}, {&p.foreign, "other.org"}, {&p.impostor, "example.org"}} {
		if *ca.dst, err = devca.New(spiffeid.RequireTrustDomainFromString(ca.td)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func issue(t *testing.T, ca *devca.CA, id spiffeid.ID) *x509svid.SVID {
	t.Helper()
	svid, err := ca.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	return svid
}

// sdkToken is the token the sdk's client signs for its path segment.
func sdkToken(t *testing.T, svid *x509svid.SVID) string {
	t.Helper()
	tok, _, err := spiffejwt.TokenGeneratorFunc(staticSource{svid}, 10*time.Minute)(nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type staticSource struct{ svid *x509svid.SVID }

func (s staticSource) GetX509SVID() (*x509svid.SVID, error) { return s.svid, nil }

// handToken is a token with the given subject and expiry signed by key.
func handToken(t *testing.T, m jwt.SigningMethod, key any, subject string, expires time.Time) string {
	t.Helper()
	claims := jwt.RegisteredClaims{Subject: subject}
	if !expires.IsZero() {
		claims.ExpiresAt = jwt.NewNumericDate(expires)
	}
	tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func proofOf(svid *x509svid.SVID) map[string]string {
	return map[string]string{identity.KeySVIDProof: identity.EncodeProof(svid.Certificates)}
}

func clientPath(tok string) *networkservice.Path {
	return &networkservice.Path{PathSegments: []*networkservice.PathSegment{
		{Name: "nsc", Token: tok}, {Name: "nsmgr"},
	}}
}

func TestVerifyAcceptsTheSDKsTokenWithItsOwnSVID(t *testing.T) {
	p := newPKI(t)
	svid := issue(t, p.home, victimID)
	id, err := identity.Verify(clientPath(sdkToken(t, svid)), proofOf(svid), p.home)
	if err != nil || id != victimID {
		t.Errorf("Verify = %v, %v; want %v", id, err, victimID)
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	p := newPKI(t)
	victim := issue(t, p.home, victimID)
	attacker := issue(t, p.home, mallory)
	inHour := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		tok   string
		extra map[string]string
		want  error
		names string
	}{
		// What the default OPA policies let through: a token signed with
		// the attacker's own SVID key, naming the victim.
		{"subject is another identity", handToken(t, jwt.SigningMethodES256, attacker.PrivateKey, victimID.String(), inHour),
			proofOf(attacker), identity.ErrSubjectMismatch, victimID.String()},
		{"victim's public chain, attacker's key", handToken(t, jwt.SigningMethodES256, attacker.PrivateKey, victimID.String(), inHour),
			proofOf(victim), identity.ErrBadSignature, victimID.String()},
		{"chain of another trust domain", sdkToken(t, issue(t, p.foreign, spiffeid.RequireFromString("spiffe://other.org/mn-1"))),
			proofOf(issue(t, p.foreign, spiffeid.RequireFromString("spiffe://other.org/mn-1"))), identity.ErrUntrustedProof, ""},
		{"chain of an impostor CA for the trust domain", sdkToken(t, issue(t, p.impostor, victimID)),
			proofOf(issue(t, p.impostor, victimID)), identity.ErrUntrustedProof, ""},
		{"expired token", handToken(t, jwt.SigningMethodES256, victim.PrivateKey, victimID.String(), time.Now().Add(-time.Minute)),
			proofOf(victim), identity.ErrTokenExpired, ""},
		{"token without expiry", handToken(t, jwt.SigningMethodES256, victim.PrivateKey, victimID.String(), time.Time{}),
			proofOf(victim), identity.ErrTokenExpired, "no expiry"},
		{"HMAC token keyed with the public key", handToken(t, jwt.SigningMethodHS256, victim.Certificates[0].RawSubjectPublicKeyInfo, victimID.String(), inHour),
			proofOf(victim), identity.ErrBadSignature, "HS256"},
		{"unsigned token", handToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, victimID.String(), inHour),
			proofOf(victim), identity.ErrBadSignature, "none"},
		{"no proof", sdkToken(t, victim), nil, identity.ErrNoProof, identity.KeySVIDProof},
		{"empty proof", sdkToken(t, victim), map[string]string{identity.KeySVIDProof: ""}, identity.ErrNoProof, ""},
		{"proof not base64", sdkToken(t, victim), map[string]string{identity.KeySVIDProof: "not base64!"}, identity.ErrBadProof, ""},
		{"proof not DER", sdkToken(t, victim), map[string]string{identity.KeySVIDProof: base64.StdEncoding.EncodeToString([]byte("garbage"))},
			identity.ErrBadProof, ""},
		{"proof too long", sdkToken(t, victim), map[string]string{identity.KeySVIDProof: strings.Repeat("A", identity.MaxProofLen+4)},
			identity.ErrBadProof, "at most"},
		{"token not a JWT", "not-a-jwt", proofOf(victim), identity.ErrNoIdentity, "segment 0"},
		{"no token", "", proofOf(victim), identity.ErrNoIdentity, "carries no token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := identity.Verify(clientPath(tc.tok), tc.extra, p.home)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.names) {
				t.Errorf("Verify = %v, %v; want %v naming %q", id, err, tc.want, tc.names)
			}
		})
	}
}

func TestVerifyWantsAPath(t *testing.T) {
	p := newPKI(t)
	svid := issue(t, p.home, victimID)
	if _, err := identity.Verify(nil, proofOf(svid), p.home); !errors.Is(err, identity.ErrNoIdentity) {
		t.Errorf("Verify(nil path) error %v, want ErrNoIdentity", err)
	}
}
