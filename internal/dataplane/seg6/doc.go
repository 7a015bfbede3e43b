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
// SEG6_CMD_SET_TUNSRC) if set, else source address selection on the encap
// route's device, which picks the address of that link and not a Home
// Agent address kept elsewhere (on lo). A per-route source attribute is not
// honoured by this kernel. So the Home Agent sets tunsrc to its address at
// Start and the Mobile Node sets it to the care-of address at each Attach;
// both put back the previous value at Close.
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
//
// The nftables rule also checks who tunnels: the Home Agent accepts a
// tunnelled packet only if (outer source, inner source) is (CoA, HoA) of a
// binding; the Mobile Node only if the outer source is the Home Agent and
// the inner destination the home address. Other protocol-41 packets to the
// endpoint are counted and dropped. A fib rule with "ipproto 41" also
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
// Handover is make before break (RFC 6275 §11.5). Attach adds the new
// care-of address to the endpoint set with its decapsulation route, then
// moves the pin, the encap route and tunsrc to it; the previous care-of
// address keeps its set element and decapsulation route, so packets the
// Home Agent still tunnels to it before it has processed the Binding Update
// are delivered while that link is up. Release removes both. With two
// care-of addresses in the set the nftables check is as strict as with
// one: outer source the Home Agent, outer destination one of the node's own
// endpoints, inner destination the home address.
//
// The reverse direction switches at Attach. SEG6_CMD_SET_TUNSRC publishes
// the new source at once but returns only after an RCU grace period
// (synchronize_net): 7 to 21 ms measured, so Attach takes that long and
// the Binding Update leaves after it. Meanwhile reverse-tunnelled packets
// already come from the new care-of address, which the Home Agent refuses
// until it binds it (RFC 6275 §10.4.5): the end-to-end handover test
// counts them.
//
// # Limits
//
// One encap route per binding: the kernel ran out of per-CPU memory between
// 11,000 and 63,000 seg6 routes; beyond that use a map-driven driver. The
// tunnel adds 40 bytes; path MTU handling across it is not tested here.
package seg6
