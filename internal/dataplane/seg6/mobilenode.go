package seg6

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// pinMetric is the metric of the route that pins the Home Agent address to
// the current access link; admin routes (metric 1024) are left alone.
const pinMetric = 1

type mobileNode struct {
	mu        sync.Mutex
	cfg       dataplane.Config
	phase     kernel.Phase
	s         *session
	endpoints *nftables.Set
	current   dataplane.Attachment // zero until the first Attach
	// previous holds the care-of addresses of earlier attachments that
	// still accept tunnelled packets, until Release.
	previous map[netip.Addr]struct{}
	tunsrc   tunsrcGuard
}

// NewMobileNode returns the Mobile Node data plane for cfg (zero Kernel
// fields take defaults). It touches no kernel state until Start.
func NewMobileNode(cfg dataplane.Config) (dataplane.MobileNode, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.CheckMobileNode(); err != nil {
		return nil, err
	}
	return &mobileNode{cfg: cfg, previous: map[netip.Addr]struct{}{}, tunsrc: tunsrcGuard{ns: cfg.NetNS}}, nil
}

func (mn *mobileNode) Name() string { return DriverName }

func (mn *mobileNode) Start(ctx context.Context) error {
	mn.mu.Lock()
	defer mn.mu.Unlock()
	if err := mn.phase.CanStart(ctx); err != nil {
		return err
	}
	s, err := openSession(mn.cfg.NetNS)
	if err != nil {
		return fmt.Errorf("seg6 mobile node start: %w", err)
	}
	mn.s = s
	if err := mn.setUp(ctx); err != nil {
		return fmt.Errorf("seg6 mobile node start: %w", errors.Join(err, mn.tearDown()))
	}
	mn.phase = kernel.PhaseStarted
	return nil
}

func (mn *mobileNode) setUp(ctx context.Context) error {
	k := mn.cfg.Kernel
	if err := mn.clearTunsrc(); err != nil {
		return err
	}
	if err := errors.Join(mn.s.Sweep(k.Protocol), mn.s.deleteTable(mn.cfg.Instance)); err != nil {
		return err
	}
	set, err := mn.s.installMobileNodeTable(mn.cfg)
	if err != nil {
		return err
	}
	mn.endpoints = set
	if err := mn.addHomeAddress(ctx); err != nil {
		return err
	}
	// Until the first Attach, home-address traffic hits "unreachable".
	if err := mn.s.AddRoute(unreachableDefault(k, k.TunnelTable), ""); err != nil {
		return err
	}
	if err := mn.s.AddRule(kernel.DecapRule(k)); err != nil {
		return err
	}
	if err := mn.s.AddRule(homeAddressRule(k, mn.cfg.HomeAddress)); err != nil {
		return err
	}
	return mn.s.MoveLocalRule(k)
}

// clearTunsrc saves the tunnel source to restore at Close and unsets it,
// so that source address selection picks the outer source (see
// tunnelSource). A care-of address in a leftover endpoint set is a value
// set by a crashed run (older versions set tunsrc at every Attach): it is
// saved as unset.
func (mn *mobileNode) clearTunsrc() error {
	leftover, err := mn.s.tableElements(mn.cfg.Instance, setEndpoints)
	if err != nil {
		return err
	}
	var coas []netip.Addr
	for _, key := range leftover {
		if len(key) == 16 {
			coas = append(coas, netip.AddrFrom16([16]byte(key)))
		}
	}
	if err := mn.tunsrc.remember(coas...); err != nil {
		return err
	}
	return mn.tunsrc.set(netip.IPv6Unspecified())
}

func (mn *mobileNode) homeAddress() *netlink.Addr {
	return &netlink.Addr{IPNet: kernel.HostNet(mn.cfg.HomeAddress), Flags: unix.IFA_F_NODAD}
}

// addHomeAddress configures the home address on lo and returns once the
// kernel has installed its local route, which it does asynchronously.
func (mn *mobileNode) addHomeAddress(ctx context.Context) error {
	lo := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: mn.s.LoIndex}}
	if err := mn.s.Netlink.AddrReplace(lo, mn.homeAddress()); err != nil {
		return fmt.Errorf("add home address %s to lo: %w", mn.cfg.HomeAddress, err)
	}
	return mn.s.awaitLocalRoute(ctx, mn.cfg.HomeAddress)
}

func (mn *mobileNode) deleteHomeAddress() error {
	lo := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: mn.s.LoIndex}}
	err := mn.s.Netlink.AddrDel(lo, mn.homeAddress())
	if err != nil && !kernel.IsGone(err) && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("delete home address %s: %w", mn.cfg.HomeAddress, err)
	}
	return nil
}

func (mn *mobileNode) tearDown() error {
	k := mn.cfg.Kernel
	err := errors.Join(
		mn.s.RestoreLocalRule(k),
		mn.s.Sweep(k.Protocol),
		mn.s.deleteTable(mn.cfg.Instance),
		mn.deleteHomeAddress(),
		mn.tunsrc.restore(),
		mn.s.close(),
	)
	mn.s, mn.endpoints, mn.current = nil, nil, dataplane.Attachment{}
	clear(mn.previous)
	return err
}

