package seg6

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/google/nftables"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// DriverName is what Name returns.
const DriverName = "seg6"

const featureSeg6 = "seg6/seg6local lightweight tunnels (CONFIG_IPV6_SEG6_LWTUNNEL)"

// PreviousCareOfGrace is how long the Home Agent still accepts packets
// reverse-tunnelled from a home address's previous care-of address once
// Bind has moved the home address to a new one: packets the mobile node
// sent before it moved, still on their way over the old path. The check
// stays as strict for any other source (RFC 6275 §10.4.5).
const PreviousCareOfGrace = 2 * time.Second

// graceSlack is how long the Home Agent remembers a grace after it ended:
// the kernel's expiry (in jiffies) does not run on our clock.
const graceSlack = time.Second

type homeAgent struct {
	mu       sync.Mutex
	cfg      dataplane.Config
	phase    kernel.Phase
	s        *session
	bindings *nftables.Set
	bound    map[netip.Addr]netip.Addr // home address -> care-of address
	// graced holds, per home address, the previous care-of addresses whose
	// @bindings elements expire at the given time (PreviousCareOfGrace):
	// the kernel removes them, Unbind and Close must not wait for it.
	graced map[netip.Addr]map[netip.Addr]time.Time
	tunsrc tunsrcGuard
	proxy  proxyND // real home link only
}

// NewHomeAgent returns the Home Agent data plane for cfg (zero Kernel
// fields take defaults). It touches no kernel state until Start.
func NewHomeAgent(cfg dataplane.Config) (dataplane.HomeAgent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.CheckHomeAgent(); err != nil {
		return nil, err
	}
	return &homeAgent{
		cfg:    cfg,
		bound:  make(map[netip.Addr]netip.Addr),
		graced: make(map[netip.Addr]map[netip.Addr]time.Time),
		tunsrc: tunsrcGuard{ns: cfg.NetNS},
		proxy:  newProxyND(cfg),
	}, nil
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
		return fmt.Errorf("seg6 home agent start: %w", err)
	}
	if err := ha.proxy.find(s); err != nil {
		return fmt.Errorf("seg6 home agent start: %w", errors.Join(err, s.close()))
	}
	ha.s = s
	if err := ha.setUp(); err != nil {
		return fmt.Errorf("seg6 home agent start: %w", errors.Join(err, ha.tearDown()))
	}
	ha.phase = kernel.PhaseStarted
	return nil
}

func (ha *homeAgent) setUp() error {
	k := ha.cfg.Kernel
	if err := ha.removeLeftovers(); err != nil {
		return err
	}
	if err := ha.s.CheckForwarding(); err != nil {
		return err
	}
	if err := ha.proxy.start(ha.s); err != nil {
		return err
	}
	if err := ha.tunsrc.remember(ha.cfg.HomeAgent); err != nil {
		return err
	}
	if err := ha.tunsrc.set(ha.cfg.HomeAgent); err != nil {
		return err
	}
	set, err := ha.s.installHomeAgentTable(ha.cfg)
	if err != nil {
		return err
	}
	ha.bindings = set
	decap := kernel.DecapRoute(k, ha.cfg.HomeAgent, k.ForwardTable, ha.s.LoIndex)
	if err := ha.s.AddRoute(decap, featureSeg6); err != nil {
		return err
	}
	if err := ha.s.AddRule(kernel.DecapRule(k)); err != nil {
		return err
	}
	if err := ha.proxy.deliverSolicitations(ha.s); err != nil {
		return err
	}
	return ha.s.MoveLocalRule(k)
}

// removeLeftovers deletes what a previous run of this instance left,
// keeping a moved local rule in place (no gap in local delivery).
func (ha *homeAgent) removeLeftovers() error {
	return errors.Join(ha.s.Sweep(ha.cfg.Kernel.Protocol), ha.s.deleteTable(ha.cfg.Instance), ha.proxy.sweep(ha.s))
}

// tearDown undoes setUp and closes the session; it tolerates a partial setUp.
func (ha *homeAgent) tearDown() error {
	k := ha.cfg.Kernel
	err := errors.Join(
		ha.proxy.stop(ha.s),
		ha.s.RestoreLocalRule(k),
		ha.s.Sweep(k.Protocol),
		ha.s.deleteTable(ha.cfg.Instance),
		ha.tunsrc.restore(),
		ha.s.close(),
	)
	ha.s, ha.bindings = nil, nil
	clear(ha.bound)
	clear(ha.graced)
	return err
}

func (ha *homeAgent) Bind(ctx context.Context, hoa, coa netip.Addr) error {
	if err := ha.cfg.CheckBinding(hoa, coa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	ha.mu.Lock()
	defer ha.mu.Unlock()
	if err := ha.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("bind %s: %w", hoa, err)
	}
	if err := ha.bind(hoa, coa); err != nil {
		return fmt.Errorf("bind %s -> %s: %w", hoa, coa, err)
	}
	return nil
}

