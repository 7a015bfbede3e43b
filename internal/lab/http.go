package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// waitPoll is how often WaitRegistered asks the mobile node.
const waitPoll = 10 * time.Millisecond

// requestTimeout bounds each request of a polling loop.
const requestTimeout = time.Second

// maxBody bounds what HTTPGet reads.
const maxBody = 4 << 20

// HTTPGet fetches path from the HTTP endpoints of the daemon started in ns
// (for a Lab: l.HA or l.MN), over a socket made inside ns. Anything but 200
// OK is an error.
func (l *Runner) HTTPGet(ctx context.Context, ns *netns.NS, path string) ([]byte, error) {
	l.mu.Lock()
	addr, ok := l.listen[ns]
	l.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("get %s: no daemon started in %s", path, ns.Name())
	}
	url := "http://" + addr + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ns.HTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s in %s: %w", url, ns.Name(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("get %s in %s: %w", url, ns.Name(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("get %s in %s: %s", url, ns.Name(), resp.Status)
	}
	return body, nil
}

// BindingsIn returns the binding cache of the Home Agent started in ns
// (GET /bindings).
func (l *Runner) BindingsIn(ctx context.Context, ns *netns.NS) ([]homeagent.Binding, error) {
	body, err := l.HTTPGet(ctx, ns, "/bindings")
	if err != nil {
		return nil, err
	}
	var b []homeagent.Binding
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("decode /bindings of the daemon in %s: %w", ns.Name(), err)
	}
	return b, nil
}

// MetricsIn returns the Prometheus metrics (GET /metrics) of the daemon
// started in ns, as text.
func (l *Runner) MetricsIn(ctx context.Context, ns *netns.NS) (string, error) {
	body, err := l.HTTPGet(ctx, ns, "/metrics")
	return string(body), err
}

// Bindings returns the Home Agent's binding cache (GET /bindings).
func (l *Lab) Bindings(ctx context.Context) ([]homeagent.Binding, error) {
	return l.BindingsIn(ctx, l.HA)
}

// Metrics returns the Home Agent's Prometheus metrics (GET /metrics) as text.
func (l *Lab) Metrics(ctx context.Context) (string, error) { return l.MetricsIn(ctx, l.HA) }

// MobileStatus is the part of the mobile node's GET /status a lab user
// needs (internal/mobilenode.Status, with the error as text).
type MobileStatus struct {
	State       string // unregistered, registering, registered, deregistering or failed
	HomeAddress netip.Addr
	HomeAgent   netip.Addr
	CareOf      netip.Addr // the address BUs are sent from; zero while detached
	BoundCareOf netip.Addr // the care-of address the Home Agent holds; zero if none
	Sequence    uint16     // of the last BU sent
	Pending     bool       // a BU awaits its BA
	Granted     time.Duration
	Expiry      time.Time
	LastError   string
}

func (s MobileStatus) String() string {
	str := fmt.Sprintf("state=%s care-of=%v bound=%v seq=%d", s.State, s.CareOf, s.BoundCareOf, s.Sequence)
	if s.LastError != "" {
		str += " last error: " + s.LastError
	}
	return str
}

// MobileStatus returns the mobile node's registration (GET /status).
func (l *Lab) MobileStatus(ctx context.Context) (MobileStatus, error) {
	var s MobileStatus
	body, err := l.HTTPGet(ctx, l.MN, "/status")
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("decode /status: %w", err)
	}
	return s, nil
}

// WaitRegistered polls the mobile node until it is registered with the
// care-of address coa, or ctx ends; then the error tells the last status
// seen.
func (l *Lab) WaitRegistered(ctx context.Context, coa netip.Addr) error {
	_, err := Poll(ctx, l.MobileStatus, func(s MobileStatus) bool {
		return s.State == "registered" && s.BoundCareOf == coa
	})
	if err != nil {
		return fmt.Errorf("mobile node not registered from %s: %w", coa, err)
	}
	return nil
}

// Poll reads a daemon's state with get every 10 ms, each read bounded by
// a second, until ok holds for it, and returns it; when ctx ends first, the
// error tells the last state (or read error) seen.
func Poll[S fmt.Stringer](ctx context.Context, get func(context.Context) (S, error), ok func(S) bool) (S, error) {
	ticker := time.NewTicker(waitPoll)
	defer ticker.Stop()
	var last string
	for {
		reqCtx, cancel := context.WithTimeout(ctx, requestTimeout)
		s, err := get(reqCtx)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case ok(s):
			return s, nil
		default:
			last = s.String()
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("last status: %s: %w", last, ctx.Err())
		case <-ticker.C:
		}
	}
}