func (mn *mobileNode) Attach(ctx context.Context, at dataplane.Attachment) error {
	if err := mn.checkAttachment(at); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	mn.mu.Lock()
	defer mn.mu.Unlock()
	if err := mn.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("attach %s: %w", at.CoA, err)
	}
	if err := mn.attach(ctx, at); err != nil {
		return fmt.Errorf("attach %s on %s: %w", at.CoA, at.Interface, err)
	}
	return nil
}

func (mn *mobileNode) checkAttachment(at dataplane.Attachment) error {
	if err := dataplane.CheckCareOfAddress(mn.cfg.HomePrefix, at.CoA); err != nil {
		return err
	}
	if at.Interface == "" {
		return &dataplane.ValueError{Field: "Attachment.Interface", Reason: "want an interface name"}
	}
	if at.Router.IsValid() && (!at.Router.Is6() || at.Router.Is4In6() || at.Router.IsMulticast()) {
		return &dataplane.ValueError{Field: "Attachment.Router", Value: at.Router.String(), Reason: "want an IPv6 unicast address"}
	}
	return nil
}

// attach installs the new care-of address's state and switches the
// reverse tunnel and the pin to it; the previous care-of address keeps its
// decapsulation state until Release.
func (mn *mobileNode) attach(ctx context.Context, at dataplane.Attachment) error {
	link, err := mn.s.Netlink.LinkByName(at.Interface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", at.Interface, err)
	}
	source, err := mn.s.tunnelSource(link, at.CoA)
	if err != nil {
		return err
	}
	// An address without DAD is listed before the kernel has joined its
	// solicited-node group, which it does just before it installs the
	// local route. Until then the Home Agent's Neighbor Solicitations for
	// the care-of address go unanswered, and it asks again after a second.
	if err := mn.s.awaitLocalRoute(ctx, at.CoA); err != nil {
		return err
	}
	index := link.Attrs().Index
	k := mn.cfg.Kernel
	if err := mn.addEndpoint(at.CoA); err != nil {
		return err
	}
	if at.Router.IsValid() {
		if err := mn.s.AddRoute(mn.pinRoute(at.Router, index), ""); err != nil {
			return err
		}
	}
	if err := mn.s.AddRoute(encapRoute(k, defaultNet(), mn.cfg.HomeAgent, index, k.TunnelTable), featureSeg6); err != nil {
		return err
	}
	// Usually unset, so no change: setting waits for an RCU grace period.
	if err := mn.tunsrc.set(source); err != nil {
		return err
	}
	previous := mn.current
	mn.current = at
	delete(mn.previous, at.CoA)
	if previous.CoA.IsValid() && previous.CoA != at.CoA {
		mn.previous[previous.CoA] = struct{}{}
	}
	if previous.Router.IsValid() && !at.Router.IsValid() {
		return mn.s.DeleteRoute(mn.pinRoute(previous.Router, 0))
	}
	return nil
}

// addEndpoint makes coa accept packets tunnelled by the Home Agent: an
// element of the nftables endpoint set and a decapsulation route.
func (mn *mobileNode) addEndpoint(coa netip.Addr) error {
	if err := mn.s.addElements(mn.endpoints, addrKey(coa)); err != nil {
		return err
	}
	return mn.s.AddRoute(kernel.DecapRoute(mn.cfg.Kernel, coa, rtTableLocal, mn.s.LoIndex), featureSeg6)
}

// deleteEndpoint undoes addEndpoint. Tunnelled packets to coa then reach
// the local stack undecapsulated, where no handler takes protocol 41.
func (mn *mobileNode) deleteEndpoint(coa netip.Addr) error {
	return errors.Join(
		mn.s.DeleteRoute(kernel.DecapRoute(mn.cfg.Kernel, coa, rtTableLocal, mn.s.LoIndex)),
		mn.s.deleteElements(mn.endpoints, addrKey(coa)))
}

func (mn *mobileNode) Release(ctx context.Context, coa netip.Addr) error {
	mn.mu.Lock()
	defer mn.mu.Unlock()
	if err := mn.phase.CanProgram(ctx); err != nil {
		return fmt.Errorf("release %s: %w", coa, err)
	}
	if _, ok := mn.previous[coa]; !ok {
		return fmt.Errorf("release %s: %w", coa, dataplane.ErrNotPrevious)
	}
	if err := mn.deleteEndpoint(coa); err != nil {
		return fmt.Errorf("release %s: %w", coa, err)
	}
	delete(mn.previous, coa)
	return nil
}

// pinRoute is "<HA>/128 via <router> dev <link> metric 1" in main.
func (mn *mobileNode) pinRoute(router netip.Addr, link int) *netlink.Route {
	return &netlink.Route{
		Family:    netlink.FAMILY_V6,
		Dst:       kernel.HostNet(mn.cfg.HomeAgent),
		Gw:        net.IP(router.AsSlice()),
		LinkIndex: link,
		Table:     unix.RT_TABLE_MAIN,
		Priority:  pinMetric,
		Protocol:  netlink.RouteProtocol(mn.cfg.Kernel.Protocol),
	}
}

func (mn *mobileNode) Close() error {
	mn.mu.Lock()
	defer mn.mu.Unlock()
	wasStarted := mn.phase == kernel.PhaseStarted
	mn.phase = kernel.PhaseClosed
	if !wasStarted {
		return nil
	}
	if err := mn.tearDown(); err != nil {
		return fmt.Errorf("seg6 mobile node close: %w", err)
	}
	return nil
}
