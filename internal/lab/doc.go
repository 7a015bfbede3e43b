// Package lab builds the demonstration topology of mip6mesh: a
// correspondent node (CN), a Home Agent (HA) and a mobile node (MN), each
// in its own network namespace, with two access links between the mobile
// node and the Home Agent. It starts the real nse-homeagent and nsc-mobile
// binaries inside it and reads their HTTP endpoints, for cmd/mip6demo and
// for end-to-end tests.
//
//	CN  cn0 2001:db8:f::2 ---------- h0 2001:db8:f::1  HA (HA address 2001:db8:1::1 on lo)
//	HA  a1  2001:db8:a::1 -- link 1 -- m1 2001:db8:a::2  MN (CoA1, default route metric 100)
//	HA  a2  2001:db8:b::1 -- link 2 -- m2 2001:db8:b::2  MN (CoA2, default route metric 200)
//	MN  home address 2001:db8:1::100 on the home prefix 2001:db8:1::/64
//
// The topology is data (topology.go): New applies it, and SetLink puts a
// link's share of it back when the link comes up again, since the kernel
// flushes an interface's IPv6 addresses and routes when it goes down. All
// addresses are configured without duplicate address detection. The
// daemons run as children ("ip netns exec"), in their own process group,
// with the lab's NSM_* settings and none inherited. Everything needs root.
package lab
