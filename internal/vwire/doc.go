// Package vwire is the chain element of our NSM forwarder: it makes a real
// veth pair (a "vWire") between the client's network namespace and the
// endpoint's, and applies the connection's IP context to its two ends, so
// that Mobile IPv6 signalling and data cross real kernel interfaces.
//
// The element passes the client's kernel mechanism onward as the single
// mechanism preference (no mechanism translation), so that a second
// forwarder in another NSM domain still sees the client's namespace. When
// the downstream answer names a namespace other than the client's, this
// forwarder is the last hop and owns the vWire; when it names the client's
// own namespace, a later hop owns it and the element passes through.
//
// Namespaces arrive as file:// URLs (a file descriptor passed over the unix
// socket with grpcfd) or, after an nsmgr-proxy hop where descriptors are
// not forwarded, as inode://<dev>/<ino> URLs; the latter are resolved by
// scanning this process's descriptors, /run/netns and /proc/*/ns/net, which
// only works when every domain runs on the same machine. Interdomain
// connections between machines would need a tunnel mechanism (vxlan,
// wireguard), which is out of scope.
//
// This is the forwarder of the tests and the demo, not a production one.
// A client's own mechanism always carries its namespace as a descriptor,
// and then the forwarded-end parameters are ignored; but a mechanism with
// no namespace is taken for one forwarded across an nsmgr-proxy, and its
// inode URL is trusted, so a client on the same machine could name another
// namespace that way (never the forwarder's own). Making forwarded ends
// unforgeable (handles known only to the forwarders) is left to do.
package vwire
