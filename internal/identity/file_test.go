package identity_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/mip6mesh/mip6mesh/internal/identity"
)

var (
	home = netip.MustParsePrefix("2001:db8:1::/64")
	ha   = netip.MustParseAddr("2001:db8:1::1")
)

func writePolicy(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyFileGivesListedAddressesAndRefusesOthers(t *testing.T) {
	f, err := identity.LoadPolicyFile(writePolicy(t, `{
		"spiffe://example.org/ns/demo/sa/mobile": "2001:db8:1::100",
		"spiffe://example.org/ns/demo/sa/other":  "2001:db8:1::101"
	}`), home, ha)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 2 {
		t.Errorf("%d entries, want 2", f.Len())
	}
	got, err := f.HomeAddress(spiffeid.RequireFromString("spiffe://example.org/ns/demo/sa/other"))
	if err != nil || got != netip.MustParseAddr("2001:db8:1::101") {
		t.Errorf("listed identity: %v, %v", got, err)
	}
	_, err = f.HomeAddress(spiffeid.RequireFromString("spiffe://example.org/ns/demo/sa/stranger"))
	if !errors.Is(err, identity.ErrRefused) || !strings.Contains(err.Error(), "sa/stranger") {
		t.Errorf("unlisted identity: error %v, want ErrRefused naming it", err)
	}
}

func TestPolicyFileErrorsNameTheBadEntry(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"outside the prefix", `{"spiffe://td/a": "2001:db8:2::1"}`, `"spiffe://td/a": home address 2001:db8:2::1 is outside home prefix 2001:db8:1::/64`},
		{"IPv4", `{"spiffe://td/a": "192.0.2.1"}`, `"spiffe://td/a": home address 192.0.2.1 is outside`},
		{"zoned", `{"spiffe://td/a": "2001:db8:1::5%eth0"}`, `is outside`},
		{"not an address", `{"spiffe://td/a": "home"}`, `"spiffe://td/a": home address "home"`},
		{"duplicate address", `{"spiffe://td/a": "2001:db8:1::5", "spiffe://td/b": "2001:db8:1::5"}`,
			`"spiffe://td/b": address 2001:db8:1::5 is already the home address of spiffe://td/a`},
		{"duplicate identity", `{"spiffe://td/a": "2001:db8:1::5", "spiffe://td/a": "2001:db8:1::6"}`, `"spiffe://td/a" is listed twice`},
		{"bad SPIFFE ID", `{"spiffe://td/a": "2001:db8:1::5", "https://td/b": "2001:db8:1::6"}`, `"https://td/b" is not a SPIFFE ID`},
		{"subnet-router anycast", `{"spiffe://td/a": "2001:db8:1::"}`, `"spiffe://td/a": home address 2001:db8:1:: is a reserved anycast address`},
		{"home agent", `{"spiffe://td/a": "2001:db8:1::1"}`, `"spiffe://td/a": home address 2001:db8:1::1 is reserved`},
		{"number", `{"spiffe://td/a": 5}`, `"spiffe://td/a": the home address must be a string`},
		{"array", `["spiffe://td/a"]`, `not a JSON object`},
		{"truncated", `{"spiffe://td/a": "2001:db8:1::5"`, `after entry 1`},
		{"trailing data", `{} {}`, `data after the JSON object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writePolicy(t, tc.content)
			_, err := identity.LoadPolicyFile(p, home, ha)
			if !errors.Is(err, identity.ErrPolicy) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %v, want ErrPolicy naming %s and %q", err, p, tc.want)
			}
		})
	}
}

func TestPolicyFileMissing(t *testing.T) {
	_, err := identity.LoadPolicyFile(filepath.Join(t.TempDir(), "none.json"), home)
	if !errors.Is(err, identity.ErrPolicy) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want ErrPolicy and ErrNotExist", err)
	}
}

func TestPolicyFileRefusesAnUnusablePrefix(t *testing.T) {
	_, err := identity.LoadPolicyFile(writePolicy(t, `{}`), netip.MustParsePrefix("2001:db8:1::/124"))
	if !errors.Is(err, identity.ErrPolicy) {
		t.Errorf("error %v, want ErrPolicy", err)
	}
}
