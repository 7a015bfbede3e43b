// Package datapath measures what the Mobile IPv6 tunnel costs the data
// path, against the same path without it, in one run of the lab
// (internal/lab): both daemons running, the mobile node registered from
// CoA1. The tunnelled path is the correspondent node to the home address
// (CN → HA ══ IPv6-in-IPv6 ══► MN and back through the reverse tunnel);
// the direct one is the correspondent node to CoA1, which the Home Agent
// routes natively between its home side and access link 1, so the only
// difference is the encapsulation.
//
// For each direction it reports TCP throughput (iperf3, Debian's binary,
// run in the namespaces) and one-way latency (a paced UDP flow carrying
// its send times, see udpflow; the namespaces share the host's clock, so
// one-way is measurable), tunnel and direct, and the round-trip time of
// ICMPv6 echo to the home address and to CoA1. Each measurement is
// repeated and the median reported.
package datapath
