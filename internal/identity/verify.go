package identity

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// KeySVIDProof is the ExtraContext key under which the client sends its
// X.509-SVID certificate chain (EncodeProof) with every Request.
const KeySVIDProof = "mip6mesh.io/client-svid"

// The errors of Verify, one per way a proof can fail; the messages name
// the bad value.
var (
	// ErrNoProof means the request carries no SVID proof.
	ErrNoProof = errors.New("no client svid proof in the request")
	// ErrBadProof means the proof is not base64 of DER certificates.
	ErrBadProof = errors.New("client svid proof is not base64 (std) of DER certificates")
	// ErrUntrustedProof means the certificate chain is not an X.509-SVID
	// of a trusted trust domain.
	ErrUntrustedProof = errors.New("client svid proof is not a trusted x509-svid")
	// ErrBadSignature means the token of path segment 0 is not signed by
	// the key of the proof's leaf certificate.
	ErrBadSignature = errors.New("token of path segment 0 is not signed by the client svid's key")
	// ErrSubjectMismatch means the token's subject is not the SPIFFE ID of
	// the certificate whose key signed it.
	ErrSubjectMismatch = errors.New("token subject is not the client svid's spiffe id")
	// ErrTokenExpired means the token of path segment 0 has expired or
	// carries no expiry.
	ErrTokenExpired = errors.New("token of path segment 0 has expired")
)

// signingMethods are the JWT algorithms Verify accepts: the asymmetric
// ones an X.509-SVID key can sign with (spiffejwt signs ES256). HMAC and
// "none" are never accepted.
var signingMethods = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// EncodeProof is the ExtraContext value for a certificate chain, leaf
// first: the DER certificates concatenated, base64 (std) encoded.
func EncodeProof(certs []*x509.Certificate) string {
	var der []byte
	for _, c := range certs {
		der = append(der, c.Raw...)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// Verify returns the identity of the client of a connection, proved: the
// proof in extra (KeySVIDProof, the request's ExtraContext) must be an
// X.509-SVID chain trusted by bundles, the token of path segment 0 must be
// signed by its leaf's key, unexpired, and its subject must be the SVID's
// SPIFFE ID.
//
// NSM's authorize policies check each segment's token against the TLS
// peer that sent it, and the chaining of the tokens, but never that the
// client's subject is its own SPIFFE ID: without the proof, any workload
// with an SVID could sign a token naming another.
func Verify(path *networkservice.Path, extra map[string]string, bundles x509bundle.Source) (spiffeid.ID, error) {
	certs, err := decodeProof(extra[KeySVIDProof])
	if err != nil {
		return spiffeid.ID{}, err
	}
	id, _, err := x509svid.Verify(certs, bundles)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: leaf %q: %w", ErrUntrustedProof, certs[0].Subject.String(), err)
	}
	tok, err := firstToken(path)
	if err != nil {
		return spiffeid.ID{}, err
	}
	claims, err := parseSignedBy(tok, certs[0].PublicKey, id)
	if err != nil {
		return spiffeid.ID{}, err
	}
	if claims.Subject != id.String() {
		return spiffeid.ID{}, fmt.Errorf("%w: subject %q, svid %s", ErrSubjectMismatch, claims.Subject, id)
	}
	return id, nil
}

// MaxProofLen bounds a proof before it is decoded and parsed: an SVID
// chain is a few kilobytes.
const MaxProofLen = 16 << 10

// decodeProof parses a proof into its certificates, leaf first.
func decodeProof(proof string) ([]*x509.Certificate, error) {
	if proof == "" {
		return nil, fmt.Errorf("%w (ExtraContext %q)", ErrNoProof, KeySVIDProof)
	}
	if len(proof) > MaxProofLen {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadProof, len(proof), MaxProofLen)
	}
	der, err := base64.StdEncoding.DecodeString(proof)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	certs, err := x509.ParseCertificates(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate in %d bytes", ErrBadProof, len(der))
	}
	return certs, nil
}

// firstToken is the token of the client's own path segment.
func firstToken(p *networkservice.Path) (string, error) {
	segments := p.GetPathSegments()
	if len(segments) == 0 {
		return "", fmt.Errorf("%w: the path has no segments", ErrNoIdentity)
	}
	if segments[0].GetToken() == "" {
		return "", fmt.Errorf("%w: path segment 0 (%q) carries no token", ErrNoIdentity, segments[0].GetName())
	}
	return segments[0].GetToken(), nil
}

// parseSignedBy parses tok, checking its signature with key (the SVID id's)
// and its expiry.
func parseSignedBy(tok string, key any, id spiffeid.ID) (*jwt.RegisteredClaims, error) {
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods(signingMethods)).ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		if !keyFits(t.Method, key) {
			return nil, fmt.Errorf("%w: %s token, %T key", jwt.ErrInvalidKeyType, t.Method.Alg(), key)
		}
		return key, nil
	})
	switch {
	case err == nil && claims.ExpiresAt == nil:
		return nil, fmt.Errorf("%w: the token has no expiry", ErrTokenExpired)
	case err == nil:
		return claims, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("%w: %w", ErrTokenExpired, err)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, fmt.Errorf("%w: token of path segment 0: %w", ErrNoIdentity, err)
	default:
		return nil, fmt.Errorf("%w (svid %s): %w", ErrBadSignature, id, err)
	}
}

// keyFits reports whether a token signed with m can be verified with key,
// so that a token's header cannot choose how the key is used.
func keyFits(m jwt.SigningMethod, key any) bool {
	switch key.(type) {
	case *ecdsa.PublicKey:
		_, ok := m.(*jwt.SigningMethodECDSA)
		return ok
	case *rsa.PublicKey:
		_, rs := m.(*jwt.SigningMethodRSA)
		_, ps := m.(*jwt.SigningMethodRSAPSS)
		return rs || ps
	case ed25519.PublicKey:
		_, ok := m.(*jwt.SigningMethodEd25519)
		return ok
	default:
		return false
	}
}
