// Package identity maps the identity of an NSM client to its Mobile IPv6
// home address (HoA).
//
// The identity is the SPIFFE ID of the client's X.509-SVID, proved by
// Verify. The client sends its SVID certificate chain with every Request,
// in the connection's ExtraContext under KeySVIDProof (EncodeProof: the DER
// certificates concatenated, base64 std). Verify checks that the chain is
// an X.509-SVID of a trusted trust domain, that the JWT of the client's own
// path segment (segment 0) is signed by the leaf certificate's key with an
// asymmetric algorithm (the sdk's spiffejwt signs ES256) and unexpired, and
// that its sub claim is the certificate's SPIFFE ID. Each failure has its
// own error (ErrNoProof, ErrBadProof, ErrUntrustedProof, ErrBadSignature,
// ErrTokenExpired, ErrSubjectMismatch, ErrNoIdentity).
//
// The sub claim alone proves nothing: NSM's default authorize policies
// check that each segment's token is signed by the TLS peer that sent it
// and that the tokens chain, never that segment 0's subject is the SPIFFE
// ID of the certificate that signed it, so a workload with any SVID can
// sign a token naming another. A copied chain does not help an impostor:
// the token must be signed with the chain's key, and the policies tie
// segment 0's signature to the client's own TLS certificate.
// ClaimedFromPath reads the claim unverified, for tests without SPIFFE
// identities and for comparing the claim with the TLS peer's identity.
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
