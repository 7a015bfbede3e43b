package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// MaxPrefixLen is the longest home prefix a policy accepts: a /120 leaves
// 256 addresses, of which the reserved ones take 129.
const MaxPrefixLen = 120

// maxCandidates bounds the re-hashing; even in a /120, where half the
// addresses are reserved, needing this many is a 2^-65536 event.
const maxCandidates = 1 << 16

// Derived is the default policy: the home address is a hash of the
// identity inside the home prefix (see the package documentation).
type Derived struct {
	home     netip.Prefix
	reserved map[netip.Addr]bool
}

// NewDerived returns the derived policy for home prefix home. The reserved
// addresses (the home agent's own) are never given out.
func NewDerived(home netip.Prefix, reserved ...netip.Addr) (*Derived, error) {
	if err := checkHomePrefix(home); err != nil {
		return nil, err
	}
	d := &Derived{home: home, reserved: make(map[netip.Addr]bool, len(reserved))}
	for _, a := range reserved {
		d.reserved[a] = true
	}
	return d, nil
}

// HomeAddress returns the address derived from id.
func (d *Derived) HomeAddress(id spiffeid.ID) (netip.Addr, error) {
	if id.IsZero() {
		return netip.Addr{}, fmt.Errorf("%w: the zero SPIFFE ID", ErrRefused)
	}
	for n := range maxCandidates {
		a := candidate(d.home, id, n)
		if !IsReserved(d.home, a) && !d.reserved[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: no unreserved address for %s in %s after %d candidates", ErrRefused, id, d.home, maxCandidates)
}

// candidate is the n-th candidate home address of id in home.
func candidate(home netip.Prefix, id spiffeid.ID, n int) netip.Addr {
	input := id.String()
	if n > 0 {
		input += "#" + strconv.Itoa(n)
	}
	digest := sha256.Sum256([]byte(input))
	host := shiftRight(u128From(digest[:16]), home.Bits())
	return u128From(home.Addr().AsSlice()).or(host).addr()
}

// checkHomePrefix accepts masked IPv6 prefixes that leave room for home
// addresses.
func checkHomePrefix(home netip.Prefix) error {
	if !home.IsValid() || !home.Addr().Is6() || home.Addr().Is4In6() || home.Masked() != home {
		return fmt.Errorf("%w: home prefix %q is not a masked IPv6 prefix", ErrPolicy, home)
	}
	if home.Bits() > MaxPrefixLen {
		return fmt.Errorf("%w: home prefix %s is longer than /%d", ErrPolicy, home, MaxPrefixLen)
	}
	return nil
}

// The reserved subnet anycast interface identifiers in modified EUI-64
// format (RFC 2526 §2).
const (
	rfc2526Low  = 0xfdff_ffff_ffff_ff80
	rfc2526High = 0xfdff_ffff_ffff_ffff
)

// IsReserved reports whether a, an address of home, must not be a home
// address: the subnet-router anycast address or an RFC 2526 reserved
// subnet anycast address.
func IsReserved(home netip.Prefix, a netip.Addr) bool {
	host := u128From(a.AsSlice()).and(hostMask(home.Bits()))
	switch {
	case host == (u128{}):
		return true
	case home.Bits() < 64 && host.lo == 0:
		return true // subnet-router anycast of one of the prefix's /64s
	case home.Bits() <= 64:
		return host.lo >= rfc2526Low && host.lo <= rfc2526High
	default:
		mask := hostMask(home.Bits()).lo
		return host.lo >= mask-127
	}
}

// u128 is an IPv6 address as a 128-bit number.
type u128 struct{ hi, lo uint64 }

func u128From(b []byte) u128 {
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (u u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) or(v u128) u128  { return u128{u.hi | v.hi, u.lo | v.lo} }
func (u u128) and(v u128) u128 { return u128{u.hi & v.hi, u.lo & v.lo} }

// shiftRight returns u >> n for n in [0, 128].
func shiftRight(u u128, n int) u128 {
	switch {
	case n == 0:
		return u
	case n >= 128:
		return u128{}
	case n >= 64:
		return u128{0, u.hi >> (n - 64)}
	default:
		return u128{u.hi >> n, u.lo>>n | u.hi<<(64-n)}
	}
}

// hostMask has the low 128 - bits bits set.
func hostMask(bits int) u128 { return shiftRight(u128{^uint64(0), ^uint64(0)}, bits) }
