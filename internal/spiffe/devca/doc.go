// Package devca is a development trust domain: an in-process certificate
// authority (ECDSA P-256) that issues short-lived X.509-SVIDs and serves the
// SPIFFE Workload API on one unix socket per identity. It lets the demo run
// the real X.509-SVID path (mTLS, SPIFFE ID authorization) on a fresh machine
// in seconds, without building or running SPIRE; the end-to-end identity
// tests use real SPIRE instead (package spiretest).
//
// Whoever can connect to an identity's socket gets that identity, so the
// sockets are created owner-only; this is a demo CA, not an attestor.
package devca
