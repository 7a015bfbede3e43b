package seg6

import "github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"

// Abandon drops a started instance the way a crash would: its sockets are
// closed, its kernel objects stay behind.
func Abandon(instance any) {
	switch v := instance.(type) {
	case *homeAgent:
		_ = v.s.close()
		v.s, v.phase = nil, kernel.PhaseClosed
	case *mobileNode:
		_ = v.s.close()
		v.s, v.phase = nil, kernel.PhaseClosed
	default:
		panic("seg6.Abandon: not a seg6 instance")
	}
}
