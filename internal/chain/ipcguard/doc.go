// Package ipcguard is an endpoint chain element, placed before IPAM, that
// keeps a client from writing the endpoint's side of the IP context.
//
// A request's IP context comes from the client. IPAM keeps the addresses
// it finds there when they are free in its pool, and appends its own after
// them; later elements read the first client address as the care-of
// address; and the forwarder applies DstIpAddrs and DstRoutes inside the
// endpoint's namespace. So a client could name another client's address,
// or route the Home Agent's traffic its way. The guard replaces the IP
// context of every request with the one this endpoint returned for the
// connection last time (none for a new connection, or for one healed onto
// this endpoint from another), keeping only the client's excluded
// prefixes, which can only narrow what IPAM hands out.
package ipcguard
