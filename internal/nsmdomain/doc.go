// Package nsmdomain runs a whole Network Service Mesh domain in-process,
// from the sdk's own chains: a registry (memory), an nsmgr, and one of our
// veth forwarders (internal/vwire) registered with the nsmgr, each served on
// its own unix socket with grpcfd, so that clients and endpoints in other
// processes (and other network namespaces) pass their namespaces as file
// descriptors. For floating interdomain, each domain also runs an
// nsmgr-proxy and a registry proxy (proxydns) found through a Resolver, and
// a floating domain runs only a registry.
//
// Credentials are mTLS from SPIFFE X.509 sources, or insecure with HS256
// tokens for unit tests. Nothing here imports the sdk's sandbox (which
// needs testing.T), so the demo binary uses it as the tests do.
package nsmdomain
