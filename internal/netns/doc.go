// Package netns builds throw-away network topologies out of named network
// namespaces: create and delete a namespace, run code or commands inside it,
// veth pairs, addresses without duplicate address detection, routes, link
// state, sysctls, ICMPv6 echo from Go (no ping binary needed), packet
// capture, dialling a socket that lives in the namespace, and snapshots of
// routing state. Every function returns errors; nothing here knows about
// tests (internal/netnstest wraps it for them, internal/lab builds the demo
// topology with it).
//
// Everything needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_NET_RAW).
package netns
