package lab

import (
	"net/netip"
)

// Addresses of the lab.
var (
	HomePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	HAAddr     = netip.MustParseAddr("2001:db8:1::1")   // the Home Agent address, on the HA's lo
	HoA        = netip.MustParseAddr("2001:db8:1::100") // the mobile node's home address
	CNAddr     = netip.MustParseAddr("2001:db8:f::2")   // the correspondent node
	HAHomeSide = netip.MustParseAddr("2001:db8:f::1")   // the HA on the CN's link, the CN's router
	Router1    = netip.MustParseAddr("2001:db8:a::1")   // the HA on access link 1
	Router2    = netip.MustParseAddr("2001:db8:b::1")   // the HA on access link 2
	CoA1       = netip.MustParseAddr("2001:db8:a::2")   // the mobile node on access link 1
	CoA2       = netip.MustParseAddr("2001:db8:b::2")   // the mobile node on access link 2
)

// Interface names of the lab.
const (
	CNLink     = "cn0" // the CN's end of the CN-HA link
	HAHomeLink = "h0"  // the HA's end of the CN-HA link (HAHomeSide)
	MNLink1    = "m1"  // the mobile node's end of access link 1
	MNLink2    = "m2"  // the mobile node's end of access link 2
	HALink1    = "a1"  // the HA's end of access link 1
	HALink2    = "a2"  // the HA's end of access link 2
)

// Where the daemons serve HTTP, inside their namespaces (their defaults).
const (
	HAListen = "localhost:9480"
	MNListen = "localhost:9481"
)

// Route metrics of the mobile node's two default routes.
const (
	MetricLink1 = 100
	MetricLink2 = 200
)

// role says which namespace a piece of configuration belongs to.
type role int

const (
	cn role = iota
	ha
	mn
	roles
)

var roleNames = [roles]string{"cn", "ha", "mn"}

// vethSpec is a veth pair between two namespaces.
type vethSpec struct {
	a     role
	nameA string
	b     role
	nameB string
}

// addrSpec is an address the lab puts on an interface.
type addrSpec struct {
	at     role
	link   string
	prefix netip.Prefix
}

// routeSpec is a main-table route through a gateway on link.
type routeSpec struct {
	at     role
	link   string // the interface the gateway is on
	dst    netip.Prefix
	via    netip.Addr
	metric int
}

var (
	defaultRoute = netip.MustParsePrefix("::/0")

	veths = []vethSpec{
		{cn, CNLink, ha, HAHomeLink},
		{mn, MNLink1, ha, HALink1},
		{mn, MNLink2, ha, HALink2},
	}
	addrs = []addrSpec{
		{cn, CNLink, netip.PrefixFrom(CNAddr, 64)},
		{ha, HAHomeLink, netip.PrefixFrom(HAHomeSide, 64)},
		{ha, HALink1, netip.PrefixFrom(Router1, 64)},
		{ha, HALink2, netip.PrefixFrom(Router2, 64)},
		{ha, "lo", netip.PrefixFrom(HAAddr, 128)},
		{mn, MNLink1, netip.PrefixFrom(CoA1, 64)},
		{mn, MNLink2, netip.PrefixFrom(CoA2, 64)},
	}
	routes = []routeSpec{
		{cn, CNLink, defaultRoute, HAHomeSide, 0},
		{mn, MNLink1, defaultRoute, Router1, MetricLink1},
		{mn, MNLink2, defaultRoute, Router2, MetricLink2},
	}
)
