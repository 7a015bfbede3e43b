package nsmlab

import (
	"fmt"
	"net/netip"
)

// Addresses and names of the lab.
var (
	HomePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	CNAddr     = netip.MustParseAddr("2001:db8:1::f") // the correspondent, on the home link
)

// Interface names of the lab.
const (
	HomeBridge = "hl0"   // the home link: a bridge in the CN's namespace
	HAHomeLink = "h0"    // each Home Agent's port on the home link
	VWire      = "nsm-1" // the mobile node's vWire, as NSM_NETWORK_SERVICES names it
)

// Where the daemons serve HTTP, inside their namespaces.
const (
	HAListen = "localhost:9480"
	MNListen = "localhost:9481"
)

// ServiceName is the network service the Home Agents offer.
const ServiceName = "home-agent"

// HAAddr is the address of Home Agent i (1-based), on its home-link port.
func HAAddr(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(i)})
}

// VWirePrefix is the prefix Home Agent i hands vWire addresses from: the
// mobile node's care-of address comes from the prefix of the Home Agent
// serving it, so a move to another Home Agent changes it.
func VWirePrefix(i int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("fd00:6d36:%x::/120", i))
}

// EndpointName is the NSM name of Home Agent i.
func EndpointName(i int) string { return fmt.Sprintf("ha-%d", i) }

// ClientName is the NSM name of mobile node i.
func ClientName(i int) string { return fmt.Sprintf("mn-%d", i) }
