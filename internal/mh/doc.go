// Package mh encodes and decodes the Mobile IPv6 Mobility Header (RFC 6275
// §6.1) and the IPv6 packets that carry it: the Home Address destination
// option (§6.3), the type 2 routing header (§6.4) and the checksum
// pseudo-header rules. It does no I/O.
//
// Decoding writes into caller-provided values and allocates nothing once a
// value's slices have grown, so a daemon can decode every Binding Update into
// the same BindingUpdate. Receive checks (§9.2) fail with *Error, whose
// Action tells the receiver what to do: drop silently, answer an ICMPv6
// Parameter Problem, or answer a Binding Error.
package mh
