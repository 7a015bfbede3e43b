package nsmlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// MobileStatus is nsc-mobile's GET /status in NSM mode.
type MobileStatus struct {
	Registration *lab.MobileStatus // nil before the first connection
	Connection   struct {
		ID          string
		CareOf      netip.Addr
		Interface   string
		HomeAddress netip.Addr
		HomeAgent   netip.Addr
		// Registrations accepted over NSM connections so far, and the
		// time from Request to accepted BA of the last one.
		Registrations       int
		RequestToAcceptedBA time.Duration
	}
}

// Registered reports whether the Home Agent holds the binding at the
// connection's care-of address, and the NSM client has seen it accepted.
func (s MobileStatus) Registered() bool {
	r := s.Registration
	return r != nil && r.State == "registered" && s.Connection.CareOf.IsValid() && r.BoundCareOf == s.Connection.CareOf &&
		s.Connection.Registrations > 0
}

func (s MobileStatus) String() string {
	c := s.Connection
	str := fmt.Sprintf("connection %q care-of=%v if=%s home=%v ha=%v", c.ID, c.CareOf, c.Interface, c.HomeAddress, c.HomeAgent)
	if s.Registration != nil {
		str += "; " + s.Registration.String()
	}
	return str
}

// MobileStatus returns mobile node i's status.
func (l *Lab) MobileStatus(ctx context.Context, i int) (MobileStatus, error) {
	var s MobileStatus
	body, err := l.HTTPGet(ctx, l.MN[i-1], "/status")
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("decode mn-%d /status: %w", i, err)
	}
	return s, nil
}

// WaitMobile polls mobile node i until ok holds for its status, or ctx
// ends; then the error tells the last status seen.
func (l *Lab) WaitMobile(ctx context.Context, i int, ok func(MobileStatus) bool) (MobileStatus, error) {
	get := func(ctx context.Context) (MobileStatus, error) { return l.MobileStatus(ctx, i) }
	s, err := lab.Poll(ctx, get, ok)
	if err != nil {
		return s, fmt.Errorf("mn-%d: %w", i, err)
	}
	return s, nil
}

// WaitRegistered waits until mobile node i is registered at its
// connection's care-of address.
func (l *Lab) WaitRegistered(ctx context.Context, i int) (MobileStatus, error) {
	return l.WaitMobile(ctx, i, MobileStatus.Registered)
}

// Bindings returns Home Agent i's binding cache.
func (l *Lab) Bindings(ctx context.Context, i int) ([]homeagent.Binding, error) {
	return l.BindingsIn(ctx, l.HA[i-1])
}

// Metrics returns Home Agent i's Prometheus metrics as text.
func (l *Lab) Metrics(ctx context.Context, i int) (string, error) { return l.MetricsIn(ctx, l.HA[i-1]) }

// MobileMetrics returns mobile node i's Prometheus metrics as text.
func (l *Lab) MobileMetrics(ctx context.Context, i int) (string, error) {
	return l.MetricsIn(ctx, l.MN[i-1])
}
