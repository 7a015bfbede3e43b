// Package bpf is the map-driven Home Agent data-plane driver: one route for
// the whole home prefix whose BPF program looks each destination up in a
// hash map home address -> care-of address, so that a binding is a map
// entry, not a route. It reaches a million bindings, where the seg6
// driver's route per binding exhausts the kernel's per-CPU memory between
// 11,000 and 63,000. The Mobile Node side stays with seg6.
//
// # What the kernel does (Linux 6.18, measured by the tests in this package)
//
// Encapsulation: "<home prefix> encap bpf xmit <encap> headroom 40 dev
// <anchor>" in Kernel.ForwardTable. The program (BPF_PROG_TYPE_LWT_XMIT)
// runs after forwarding, before neighbour resolution; it looks the
// destination up and pushes an outer header with bpf_lwt_push_encap
// (BPF_LWT_ENCAP_IP): version 6, traffic class and flow label 0, payload
// length the inner packet's, next header 41, hop limit 64, source the Home
// Agent address, destination the care-of address. The kernel adds no
// routing header and fixes no field, so the program writes them all. It
// returns BPF_LWT_REROUTE: the kernel routes the outer packet afresh by its
// destination and sends it on the right link. A destination without
// binding is dropped (BPF_DROP). The headroom lowers the route's MTU by 40:
// a 1500-byte packet from a correspondent is answered with Packet Too Big,
// MTU 1460, rather than lost after encapsulation.
//
// The anchor device: a route through lo is a reject route, so the prefix
// route needs a device of its own. The driver creates a bridge without
// ports, "mip6ha<8 hex digits>" (a hash of the instance name; its alias is
// "mip6mesh-dp-<instance>"), MTU 1500, no addresses. Nothing is ever sent
// on it. With a real link instead, packets entering on that link would
// leave "through" it too, and the kernel answers those with redirects.
//
// Decapsulation: as in the seg6 driver, "local <HA>/128 encap seg6local
// action End.DT6 table <ForwardTable>" in Kernel.Table, reached by "fwmark
// <Mark>/<Mark> lookup <Table>" at Kernel.Priority, strips the outer
// header and forwards the inner packet. The mark is set by a BPF check
// instead of nftables: "to <HA>/128 ipproto 41 fwmark 0/<Mark> lookup
// <TunnelTable>", at the same priority (the mark conditions make the two
// rules disjoint), leads to "local <HA>/128 encap bpf in <check>" in
// Kernel.TunnelTable, a table the seg6 Home Agent leaves unused. The
// check program (BPF_PROG_TYPE_LWT_IN) accepts a tunnelled packet only if
// the map binds its inner source to its outer source; it then sets the
// mark and returns BPF_LWT_REROUTE, and the kernel's second lookup finds
// the decapsulation route. Other tunnelled packets are dropped and
// counted. The kernel's "lookup local" rule is moved behind the
// instance's rules (Priority+1) and put back at Close, as seg6 does: the
// netlink session, that move, the decapsulation rule and route builders
// and the sweep by protocol are package kernel's, shared with seg6.
//
// Counters: a per-CPU array counts encapsulated, no binding, encapsulation
// failed, decapsulated, refused and malformed packets (Stats).
//
// # Kernel objects and how a restart finds them
//
// Three routes, two rules and the moved local rule carry
// Config.Kernel.Protocol; the anchor device has its derived name. Start
// deletes the routes and rules (and with them the previous run's programs
// and maps), adopts the anchor, and deletes an nftables table
// "mip6mesh-dp-<Instance>" that a seg6 run of the same instance left,
// whose rule would mark tunnelled packets past the check. Nothing is
// pinned in bpffs. Until a crashed instance is restarted its routes keep
// its programs and maps alive: the bindings it had keep working, frozen.
//
// # Cost (Linux 6.18, 2 shared vCPUs; TestMillionBindings, BenchmarkBind)
//
// Bind is one BPF_MAP_UPDATE_ELEM: 3.4 to 6 µs here depending on load,
// most of it the system call (a batched update costs 1.5 µs per binding). The map is a hash map
// of 16-byte keys and values without preallocation: 16 MiB of buckets for
// its Capacity of 2^20 when empty, 100 MiB with a million bindings (88
// bytes each; kernel memory, charged to the process's memory cgroup but
// not part of its resident set). The driver keeps no binding state in Go:
// the test process's resident set is 10 MiB after Start and 11 to 15 MiB
// with a million bindings. A preallocated map would bind a little faster
// (2.9 µs; 0.8 µs batched) but take its 96 MiB at Start.
//
// # Limits
//
// A virtual home network only: no proxy ND on a real home link
// (Config.HomeLink is refused). Bind does not check that the care-of
// address is routable; packets to an unroutable one are dropped after
// encapsulation. Fragmented tunnel packets are not decapsulated (their
// first header is a fragment header, not 41), as with seg6. Outer packets
// larger than the egress MTU, when the egress MTU is below 1500, are
// dropped by the kernel.
package bpf
