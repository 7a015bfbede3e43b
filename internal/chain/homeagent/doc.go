// Package homeagent is the Home Agent endpoint's NSM chain element. It
// gives each client connection the client's home address (from its SPIFFE
// identity and the identity.Policy) in the connection's ExtraContext with
// a route to the Home Agent, and keeps a Registry of the live connections
// by care-of address — the client address IPAM handed out — which the
// Home Agent core consults as its Authorizer: a Binding Update is accepted
// only from the care-of address of a live connection and only for the
// home address of that connection's identity. Closing a connection removes
// the binding still at its care-of address.
//
// Place the element after IPAM in the endpoint chain: the care-of address
// is the first SrcIpAddrs entry of the IP context. The registry learns a
// connection before the rest of the chain runs, so that two connections
// can never claim one care-of address, and forgets it again when the rest
// of the chain fails; a refresh that fails leaves the connection as it was.
package homeagent
