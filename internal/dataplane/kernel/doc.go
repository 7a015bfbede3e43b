// Package kernel is the kernel plumbing that the Home Agent data-plane
// drivers (seg6 and bpf) share: a netlink session bound to the instance's
// network namespace, the move of the kernel's "lookup local" rule behind
// the instance's rules and back, the builders of the decapsulation rule
// and the End.DT6 decapsulation route, the route and rule keys the kernel
// needs to delete them, the sweep of everything an instance installed,
// and the life-cycle phase of an instance.
//
// Both drivers lay out the same rules and routes on purpose: an operator
// sees one layout whichever driver runs.
package kernel
