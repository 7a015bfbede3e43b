package dataplane

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/vishvananda/netns"
)

// Defaults for Kernel; see Kernel for what each number identifies.
const (
	DefaultProtocol     = 0xf6 // 246, unassigned in iproute2's rt_protos
	DefaultTable        = 0x6d36
	DefaultTunnelTable  = 0x6d37
	DefaultForwardTable = 254 // main
	DefaultPriority     = 100
	DefaultMark         = 0x1000
)

// Config describes one data-plane instance. The same struct serves every
// driver and both roles; fields a role does not use are ignored.
type Config struct {
	// Instance names this instance's kernel objects (for example the
	// nftables table "mip6mesh-dp-<Instance>"): 1-32 of [A-Za-z0-9_-].
	Instance string
	// NetNS is the network namespace to program. The zero value and
	// netns.None() mean the namespace of the calling process. The driver
	// does not close it; it must stay open until Close returns.
	NetNS netns.NsHandle
	// HomeAgent is the Home Agent address: the tunnel endpoint on the
	// Home Agent, outer source of its encapsulated packets and outer
	// destination of the reverse tunnel.
	HomeAgent netip.Addr
	// HomePrefix contains every home address.
	HomePrefix netip.Prefix
	// HomeAddress is the mobile node's home address (MobileNode only).
	HomeAddress netip.Addr
	// HomeLink is the interface of a real home link (HomeAgent only): the
	// Home Agent answers neighbour discovery on it for every bound home
	// address (proxy ND, RFC 6275 section 10.4.1). Empty means a virtual
	// home network: the home prefix is routed to the Home Agent.
	HomeLink string
	// Kernel holds the numbers that mark this instance's kernel objects.
	Kernel Kernel
}

// Kernel holds the numbers that identify an instance's routes, rules and
// packet marks. Zero fields take the Default* values. Two instances in one
// namespace need different values for all of them.
type Kernel struct {
	// Protocol is the rtnetlink protocol set on every route and rule the
	// instance creates; Start removes whatever carries it.
	Protocol uint8
	// Table holds the decapsulation routes (tunnel endpoints).
	Table uint32
	// TunnelTable holds the mobile node's reverse-tunnel route.
	TunnelTable uint32
	// ForwardTable holds the Home Agent's binding routes and is where
	// decapsulated packets are looked up; it should be the table that
	// routes to correspondent nodes (main).
	ForwardTable uint32
	// Priority is the first of three consecutive rule priorities: the
	// decapsulation rule (Priority), the "lookup local" rule moved behind
	// it (Priority+1) and the mobile node's home-address rule (Priority+2).
	Priority uint32
	// Mark is the fwmark bit (or bits) that flags packets to decapsulate.
	Mark uint32
}

var instancePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// WithDefaults returns c with zero fields replaced by defaults.
func (c Config) WithDefaults() Config {
	if c.NetNS == 0 {
		c.NetNS = netns.None()
	}
	k := &c.Kernel
	k.Protocol = orDefault(k.Protocol, DefaultProtocol)
	k.Table = orDefault(k.Table, DefaultTable)
	k.TunnelTable = orDefault(k.TunnelTable, DefaultTunnelTable)
	k.ForwardTable = orDefault(k.ForwardTable, DefaultForwardTable)
	k.Priority = orDefault(k.Priority, DefaultPriority)
	k.Mark = orDefault(k.Mark, DefaultMark)
	return c
}

