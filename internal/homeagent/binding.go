package homeagent

import (
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
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

// entry is a binding with its expiry timer.
type entry struct {
	Binding
	timer clock.Timer
}
