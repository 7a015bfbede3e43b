// Package dataplane is the contract between the Home Agent and Mobile Node
// control planes and the kernel objects that move their packets: RFC 2473
// IPv6-in-IPv6 tunnels between the Home Agent address and care-of addresses.
//
// The control plane calls HomeAgent or MobileNode; drivers in subpackages
// program a kernel: seg6 uses SRv6 lightweight tunnels (kernels without
// ip6tnl). Drivers for ip6tnl devices or a map-driven BPF program can be
// added beside it without changing callers. Every kernel object a driver
// creates carries the instance's identifiers (Kernel), so that a restarted
// instance finds and removes what a crashed one left.
package dataplane
