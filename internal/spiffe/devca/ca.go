package devca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/mip6mesh/mip6mesh/internal/clock"
)

// CA is the authority of one trust domain. It is safe for concurrent use.
// It is also an x509bundle.Source for its own trust domain.
type CA struct {
	td     spiffeid.TrustDomain
	cfg    config
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	bundle *x509bundle.Bundle
}

// New creates a CA with a fresh self-signed root for td.
func New(td spiffeid.TrustDomain, opts ...Option) (*CA, error) {
	if td.IsZero() {
		return nil, fmt.Errorf("devca: empty trust domain")
	}
	cfg := config{svidTTL: DefaultSVIDTTL, caTTL: DefaultCATTL, clock: clock.Real{}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.svidTTL <= 0 || cfg.caTTL <= 0 {
		return nil, fmt.Errorf("devca: lifetimes must be positive: SVID %v, CA %v", cfg.svidTTL, cfg.caTTL)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devca: generate CA key: %w", err)
	}
	cert, err := selfSign(td, key, cfg.clock.Now(), cfg.caTTL)
	if err != nil {
		return nil, err
	}
	return &CA{td: td, cfg: cfg, key: key, cert: cert,
		bundle: x509bundle.FromX509Authorities(td, []*x509.Certificate{cert})}, nil
}

// TrustDomain returns the CA's trust domain.
func (ca *CA) TrustDomain() spiffeid.TrustDomain { return ca.td }

// Bundle returns the trust bundle (the CA certificate) of the trust domain.
func (ca *CA) Bundle() *x509bundle.Bundle { return ca.bundle }

// GetX509BundleForTrustDomain implements x509bundle.Source.
func (ca *CA) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	return ca.bundle.GetX509BundleForTrustDomain(td)
}

// Issue returns a new X.509-SVID for id, with a fresh key, valid for the
// configured SVID lifetime (never past the CA's own expiry).
func (ca *CA) Issue(id spiffeid.ID) (*x509svid.SVID, error) {
	if err := ca.checkID(id); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devca: generate key for %s: %w", id, err)
	}
	now := ca.cfg.clock.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"mip6mesh devca"}},
		URIs:                  []*url.URL{id.URL()},
		NotBefore:             now.Add(-backdate),
		NotAfter:              minTime(now.Add(ca.cfg.svidTTL), ca.cert.NotAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("devca: sign SVID for %s: %w", id, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devca: parse SVID for %s: %w", id, err)
	}
	return &x509svid.SVID{ID: id, Certificates: []*x509.Certificate{leaf}, PrivateKey: key}, nil
}

func (ca *CA) checkID(id spiffeid.ID) error {
	if id.IsZero() || id.TrustDomain() != ca.td {
		return fmt.Errorf("devca: %w: %q is not in %s", ErrForeignID, id.String(), ca.td.IDString())
	}
	return nil
}

func selfSign(td spiffeid.TrustDomain, key *ecdsa.PrivateKey, now time.Time, ttl time.Duration) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"mip6mesh devca"}, CommonName: td.Name()},
		URIs:                  []*url.URL{td.ID().URL()},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(ttl),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("devca: self-sign CA for %s: %w", td.IDString(), err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devca: parse CA certificate: %w", err)
	}
	return cert, nil
}

// randomSerial returns a 128-bit serial number; crypto/rand never fails on
// supported platforms, so neither does this.
func randomSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return new(big.Int).SetBytes(b)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
