package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"

	"github.com/mip6mesh/mip6mesh/internal/identity"
)

func token(t *testing.T, subject string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: subject}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func path(tokens ...string) *networkservice.Path {
	p := &networkservice.Path{}
	for i, tok := range tokens {
		p.PathSegments = append(p.PathSegments, &networkservice.PathSegment{Name: []string{"nsc", "nsmgr", "nse"}[i%3], Token: tok})
	}
	return p
}

func TestClaimedFromPathReadsTheFirstSegment(t *testing.T) {
	p := path(token(t, "spiffe://example.org/ns/demo/sa/mobile"), token(t, "spiffe://example.org/nsmgr"))
	id, err := identity.ClaimedFromPath(p)
	if err != nil || id.String() != "spiffe://example.org/ns/demo/sa/mobile" {
		t.Errorf("ClaimedFromPath = %v, %v", id, err)
	}
}

func TestClaimedFromPathErrorsSayWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name string
		path *networkservice.Path
		want string
	}{
		{"nil path", nil, "no segments"},
		{"empty path", path(), "no segments"},
		{"no token", path(""), `("nsc") carries no token`},
		{"not a JWT", path("not-a-jwt"), "token of path segment 0"},
		{"no subject", path(token(t, "")), "has no subject"},
		{"not SPIFFE", path(token(t, "https://example.org/mobile")), `subject "https://example.org/mobile"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identity.ClaimedFromPath(tc.path)
			if !errors.Is(err, identity.ErrNoIdentity) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrNoIdentity mentioning %q", err, tc.want)
			}
		})
	}
}
