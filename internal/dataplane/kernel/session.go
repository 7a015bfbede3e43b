package kernel

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// Session is the rtnetlink connection of one started instance, bound to
// the instance's network namespace.
type Session struct {
	NS      netns.NsHandle
	Netlink *netlink.Handle
	LoIndex int // the index of lo in NS
}

// OpenSession opens an rtnetlink connection in ns and finds its lo.
func OpenSession(ns netns.NsHandle) (*Session, error) {
	s := &Session{NS: ns}
	err := nsexec.Run(ns, func() error {
		var err error
		s.Netlink, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	lo, err := s.Netlink.LinkByName("lo")
	if err != nil {
		s.Netlink.Close()
		return nil, fmt.Errorf("find lo: %w", err)
	}
	s.LoIndex = lo.Attrs().Index
	return s, nil
}

// Close closes the rtnetlink connection.
func (s *Session) Close() { s.Netlink.Close() }

// CheckForwarding fails unless net.ipv6.conf.all.forwarding is 1 in the
// session's namespace.
func (s *Session) CheckForwarding() error {
	var value []byte
	err := nsexec.Run(s.NS, func() error {
		var err error
		value, err = os.ReadFile("/proc/sys/net/ipv6/conf/all/forwarding")
		return err
	})
	if err != nil {
		return fmt.Errorf("read ipv6 forwarding: %w", err)
	}
	if strings.TrimSpace(string(value)) != "1" {
		return dataplane.ErrForwardingDisabled
	}
	return nil
}

// AddRoute adds or replaces r; "not supported" answers become a
// dataplane.FeatureError naming feature.
func (s *Session) AddRoute(r *netlink.Route, feature string) error {
	if err := s.Netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("add route %s table %d: %w", r.Dst, r.Table, AsFeatureError(err, feature))
	}
	return nil
}

// DeleteRoute deletes r; a route that is already gone is no error.
func (s *Session) DeleteRoute(r *netlink.Route) error {
	if err := s.Netlink.RouteDel(RouteKey(*r)); err != nil && !IsGone(err) {
		return fmt.Errorf("delete route %s table %d: %w", r.Dst, r.Table, err)
	}
	return nil
}

// AddRule adds r; a rule that already exists is no error.
func (s *Session) AddRule(r *netlink.Rule) error {
	if err := s.Netlink.RuleAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule pref %d lookup %d: %w", r.Priority, r.Table, err)
	}
	return nil
}

// Sweep deletes every IPv6 route and rule that carries protocol, except
// "lookup local" rules (see RestoreLocalRule).
func (s *Session) Sweep(protocol uint8) error {
	return errors.Join(s.sweepRoutes(protocol), s.sweepRules(protocol))
}

func (s *Session) sweepRoutes(protocol uint8) error {
	filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: netlink.RouteProtocol(protocol)}
	routes, err := s.Netlink.RouteListFiltered(netlink.FAMILY_V6, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	var errs []error
	for _, r := range routes {
		errs = append(errs, s.DeleteRoute(&r))
	}
	return errors.Join(errs...)
}

func (s *Session) sweepRules(protocol uint8) error {
	rules, err := s.Netlink.RuleList(netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	var errs []error
	for _, r := range rules {
		if r.Protocol != protocol || r.Table == unix.RT_TABLE_LOCAL {
			continue
		}
		if err := s.Netlink.RuleDel(RuleKey(r)); err != nil && !IsGone(err) {
			errs = append(errs, fmt.Errorf("delete rule pref %d: %w", r.Priority, err))
		}
	}
	return errors.Join(errs...)
}

// IsGone reports errors that mean "already deleted".
func IsGone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}

// AsFeatureError turns "not supported" answers into a
// dataplane.FeatureError naming feature.
func AsFeatureError(err error, feature string) error {
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT) {
		return &dataplane.FeatureError{Feature: feature, Err: err}
	}
	return err
}
