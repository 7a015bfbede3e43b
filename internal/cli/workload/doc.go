// Package workload gives the NSM-mode binaries their SPIFFE identity and
// the gRPC options NSM expects: an X.509 source from the Workload API,
// mutual TLS that passes file descriptors (grpcfd) on servers and dials,
// and per-call JWTs signed with the X.509-SVID on dials.
package workload