func orDefault[T uint8 | uint32](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// CheckHomeAgent validates c (after WithDefaults) for the Home Agent role.
func (c Config) CheckHomeAgent() error {
	if err := c.checkCommon(); err != nil {
		return err
	}
	if c.HomeLink != "" && !validLinkName(c.HomeLink) {
		return badValue("Config.HomeLink", c.HomeLink, "want an interface name: 1-15 bytes, no '/', ':' or white space")
	}
	return checkTable("Config.Kernel.ForwardTable", c.Kernel.ForwardTable, c.Kernel.Table, true)
}

// CheckMobileNode validates c (after WithDefaults) for the Mobile Node role.
func (c Config) CheckMobileNode() error {
	if err := c.checkCommon(); err != nil {
		return err
	}
	if err := CheckHomeAddress(c.HomePrefix, c.HomeAgent, c.HomeAddress); err != nil {
		return err
	}
	return checkTable("Config.Kernel.TunnelTable", c.Kernel.TunnelTable, c.Kernel.Table, false)
}

func (c Config) checkCommon() error {
	if !instancePattern.MatchString(c.Instance) {
		return badValue("Config.Instance", c.Instance, "want 1-32 of [A-Za-z0-9_-]")
	}
	if !isGlobalUnicast(c.HomeAgent) {
		return badValue("Config.HomeAgent", c.HomeAgent, "want a global unicast IPv6 address")
	}
	if !c.HomePrefix.IsValid() || !c.HomePrefix.Addr().Is6() || c.HomePrefix.Addr().Is4In6() ||
		c.HomePrefix != c.HomePrefix.Masked() {
		return badValue("Config.HomePrefix", c.HomePrefix, "want an IPv6 prefix without host bits")
	}
	return c.Kernel.check()
}

func (k Kernel) check() error {
	if err := checkTable("Config.Kernel.Table", k.Table, 0, false); err != nil {
		return err
	}
	if k.Priority == 0 || k.Priority > 32763 {
		return badValue("Config.Kernel.Priority", k.Priority, "want 1-32763, before the main rule at 32766")
	}
	if k.Mark == 0 {
		return badValue("Config.Kernel.Mark", k.Mark, "want at least one bit set")
	}
	return nil
}

func checkTable(field string, id, other uint32, mainAllowed bool) error {
	switch {
	case id == 0 || id == 253 || id == 255:
		return badValue(field, id, "reserved table id (unspec, default or local)")
	case id == 254 && !mainAllowed:
		return badValue(field, id, "must be a table of the instance's own, not main")
	case id == other:
		return badValue(field, id, "must differ from Config.Kernel.Table")
	}
	return nil
}

// CheckHomeAddress validates a home address: global unicast, inside the
// home prefix and not the Home Agent address.
func CheckHomeAddress(prefix netip.Prefix, homeAgent, hoa netip.Addr) error {
	switch {
	case !isGlobalUnicast(hoa):
		return badValue("home address", hoa, "want a global unicast IPv6 address")
	case !prefix.Contains(hoa):
		return badValue("home address", hoa, "outside home prefix "+prefix.String())
	case hoa == homeAgent:
		return badValue("home address", hoa, "is the Home Agent address")
	}
	return nil
}

// CheckBinding validates a binding hoa -> coa for the Home Agent c
// describes: hoa on the home prefix and not the Home Agent address, coa a
// usable care-of address that is not the Home Agent address either.
func (c Config) CheckBinding(hoa, coa netip.Addr) error {
	if err := CheckHomeAddress(c.HomePrefix, c.HomeAgent, hoa); err != nil {
		return err
	}
	if coa == c.HomeAgent {
		return &ValueError{Field: "care-of address", Value: coa.String(), Reason: "is the Home Agent address"}
	}
	return CheckCareOfAddress(c.HomePrefix, coa)
}

// CheckCareOfAddress validates a care-of address: global unicast and
// outside the home prefix (a mobile node at home has no binding).
func CheckCareOfAddress(prefix netip.Prefix, coa netip.Addr) error {
	switch {
	case !isGlobalUnicast(coa):
		return badValue("care-of address", coa, "want a global unicast IPv6 address")
	case prefix.Contains(coa):
		return badValue("care-of address", coa, "inside home prefix "+prefix.String())
	}
	return nil
}

// validLinkName applies the kernel's rules for interface names
// (dev_valid_name): shorter than IFNAMSIZ (16), not "." or "..", and
// without '/', ':' or white space.
func validLinkName(name string) bool {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n\v\f\r")
}

func isGlobalUnicast(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.Zone() == "" && a.IsGlobalUnicast()
}
