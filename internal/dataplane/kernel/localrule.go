package kernel

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

// The kernel's "from all lookup local" rule sits at priority 0, where no
// rule can precede it, and would deliver tunnelled packets to the local
// tunnel endpoint (the Home Agent address) as protocol 41 before the
// instance's rules see them. MoveLocalRule puts it right behind the
// instance's rules (Priority+1, tagged with the instance's protocol);
// RestoreLocalRule puts it back at priority 0. Both add the new rule before
// deleting the old one, so local delivery never stops.

func (s *Session) localRules() ([]netlink.Rule, error) {
	rules, err := s.Netlink.RuleList(netlink.FAMILY_V6)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	var local []netlink.Rule
	for _, r := range rules {
		if r.Table == unix.RT_TABLE_LOCAL && r.Src == nil && r.Dst == nil && r.Mark == 0 {
			local = append(local, r)
		}
	}
	return local, nil
}

// MoveLocalRule moves the "lookup local" rule behind the instance's rules.
func (s *Session) MoveLocalRule(k dataplane.Kernel) error {
	local, err := s.localRules()
	if err != nil {
		return err
	}
	var early []netlink.Rule
	for _, r := range local {
		if r.Priority <= int(k.Priority) {
			early = append(early, r)
		}
	}
	if len(early) == 0 {
		return nil // already behind the instance's rules
	}
	moved := InstanceRule(k, k.Priority+1, unix.RT_TABLE_LOCAL)
	if !containsRule(local, moved) {
		if err := s.AddRule(moved); err != nil {
			return fmt.Errorf("move local rule: %w", err)
		}
	}
	for _, r := range early {
		if err := s.Netlink.RuleDel(RuleKey(r)); err != nil && !IsGone(err) {
			return fmt.Errorf("move local rule: delete pref %d: %w", r.Priority, err)
		}
	}
	return nil
}

// RestoreLocalRule puts the "lookup local" rule back at priority 0.
func (s *Session) RestoreLocalRule(k dataplane.Kernel) error {
	local, err := s.localRules()
	if err != nil {
		return err
	}
	var ours []netlink.Rule
	atZero := false
	for _, r := range local {
		atZero = atZero || r.Priority == 0
		if r.Protocol == k.Protocol {
			ours = append(ours, r)
		}
	}
	if len(ours) == 0 {
		return nil
	}
	if !atZero {
		original := netlink.NewRule()
		original.Family = netlink.FAMILY_V6
		original.Priority = 0
		original.Table = unix.RT_TABLE_LOCAL
		original.Protocol = unix.RTPROT_KERNEL
		if err := s.AddRule(original); err != nil {
			return fmt.Errorf("restore local rule: %w", err)
		}
	}
	for _, r := range ours {
		if err := s.Netlink.RuleDel(RuleKey(r)); err != nil && !IsGone(err) {
			return fmt.Errorf("restore local rule: delete pref %d: %w", r.Priority, err)
		}
	}
	return nil
}

func containsRule(rules []netlink.Rule, want *netlink.Rule) bool {
	for _, r := range rules {
		if r.Priority == want.Priority && r.Table == want.Table && r.Protocol == want.Protocol {
			return true
		}
	}
	return false
}
