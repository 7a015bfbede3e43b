// Package access watches a mobile node's access interfaces and says where
// it is attached: the most preferred interface that is up and holds a
// usable global address gives the care-of address, and its default router
// the next hop toward the Home Agent. It reads the kernel through netlink
// and reports every change of that choice.
package access
