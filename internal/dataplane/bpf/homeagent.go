package bpf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// DriverName is what Name returns.
const DriverName = "bpf"

// Capacity is the largest number of bindings a Home Agent holds. The map
// is not preallocated: its memory follows the bindings actually held,
// plus 16 bytes per slot of the kernel's bucket array (16 MiB).
const Capacity = 1 << 20

// ErrFull is what Bind of a new home address returns while Capacity
// bindings are held.
var ErrFull = errors.New("binding table full")

// StatsReader is implemented by the Home Agent NewHomeAgent returns.
type StatsReader interface {
	// Stats returns the packet counters of the running instance.
	Stats() (Stats, error)
}

// Stats are the programs' packet counters since Start, summed over CPUs.
type Stats struct {
	Encapsulated uint64 // to a bound home address: tunnelled to its care-of address
	NoBinding    uint64 // to a home address without binding: dropped
	EncapFailed  uint64 // the kernel refused the outer header (e.g. unsupported GSO): dropped
	Decapsulated uint64 // tunnelled from the care-of address bound to the inner source: accepted
	Refused      uint64 // other tunnelled packets to the Home Agent address: dropped
	Malformed    uint64 // too short for the headers read: dropped
}

type homeAgent struct {
	mu       sync.RWMutex // Bind and Unbind share it; Start and Close own it
	cfg      dataplane.Config
	capacity uint32
	phase    kernel.Phase
	s        *session
	objs     *ebpf.Collection
}

// NewHomeAgent returns the Home Agent data plane for cfg (zero Kernel
// fields take defaults). It touches no kernel state until Start. The bpf
// driver serves a virtual home network only: a HomeLink is refused.
func NewHomeAgent(cfg dataplane.Config) (dataplane.HomeAgent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.CheckHomeAgent(); err != nil {
		return nil, err
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	return &homeAgent{cfg: cfg, capacity: Capacity}, nil
}

// checkConfig adds what this driver needs to Config.CheckHomeAgent.
func checkConfig(cfg dataplane.Config) error {
	k := cfg.Kernel
	switch {
	case cfg.HomeLink != "":
		return &dataplane.ValueError{Field: "Config.HomeLink", Value: cfg.HomeLink,
			Reason: "the bpf driver serves a virtual home network only (no proxy ND); use seg6"}
	case k.TunnelTable == 0 || k.TunnelTable >= 253 && k.TunnelTable <= 255:
		return &dataplane.ValueError{Field: "Config.Kernel.TunnelTable", Value: fmt.Sprint(k.TunnelTable),
			Reason: "reserved table id (unspec, default, main or local)"}
	case k.TunnelTable == k.Table || k.TunnelTable == k.ForwardTable:
		return &dataplane.ValueError{Field: "Config.Kernel.TunnelTable", Value: fmt.Sprint(k.TunnelTable),
			Reason: "the bpf Home Agent keeps its check route there: must differ from Table and ForwardTable"}
	}
	return nil
}

func (ha *homeAgent) Name() string { return DriverName }

func (ha *homeAgent) Start(ctx context.Context) error {
	ha.mu.Lock()
	defer ha.mu.Unlock()
	if err := ha.phase.CanStart(ctx); err != nil {
		return err
	}
	s, err := openSession(ha.cfg.NetNS)
	if err != nil {
		return fmt.Errorf("bpf home agent start: %w", err)
	}
	ha.s = s
	if err := ha.setUp(); err != nil {
		return fmt.Errorf("bpf home agent start: %w", errors.Join(err, ha.tearDown()))
	}
	ha.phase = kernel.PhaseStarted
	return nil
}

// setUp loads the programs, then builds from the inside out: the
// decapsulation route and rule before the check that leads to them, the
// local rule moved last.
func (ha *homeAgent) setUp() error {
	cfg := ha.cfg
	if err := ha.removeLeftovers(); err != nil {
		return err
	}
	if err := ha.s.CheckForwarding(); err != nil {
		return err
	}
	objs, err := ebpf.NewCollection(collectionSpec(cfg.HomeAgent, cfg.Kernel.Mark, ha.capacity))
	if err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			err = &dataplane.FeatureError{Feature: featureLWTBPF, Err: err}
		}
		return fmt.Errorf("load bpf programs: %w", err)
	}
	ha.objs = objs
	anchor, err := ha.s.anchor(cfg.Instance)
	if err != nil {
		return err
	}
	encap := encapRoute(cfg, objs.Programs[encapProgName].FD(), anchor.Attrs().Index)
	if err := ha.s.AddRoute(encap, featureLWTBPF); err != nil {
		return err
	}
	// The decapsulation route strips the outer header of the packets the
	// check program marked and looks the inner destination up in the
	// forwarding table.
	decap := kernel.DecapRoute(cfg.Kernel, cfg.HomeAgent, cfg.Kernel.ForwardTable, ha.s.LoIndex)
	if err := ha.s.AddRoute(decap, featureSeg6); err != nil {
		return err
	}
	if err := ha.s.AddRule(kernel.DecapRule(cfg.Kernel)); err != nil {
		return err
	}
	check := checkRoute(cfg, objs.Programs[checkProgName].FD(), ha.s.LoIndex)
	if err := ha.s.AddRoute(check, featureLWTBPF); err != nil {
		return err
	}
	if err := ha.s.AddRule(checkRule(cfg)); err != nil {
		return err
	}
	return ha.s.MoveLocalRule(cfg.Kernel)
}

