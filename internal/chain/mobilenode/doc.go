// Package mobilenode is the mobile node's NSM client chain element. Once a
// Request to the Home Agent endpoint returns, it reads the attachment —
// home address, Home Agent and home prefix from the ExtraContext (package
// bootstrap), the care-of address IPAM gave the client, the interface of
// the kernel mechanism — and has the Registrar (the mobile node core)
// register it with a BU/BA exchange over the new connection. A refresh,
// heal or reselect that changes the attachment registers again; Close
// deregisters.
package mobilenode
