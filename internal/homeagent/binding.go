package homeagent

import (
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Binding is one entry of the binding cache.
type Binding struct {
	HomeAddress netip.Addr `json:"home_address"`
	CareOf      netip.Addr `json:"care_of_address"`
	// Source is the address the last accepted BU came from: the care-of
	// address unless the BU carried an Alternate Care-of Address option.
	Source     netip.Addr    `json:"source"`
	Sequence   uint16        `json:"sequence"`
	Flags      mh.BUFlags    `json:"flags"`
	Lifetime   time.Duration `json:"lifetime"` // as granted
	Expires    time.Time     `json:"expires"`
	Registered time.Time     `json:"registered"` // first accepted BU
	Refreshed  time.Time     `json:"refreshed"`  // last accepted BU
}

// entry is a binding as the cache stores it: a pointer-free value of 64
// octets, so that a million bindings cost a map of values and nothing the
// garbage collector has to trace. Times are Unix nanoseconds.
type entry struct {
	careOf, source                 [16]byte
	sequence                       uint16
	flags                          mh.BUFlags
	lifetime                       mh.Lifetime
	expires, registered, refreshed int64
}

// binding returns e as the exported Binding of home address hoa.
func (e *entry) binding(hoa [16]byte) Binding {
	return Binding{
		HomeAddress: netip.AddrFrom16(hoa), CareOf: netip.AddrFrom16(e.careOf), Source: netip.AddrFrom16(e.source),
		Sequence: e.sequence, Flags: e.flags, Lifetime: e.lifetime.Duration(),
		Expires: time.Unix(0, e.expires), Registered: time.Unix(0, e.registered), Refreshed: time.Unix(0, e.refreshed),
	}
}
