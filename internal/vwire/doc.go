// Package vwire is the chain element of our NSM forwarder: it makes a real
// veth pair (a "vWire") between the client's network namespace and the
// endpoint's, and applies the connection's IP context to its two ends, so
// that Mobile IPv6 signalling and data cross real kernel interfaces.
//
// The element passes the client's kernel mechanism onward as the single
// mechanism preference (no mechanism translation), so that a second
// forwarder in another NSM domain still finds the client's end. When the
// downstream answer names a namespace other than the client's, this
// forwarder is the last hop and owns the vWire; when it returns the
// client's own end, a later hop owns it and the element passes through.
//
// The client's namespace arrives as a file:// URL (a file descriptor
// passed over the unix socket with grpcfd); an nsmgr-proxy forwards no
// descriptors, so across one the client's end travels as a handle
// (ClientEndKey): a random 128-bit capability that the forwarder which
// received the client's descriptor issues from a process-wide table, where
// it holds that namespace open and its interface name for as long as its
// connection lives (issued on the first Request, kept on refresh, removed
// on Close and on rollback). A forwarder in another domain resolves the
// handle only through that table and refuses an unknown one
// (ErrUnknownClientEnd); no inode:// URL is ever resolved by scanning the
// machine's namespaces. A client cannot guess a handle, so it can name no
// namespace but its own. This needs every forwarder of a connection in one
// process, as internal/nsmdomain runs all our NSM domains. Interdomain
// connections between processes or machines would need a tunnel mechanism
// (vxlan, wireguard), which is out of scope.
//
// This is the forwarder of the tests and the demo, not a production one.
// The handle is visible to the hops downstream of the client's forwarder
// (nsmgrs, nsmgr-proxies, the endpoint), which could replay it while the
// connection lives; it names only that client's namespace and interface,
// which the connection's vWire already occupies.
package vwire