// bind accepts the new care-of address, then switches the encap route,
// then (for a new binding on a real home link) answers for hoa there, then
// gives the previous care-of address PreviousCareOfGrace before the kernel
// forgets it: make before break. A failed bind leaves the state as it was.
func (ha *homeAgent) bind(hoa, coa netip.Addr) error {
	egress, err := ha.s.egressTo(coa)
	if err != nil {
		return err
	}
	previous, rebinding := ha.bound[hoa]
	graceEnds, wasGraced := ha.gracedUntil(hoa, coa)
	key := bindingKey(coa, hoa)
	// undo puts the element for coa back as it was.
	undo := func() error {
		left := time.Until(graceEnds)
		switch {
		case wasGraced && left > 0:
			return ha.s.replaceElement(ha.bindings, key, left)
		case rebinding && previous == coa:
			return nil
		}
		return ha.s.deleteElements(ha.bindings, key)
	}
	if wasGraced {
		err = ha.s.replaceElement(ha.bindings, key, 0) // no longer expires
	} else {
		err = ha.s.addElements(ha.bindings, key)
	}
	if err != nil {
		return err
	}
	route := encapRoute(ha.cfg.Kernel, kernel.HostNet(hoa), coa, egress, ha.cfg.Kernel.ForwardTable)
	if err := ha.s.AddRoute(route, featureSeg6); err != nil {
		return errors.Join(err, undo())
	}
	if !rebinding {
		if err := ha.proxy.add(ha.s, hoa); err != nil {
			return errors.Join(err, ha.s.DeleteRoute(route), undo())
		}
	}
	ha.bound[hoa] = coa
	delete(ha.graced[hoa], coa)
	if len(ha.graced[hoa]) == 0 {
		delete(ha.graced, hoa)
	}
	if rebinding && previous != coa {
		return ha.gracePrevious(hoa, previous)
	}
	return nil
}

// gracedUntil reports whether coa is a previous care-of address of hoa
// whose grace may not have ended in the kernel yet, and when it ends. It
// forgets graces that ended long enough ago.
func (ha *homeAgent) gracedUntil(hoa, coa netip.Addr) (time.Time, bool) {
	now := time.Now()
	for c, end := range ha.graced[hoa] {
		if now.After(end.Add(graceSlack)) {
			delete(ha.graced[hoa], c)
		}
	}
	end, ok := ha.graced[hoa][coa]
	return end, ok
}

// gracePrevious gives the element of hoa's previous care-of address a
// timeout of PreviousCareOfGrace, in place, so that it is accepted until
// then; if that fails, it deletes the element.
func (ha *homeAgent) gracePrevious(hoa, previous netip.Addr) error {
	key := bindingKey(previous, hoa)
	end := time.Now().Add(PreviousCareOfGrace)
	if err := ha.s.replaceElement(ha.bindings, key, PreviousCareOfGrace); err != nil {
		return errors.Join(err, ha.s.deleteElements(ha.bindings, key))
	}
	if ha.graced[hoa] == nil {
		ha.graced[hoa] = make(map[netip.Addr]time.Time)
	}
	ha.graced[hoa][previous] = end
	return nil
}

// dropGraced removes the elements of hoa's previous care-of addresses.
func (ha *homeAgent) dropGraced(hoa netip.Addr) error {
	var errs []error
	for coa := range ha.graced[hoa] {
		// One element per transaction: one that has expired meanwhile
		// fails its transaction with ENOENT, which deleteElements ignores.
		errs = append(errs, ha.s.deleteElements(ha.bindings, bindingKey(coa, hoa)))
	}
	delete(ha.graced, hoa)
	return errors.Join(errs...)
}

func (ha *homeAgent) Unbind(ctx context.Context, hoa netip.Addr) error {
	ha.mu.Lock()
	defer ha.mu.Unlock()
	if err := ha.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	coa, ok := ha.bound[hoa]
	if !ok {
		return fmt.Errorf("unbind %s: %w", hoa, dataplane.ErrNotBound)
	}
	if err := ha.proxy.remove(ha.s, hoa); err != nil {
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	k := ha.cfg.Kernel
	route := encapRoute(k, kernel.HostNet(hoa), coa, 0, k.ForwardTable)
	if err := ha.s.DeleteRoute(route); err != nil {
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	delete(ha.bound, hoa)
	if err := errors.Join(ha.s.deleteElements(ha.bindings, bindingKey(coa, hoa)), ha.dropGraced(hoa)); err != nil {
		return fmt.Errorf("unbind %s: %w", hoa, err)
	}
	return nil
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
		return fmt.Errorf("seg6 home agent close: %w", err)
	}
	return nil
}
