// Package mhio sends and receives Mobile IPv6 signalling: IPv6 packets
// carrying a Mobility Header (RFC 6275 §6.1), decoded with package mh. It
// works on kernels built without CONFIG_IPV6_MIP6, which answer a Binding
// Update with a Home Address option, or a Binding Acknowledgement with a
// type 2 routing header, with an ICMPv6 Parameter Problem instead of
// delivering it, and on kernels with MIP6.
//
// DetectMode probes the kernel; Open uses its answer unless Config.Mode
// says otherwise:
//
//   - af_packet (kernel without MIP6, and the only mode checked end to end
//     so far): AF_PACKET sockets with a BPF filter read the packets whole;
//     an nftables table ip6 "mip6mesh-<instance>" at prerouting priority raw
//     drops Mobility Header packets with a Destination Options header or a
//     type 2 routing header addressed to this node, so that the kernel
//     stays silent; a raw IPPROTO_MH socket that drops everything keeps the
//     kernel from answering plain Mobility Header packets with
//     "unrecognized next header". Only packets to an address of the
//     namespace are returned: a Home Agent also forwards traffic. Nothing
//     in this mode depends on MIP6 being absent.
//   - raw_mh (kernel with MIP6): a raw IPPROTO_MH socket; the packet is
//     rebuilt from the ancillary data, undoing the kernel's address swaps
//     (rawmh.go). The kernel delivers packets with a Home Address option or
//     a type 2 routing header only when xfrm route-optimisation states and
//     policies allow them (xfrm6_input_addr), which this package does not
//     install: that and the end-to-end check need the qemu kernel.
//
// Both modes send with socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): the packet
// goes out exactly as mh.AppendPacket built it.
//
// Conn.ReceivedOn tells the interface a packet came in on, in both modes:
// unlike its addresses, the sender cannot forge it.
//
// A Conn works in the network namespace of the thread that opened it, runs
// no goroutine, and Receive allocates nothing per packet. Close removes
// everything it put into the kernel.
package mhio
