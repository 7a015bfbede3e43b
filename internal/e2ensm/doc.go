// Package e2ensm holds the end-to-end tests of NSM mode: the real
// nse-homeagent and nsc-mobile binaries, each in its own network
// namespace, connected by an in-process NSM domain (the sdk's registry,
// nsmgr and, for floating interdomain, nsmgr-proxy chains, with our veth
// forwarder) over mTLS with SPIFFE identities, and a correspondent on the
// home link (internal/nsmlab). The Binding Updates and the data cross the
// real veth vWires the forwarder makes.
package e2ensm
