package homeagent

import (
	"context"
	"fmt"
	"net/netip"
)

// RemoveAt removes the binding of hoa, from the cache and the data plane,
// when it is currently at coa, and reports whether it did. It is for the
// owner of a care-of address that goes away (an NSM connection closing):
// a binding the mobile node has meanwhile moved to another care-of address
// is left alone. The error is the data plane's; the binding is gone from
// the cache even then.
func (ha *HomeAgent) RemoveAt(ctx context.Context, hoa, coa netip.Addr) (bool, error) {
	s := ha.shardOf(hoa)
	s.mu.Lock()
	defer s.mu.Unlock()
	h16 := hoa.As16()
	e, ok := s.entries[h16]
	if !ok || e.careOf != coa.As16() {
		return false, nil
	}
	if err := ha.remove(ctx, s, h16); err != nil {
		return true, fmt.Errorf("unbind %s: %w", hoa, err)
	}
	ha.cfg.Logger.Info("binding removed with its care-of address", "home_address", hoa, "care_of", coa)
	return true, nil
}
