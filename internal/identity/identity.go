package identity

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Policy gives the home address of an identity.
type Policy interface {
	// HomeAddress returns id's home address, or an error matching
	// ErrRefused when id may have none.
	HomeAddress(id spiffeid.ID) (netip.Addr, error)
}

var (
	// ErrRefused means the policy gives the identity no home address.
	ErrRefused = errors.New("identity refused by the home address policy")
	// ErrNoIdentity means the connection path names no client identity.
	ErrNoIdentity = errors.New("no client identity in the connection path")
	// ErrPolicy means a policy could not be built; the message names the bad
	// value or entry.
	ErrPolicy = errors.New("invalid home address policy")
)

// ClaimedFromPath returns the identity the client's path token claims:
// the SPIFFE ID in the sub claim of the token of the path's first segment,
// unverified. The claim proves nothing (see the package doc): use Verify
// to identify a client. This is for chains without SPIFFE identities (the
// sdk sandbox's HS256 tokens), and for comparing the claim with an
// identity established otherwise, such as the TLS peer's.
func ClaimedFromPath(p *networkservice.Path) (spiffeid.ID, error) {
	tok, err := firstToken(p)
	if err != nil {
		return spiffeid.ID{}, err
	}
	name := p.GetPathSegments()[0].GetName()
	claims := &jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: token of path segment 0 (%q): %w", ErrNoIdentity, name, err)
	}
	if claims.Subject == "" {
		return spiffeid.ID{}, fmt.Errorf("%w: token of path segment 0 (%q) has no subject", ErrNoIdentity, name)
	}
	id, err := spiffeid.FromString(claims.Subject)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: subject %q of path segment 0 (%q) is not a SPIFFE ID: %w",
			ErrNoIdentity, claims.Subject, name, err)
	}
	return id, nil
}
