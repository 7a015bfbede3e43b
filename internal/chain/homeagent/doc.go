// Package homeagent is the Home Agent endpoint's NSM chain element. It
// gives each client connection the client's home address (from its SPIFFE
// identity, proved by its SVID (Config.Identify), and the identity.Policy)
// in the connection's ExtraContext with a route to the Home Agent, and
// keeps a Registry of the live connections by care-of address — the client
// address IPAM handed out — which the Home Agent core consults as its
// Authorizer. A Binding Update is accepted only when, in this order: its
// care-of address is its source address (no other Alternate Care-of
// Address), else 129; that address is a live connection's, else 129; it
// arrived on that connection's vWire, else 129; and it is for the home
// address of that connection's identity, else 133. Closing a connection
// removes the binding still at its care-of address.
//
// Place the element after IPAM in the endpoint chain: the care-of address
// is the first SrcIpAddrs entry of the IP context. The registry learns a
// connection before the rest of the chain runs, so that two connections
// can never claim one care-of address, and forgets it again when the rest
// of the chain fails; a refresh that fails leaves the connection as it was.
package homeagent
