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

// FromPath returns the identity of the client of a connection: the SPIFFE
// ID in the sub claim of the token of the path's first segment. The token
// is not verified: the caller's authorize element has done that.
func FromPath(p *networkservice.Path) (spiffeid.ID, error) {
	segments := p.GetPathSegments()
	if len(segments) == 0 {
		return spiffeid.ID{}, fmt.Errorf("%w: the path has no segments", ErrNoIdentity)
	}
	first := segments[0]
	if first.GetToken() == "" {
		return spiffeid.ID{}, fmt.Errorf("%w: path segment 0 (%q) carries no token", ErrNoIdentity, first.GetName())
	}
	claims := &jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(first.GetToken(), claims); err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: token of path segment 0 (%q): %w", ErrNoIdentity, first.GetName(), err)
	}
	if claims.Subject == "" {
		return spiffeid.ID{}, fmt.Errorf("%w: token of path segment 0 (%q) has no subject", ErrNoIdentity, first.GetName())
	}
	id, err := spiffeid.FromString(claims.Subject)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: subject %q of path segment 0 (%q) is not a SPIFFE ID: %w",
			ErrNoIdentity, claims.Subject, first.GetName(), err)
	}
	return id, nil
}
