package identity_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/mip6mesh/mip6mesh/internal/identity"
)

// The expected addresses were computed apart from this code, with Python's
// hashlib and ipaddress, from the rule in the package documentation.
func TestDerivedGoldenVectors(t *testing.T) {
	for _, tc := range []struct {
		prefix, id string
		reserved   []netip.Addr
		want       string
	}{
		{"2001:db8:1::/64", "spiffe://example.org/ns/demo/sa/mobile", nil, "2001:db8:1:0:e100:fa4d:7540:a732"},
		{"2001:db8:1::/64", "spiffe://test.com/subject", nil, "2001:db8:1:0:bb40:b63:cc5f:1e56"},
		{"2001:db8:1::/48", "spiffe://example.org/mn/1", nil, "2001:db8:1:a4e0:4749:12fa:4d66:aa56"},
		{"2001:db8:1:2:3:4:5:0/112", "spiffe://example.org/mn/1", nil, "2001:db8:1:2:3:4:5:a4e0"},
		// Candidate 0 is the home agent's address: candidate 1,
		// SHA-256("spiffe://example.org/ns/demo/sa/mobile#1").
		{"2001:db8:1::/64", "spiffe://example.org/ns/demo/sa/mobile",
			[]netip.Addr{netip.MustParseAddr("2001:db8:1:0:e100:fa4d:7540:a732")}, "2001:db8:1:0:e293:2134:82b8:751f"},
		// Candidates 0 (::ac) and 1 (::ea) are in the RFC 2526 range
		// (the top 128 addresses of a /120): candidate 2.
		{"2001:db8:1::/120", "spiffe://example.org/mn/3", nil, "2001:db8:1::45"},
	} {
		d, err := identity.NewDerived(netip.MustParsePrefix(tc.prefix), tc.reserved...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.HomeAddress(spiffeid.RequireFromString(tc.id))
		if err != nil || got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s in %s (reserved %v) = %v, %v; want %s", tc.id, tc.prefix, tc.reserved, got, err, tc.want)
		}
	}
}

func TestDerivedIsStable(t *testing.T) {
	home := netip.MustParsePrefix("2001:db8:1::/64")
	d1, _ := identity.NewDerived(home)
	d2, _ := identity.NewDerived(home, netip.MustParseAddr("2001:db8:1::1"))
	id := spiffeid.RequireFromString("spiffe://example.org/ns/demo/sa/mobile")
	a1, err1 := d1.HomeAddress(id)
	a2, err2 := d2.HomeAddress(id)
	if err1 != nil || err2 != nil || a1 != a2 {
		t.Errorf("two policies over the same prefix disagree: %v %v, %v %v", a1, err1, a2, err2)
	}
}

func TestNewDerivedRefusesUnusablePrefixes(t *testing.T) {
	for _, p := range []netip.Prefix{
		{},
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		netip.MustParsePrefix("2001:db8:1::1/64"),
		netip.MustParsePrefix("2001:db8:1::/121"),
	} {
		if _, err := identity.NewDerived(p); !errors.Is(err, identity.ErrPolicy) {
			t.Errorf("NewDerived(%v) error %v, want ErrPolicy", p, err)
		}
	}
}

func TestDerivedRefusesTheZeroID(t *testing.T) {
	d, _ := identity.NewDerived(netip.MustParsePrefix("2001:db8:1::/64"))
	if _, err := d.HomeAddress(spiffeid.ID{}); !errors.Is(err, identity.ErrRefused) {
		t.Errorf("error %v, want ErrRefused", err)
	}
}

// FuzzDerived checks, for any identity and prefix length, that the
// address is inside the prefix, not reserved, and the same when asked
// again.
func FuzzDerived(f *testing.F) {
	f.Add("spiffe://example.org/ns/demo/sa/mobile", uint8(64))
	f.Add("spiffe://example.org/mn/3", uint8(120))
	f.Add("spiffe://td/x", uint8(1))
	f.Add("spiffe://td/y", uint8(63))
	f.Add("spiffe://td/z", uint8(65))
	f.Fuzz(func(t *testing.T, s string, bits uint8) {
		id, err := spiffeid.FromString(s)
		if err != nil {
			t.Skip("not a SPIFFE ID")
		}
		home := netip.PrefixFrom(netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), int(bits)%identity.MaxPrefixLen+1).Masked()
		ha := haAddress(home)
		d, err := identity.NewDerived(home, ha)
		if err != nil {
			t.Fatal(err)
		}
		hoa, err := d.HomeAddress(id)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := d.HomeAddress(id)
		if !home.Contains(hoa) || hoa == ha || identity.IsReserved(home, hoa) || again != hoa {
			t.Fatalf("%s in %s: %s (again %s), home agent %s", id, home, hoa, again, ha)
		}
	})
}

// haAddress is the prefix's ::1, where home agents usually are.
func haAddress(p netip.Prefix) netip.Addr { return p.Addr().Next() }

func TestIsReserved(t *testing.T) {
	for _, tc := range []struct {
		prefix, addr string
		want         bool
	}{
		{"2001:db8:1::/64", "2001:db8:1::", true},
		{"2001:db8:1::/64", "2001:db8:1::1", false},
		{"2001:db8:1::/64", "2001:db8:1:0:fdff:ffff:ffff:ff7f", false},
		{"2001:db8:1::/64", "2001:db8:1:0:fdff:ffff:ffff:ff80", true},
		{"2001:db8:1::/64", "2001:db8:1:0:fdff:ffff:ffff:ffff", true},
		{"2001:db8:1::/64", "2001:db8:1:0:fe00::", false},
		{"2001:db8:1::/64", "2001:db8:1:0:ffff:ffff:ffff:ffff", false},
		{"2001:db8:1::/48", "2001:db8:1:5::", true},
		{"2001:db8:1::/48", "2001:db8:1:5:fdff:ffff:ffff:ffc0", true},
		{"2001:db8:1::/48", "2001:db8:1:5::1", false},
		{"2001:db8:1::/112", "2001:db8:1::", true},
		{"2001:db8:1::/112", "2001:db8:1::ff7f", false},
		{"2001:db8:1::/112", "2001:db8:1::ff80", true},
		{"2001:db8:1::/112", "2001:db8:1::ffff", true},
		{"2001:db8:1::/120", "2001:db8:1::7f", false},
		{"2001:db8:1::/120", "2001:db8:1::80", true},
	} {
		got := identity.IsReserved(netip.MustParsePrefix(tc.prefix), netip.MustParseAddr(tc.addr))
		if got != tc.want {
			t.Errorf("IsReserved(%s, %s) = %v, want %v", tc.prefix, tc.addr, got, tc.want)
		}
	}
}
