// Package nsmlab builds the NSM-mode topology of mip6mesh on one machine
// and runs the real daemons in it: an in-process NSM domain
// (internal/nsmdomain, with our veth forwarder), one or two Home Agents as
// NSM endpoints and one or two mobile nodes as NSM clients, each in its own
// network namespace, and a correspondent node (CN) on the home link.
//
//	CN   hl0  bridge, 2001:db8:1::f/64 (the home link; ports p1, p2)
//	HA1  h0   2001:db8:1::1/64, its Home Agent address; endpoint ha-1, vWires from fd00:6d36:1::/120
//	HA2  h0   2001:db8:1::2/64, its Home Agent address; endpoint ha-2, vWires from fd00:6d36:2::/120
//	MN1  nsm-1  made by the forwarder; care-of address from the serving HA's vWire prefix
//	MN2  nsm-1  a second workload with an identity of its own
//
// The CN is on the home link, so it reaches a home address the way RFC 6275
// intends: the Home Agent holding the binding answers Neighbor
// Solicitations for it (proxy ND) and tunnels the packets to the care-of
// address over the vWire.
//
// Identities come from a SPIFFE Workload API socket per workload: the
// development CA (internal/spiffe/devca) by default, or real SPIRE.
package nsmlab
