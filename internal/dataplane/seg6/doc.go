// Package seg6 is the data-plane driver for kernels without ip6tnl: it
// builds RFC 2473 IPv6-in-IPv6 tunnels out of SRv6 lightweight tunnels,
// fib rules and one nftables table per instance.
//
// # What the kernel does (Linux 6.18, measured by the tests in this package)
//
// Encapsulation: a route "<dst> encap seg6 mode encap.red segs <peer>" puts
// an outer IPv6 header with next header 41 and no routing header in front
// of the packet: plain RFC 2473 on the wire. After encapsulation the
// kernel routes the outer packet afresh by its destination (the route's
// own device only serves source selection), so the egress toward the peer
// follows the routing table, not the encap route.
//
// Outer source: the per-namespace "ip sr tunsrc" (SEG6 generic netlink,
// SEG6_CMD_SET_TUNSRC) if set, else source address selection toward the
// peer on the encap route's device (ipv6_dev_get_saddr), which picks the
// address of that link and not a Home Agent address kept elsewhere (on
// lo). A per-route source attribute is not honoured by this kernel. Setting
// tunsrc takes effect at once but returns only after an RCU grace period
// (synchronize_net): 7 to 21 ms measured. The Home Agent sets tunsrc to its
// address at Start. The Mobile Node unsets it at Start and relies on source
// selection: its encap route goes through the access interface, so the
// outer source is the care-of address as long as that interface holds no
// other global address (see Limits); the tests capture it on the wire.
// Both put back the value they found at Close; a Mobile Node's care-of
// address found there was left by a crashed run of an older version, which
// set tunsrc at every Attach, and counts as unset.
//
// Decapsulation: packets of protocol 41 to a local tunnel endpoint are
// otherwise delivered locally to a protocol nobody handles. An nftables prerouting rule marks the packets to decapsulate;
// a fib rule "fwmark lookup <Table>" sends them to a route
// "local <endpoint>/128 encap seg6local action End.DT6 table <T> dev lo".
// The route must have type local: the kernel treats a unicast route
// through lo as a reject route (Ip6InNoRoutes). End.DT6 looks the inner destination
// up in table T directly (no rules): the Home Agent uses its forwarding
// table (main), so the inner packet is forwarded to the correspondent
// node; the Mobile Node uses table local, so it is delivered to the home
// address. The kernel's "lookup local" rule at priority 0 would win over
// any rule we add, so it is moved right behind the decapsulation rule and
// put back at priority 0 at Close.
// The netlink session, the move of that rule, the decapsulation rule and
// End.DT6 route builders and the sweep by protocol are package kernel's,
// shared with the bpf driver.
//
// The nftables rule also checks who tunnels: the Home Agent accepts a
// tunnelled packet only if (outer source, inner source) is (CoA, HoA) of a
// binding; the Mobile Node only if the outer source is the Home Agent and
// the inner destination the home address. Other protocol-41 packets to the
// endpoint are counted and dropped. When Bind moves a home address to a new
// care-of address, the element of the previous one is swapped, in one
// transaction, for one with a timeout of PreviousCareOfGrace (2 s; the set
// has flag timeout, current bindings have none): packets the mobile node
// tunnelled before it moved, still in flight on the old path, are
// accepted, and the kernel then removes the element itself, without a
// timer of ours. Binding that care-of address again in time removes the
// timeout; Unbind removes the element at once, Close with the table. A fib rule with "ipproto 41" also
// selects these packets on this kernel (flow dissection), but cannot check
// the inner header.
//
// # Kernel objects and how a restart finds them
//
// Every route and rule carries Config.Kernel.Protocol; the nftables table
// is "mip6mesh-dp-<Instance>". Start deletes all of them before creating its
// own, so objects of a crashed run disappear. Instances sharing a network
// namespace need different Kernel numbers and Instance names; one Home
// Agent and one Mobile Node per namespace is the tested setup.
//
// # Mobile Node routing
//
// The home address sits on lo as a /128 (nodad). "from <HoA> lookup
// <TunnelTable>" (after the local rule, so local traffic stays local)
// leads to "default encap seg6 ... segs <HA> dev <access>"; until the first
// Attach that table holds "unreachable default", so home-address traffic
// never leaves untunnelled. Because the kernel routes the outer packet by
// destination, Attachment.Router pins "<HA>/128 via <Router> metric 1" in
// main: without it, tunnelled packets follow the main table's route to the
// Home Agent, over the old link while that link is still up. Applications
// must bind to the home address: source selection picks the care-of
// address otherwise.
//
// Handover is make before break (RFC 6275 §11.5). Attach waits until the
// kernel has installed the local route of the new care-of address (an
// address without DAD is listed before the kernel has joined its
// solicited-node group, and the Home Agent's Neighbor Solicitations would
// go unanswered until the next one, a second later), adds it to the
// endpoint set with its decapsulation route, then moves the pin and the
// encap route to it, which moves the outer source too; the previous care-of
// address keeps its set element and decapsulation route, so packets the
// Home Agent still tunnels to it before it has processed the Binding Update
// are delivered while that link is up. Release removes both. With two
// care-of addresses in the set the nftables check is as strict as with
// one: outer source the Home Agent, outer destination one of the node's own
// endpoints, inner destination the home address.
//
// The reverse direction switches at Attach, which takes 0.2 to 0.3 ms
// (BenchmarkMobileNodeAttach; 14 ms while it set tunsrc), so the Binding
// Update leaves right after. Until the Home Agent has processed it,
// reverse-tunnelled packets from the new care-of address are refused (RFC
// 6275 §10.4.5): for about the Binding Update's one-way trip, 0 to 2 of
// the end-to-end handover test's 1500 pings every 2 ms on an idle
// machine, more under load (2 to 10 while Attach set tunsrc). Only a
// mobile node that went on tunnelling from the previous care-of address,
// over the previous link, until the Binding Acknowledgement could avoid
// that; the grace period above would cover it.
//
// # Limits
//
// The Mobile Node's outer source is chosen by source selection, which
// prefers non-deprecated addresses, then addresses flagged as home
// addresses, before it prefers the outgoing interface, and among the
// interface's own global addresses the one with the longest prefix in
// common with the Home Agent. Attach checks this: if the care-of address
// is deprecated, the access interface holds another global address, or an
// address is flagged IFA_F_HOMEADDRESS, it sets tunsrc to the care-of
// address and pays the RCU grace period (and again when a later Attach
// unsets it). Addresses that change after Attach are not followed: a
// global address added to the access interface, or the care-of address
// becoming deprecated, can change the outer source, and the Home Agent
// then refuses the reverse tunnel until the next Attach.
//
// One encap route per binding: the kernel ran out of per-CPU memory between
// 11,000 and 63,000 seg6 routes; beyond that use a map-driven driver. The
// tunnel adds 40 bytes; path MTU handling across it is not tested here.
package seg6
