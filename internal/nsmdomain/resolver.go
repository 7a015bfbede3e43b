package nsmdomain

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/networkservicemesh/sdk/pkg/registry/common/dnsresolve"
)

// Resolver answers the DNS questions of the registry proxies and
// nsmgr-proxies from a table, standing in for the interdomain DNS of a
// multi-cluster deployment. The sdk looks up "<service>.<domain>" for an SRV
// record (for the port) and then for its address.
type Resolver struct {
	mu      sync.Mutex
	entries map[string]netip.AddrPort
}

var _ dnsresolve.Resolver = (*Resolver)(nil)

// NewResolver returns an empty Resolver.
func NewResolver() *Resolver {
	return &Resolver{entries: map[string]netip.AddrPort{}}
}

// Add makes service (dnsresolve.DefaultRegistryService or
// DefaultNsmgrProxyService) of domain resolve to addr.
func (r *Resolver) Add(service, domain string, addr netip.AddrPort) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[service+"."+domain] = addr
}

// Remove forgets what Add recorded for service of domain.
func (r *Resolver) Remove(service, domain string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, service+"."+domain)
}

func (r *Resolver) lookup(name string) (netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr, ok := r.entries[name]
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return addr, nil
}

// LookupSRV answers the SRV question for name (service and proto are
// empty in the sdk's questions).
func (r *Resolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	addr, err := r.lookup(name)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("_%s._%s.%s", service, proto, name), []*net.SRV{{Target: name, Port: addr.Port()}}, nil
}

// LookupIPAddr answers the address question for host.
func (r *Resolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	addr, err := r.lookup(host)
	if err != nil {
		return nil, err
	}
	return []net.IPAddr{{IP: net.IP(addr.Addr().AsSlice())}}, nil
}
