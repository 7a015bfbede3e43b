// Package identity maps the identity of an NSM client to its Mobile IPv6
// home address (HoA).
//
// The identity is the SPIFFE ID in the sub claim of the JWT that the
// client's own segment (segment 0) of the connection path carries
// (FromPath). The endpoint's authorize element has verified the token chain
// before this package is asked, so the claim is only parsed here.
//
// Two policies implement Policy:
//
//   - Derived (the default) computes the home address from the identity
//     alone, so that a workload gets the same home address wherever it
//     connects from and no state has to be shared between home agents.
//     Candidate n is
//
//     digest(0) = SHA-256(ID)
//     digest(n) = SHA-256(ID + "#" + decimal(n))   for n ≥ 1
//     HoA(n)    = home prefix | (first 16 octets of digest(n) >> prefix length)
//
//     that is, the first (128 - prefix length) bits of the digest become the
//     host part. ID is the canonical string form of the SPIFFE ID; "#"
//     cannot occur in a SPIFFE ID, so the inputs never collide. The first
//     candidate that is not reserved is the home address. Reserved are the
//     subnet-router anycast address (host part all zeros, RFC 4291 §2.6.1;
//     for prefixes shorter than /64 also each /64's), the reserved subnet
//     anycast addresses of RFC 2526 (the top 128 interface identifiers of
//     the modified EUI-64 range 0xfdff_ffff_ffff_ff80 to ..._ffff for
//     prefixes up to /64, the top 128 addresses of the prefix for longer
//     ones), and the addresses given to NewDerived (the home agent's own).
//
//   - File reads a JSON object that maps SPIFFE IDs to home addresses and
//     refuses every identity it does not list.
//
// Two identities can derive the same home address; with a /64 that needs
// about 2^32 identities before it becomes likely. A deployment that cannot
// accept the risk lists its identities in a policy file, which rejects
// duplicates.
package identity
