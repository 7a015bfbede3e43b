package bpf

import (
	"github.com/cilium/ebpf"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// Abandon drops a started instance the way a crash would: its file
// descriptors and sockets are closed, its kernel objects stay behind (the
// routes keep the programs and maps alive).
func Abandon(instance any) {
	ha, ok := instance.(*homeAgent)
	if !ok {
		panic("bpf.Abandon: not a bpf instance")
	}
	ha.mu.Lock()
	defer ha.mu.Unlock()
	ha.objs.Close()
	ha.s.Close()
	ha.objs, ha.s, ha.phase = nil, nil, kernel.PhaseClosed
}

// BindingsMap returns the running instance's map home address -> care-of
// address.
func BindingsMap(instance any) *ebpf.Map {
	ha, ok := instance.(*homeAgent)
	if !ok {
		panic("bpf.BindingsMap: not a bpf instance")
	}
	return ha.objs.Maps[bindingsMapName]
}

// NewHomeAgentWithCapacity is NewHomeAgent with a smaller binding map.
func NewHomeAgentWithCapacity(cfg dataplane.Config, capacity uint32) (dataplane.HomeAgent, error) {
	ha, err := NewHomeAgent(cfg)
	if err != nil {
		return nil, err
	}
	if impl, ok := ha.(*homeAgent); ok {
		impl.capacity = capacity
	}
	return ha, nil
}

// LoadBindings writes bindings straight into the running instance's map,
// 64k per BPF_MAP_UPDATE_BATCH: the scale test's way to fill the map
// after it has timed Bind.
func LoadBindings(instance any, hoas, coas [][16]byte) error {
	m := BindingsMap(instance)
	const chunk = 1 << 16
	for off := 0; off < len(hoas); off += chunk {
		end := min(off+chunk, len(hoas))
		if _, err := m.BatchUpdate(hoas[off:end], coas[off:end], nil); err != nil {
			return err
		}
	}
	return nil
}