// removeLeftovers deletes what a previous run of this instance left,
// keeping a moved local rule (no gap in local delivery) and the anchor
// device (setUp adopts it) in place. The programs and maps of that run go
// with its routes.
func (ha *homeAgent) removeLeftovers() error {
	return errors.Join(ha.s.Sweep(ha.cfg.Kernel.Protocol), ha.s.deleteSeg6Table(ha.cfg.Instance))
}

// tearDown undoes setUp and closes the session; it tolerates a partial
// setUp. The kernel frees programs and maps once neither a route nor a
// file descriptor holds them.
func (ha *homeAgent) tearDown() error {
	k := ha.cfg.Kernel
	err := errors.Join(
		ha.s.RestoreLocalRule(k),
		ha.s.Sweep(k.Protocol),
		ha.s.deleteAnchor(ha.cfg.Instance),
	)
	if ha.objs != nil {
		ha.objs.Close()
	}
	ha.s.Close()
	ha.s, ha.objs = nil, nil
	return err
}

func (ha *homeAgent) Bind(ctx context.Context, hoa, coa netip.Addr) error {
	if err := ha.cfg.CheckBinding(hoa, coa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	ha.mu.RLock()
	defer ha.mu.RUnlock()
	if err := ha.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("bind %s: %w", hoa, err)
	}
	// One map update replaces a binding atomically: a packet sees either
	// the old care-of address or the new one. Key and value are passed as
	// unsafe.Pointer, which the library hands to the kernel as they are
	// (16 bytes each, the map's sizes), skipping its reflection-based
	// marshalling: a quarter of a Bind's time otherwise.
	key, value := hoa.As16(), coa.As16()
	if err := ha.objs.Maps[bindingsMapName].Update(unsafe.Pointer(&key), unsafe.Pointer(&value), ebpf.UpdateAny); err != nil {
		if errors.Is(err, unix.E2BIG) { // the kernel's answer when a hash map is full
			err = fmt.Errorf("%w (capacity %d)", ErrFull, ha.capacity)
		}
		return fmt.Errorf("bind %s -> %s: %w", hoa, coa, err)
	}
	return nil
}

func (ha *homeAgent) Unbind(ctx context.Context, hoa netip.Addr) error {
	ha.mu.RLock()
	defer ha.mu.RUnlock()
	if err := ha.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	key := hoa.As16()
	if err := ha.objs.Maps[bindingsMapName].Delete(unsafe.Pointer(&key)); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			err = dataplane.ErrNotBound
		}
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	return nil
}

// Stats reads the per-CPU counters and sums them.
func (ha *homeAgent) Stats() (Stats, error) {
	ha.mu.RLock()
	defer ha.mu.RUnlock()
	if err := ha.phase.CanProgram(context.Background()); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	var sums [numCounters]uint64
	for c := range numCounters {
		var perCPU []uint64
		if err := ha.objs.Maps[statsMapName].Lookup(uint32(c), &perCPU); err != nil {
			return Stats{}, fmt.Errorf("stats: read counter %d: %w", c, err)
		}
		for _, v := range perCPU {
			sums[c] += v
		}
	}
	return Stats{
		Encapsulated: sums[cntEncapsulated],
		NoBinding:    sums[cntNoBinding],
		EncapFailed:  sums[cntEncapFailed],
		Decapsulated: sums[cntDecapsulated],
		Refused:      sums[cntRefused],
		Malformed:    sums[cntMalformed],
	}, nil
}

func (ha *homeAgent) Close() error {
	ha.mu.Lock()
	defer ha.mu.Unlock()
	wasStarted := ha.phase == kernel.PhaseStarted
	ha.phase = kernel.PhaseClosed
	if !wasStarted {
		return nil
	}
	if err := ha.tearDown(); err != nil {
		return fmt.Errorf("bpf home agent close: %w", err)
	}
	return nil
}
