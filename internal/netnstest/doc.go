// Package netnstest gives tests real, throw-away network namespaces: named
// namespaces that are deleted when the test ends, veth pairs between them,
// addresses without duplicate address detection, ICMPv6 echo, packet
// capture and snapshots of routing state for "left nothing behind" checks.
// It is a thin testing.TB layer over internal/netns, which does the work.
//
// Every helper needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_NET_RAW).
// Namespace names start with Prefix, so leftovers of a killed test run are
// easy to spot with `ip netns list`.
package netnstest
