package nsmlab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

// Identities hands out SPIFFE identities: to the in-process NSM domain, and
// to each daemon through a Workload API socket.
type Identities interface {
	// DomainSources are the SVID and trust bundle of the NSM domain.
	DomainSources(ctx context.Context) (x509svid.Source, x509bundle.Source, error)
	// WorkloadEndpoint is the SPIFFE_ENDPOINT_SOCKET value (unix://...)
	// that gives the workload called name its identity.
	WorkloadEndpoint(ctx context.Context, name string) (string, error)
	// ID is the SPIFFE ID workload name gets.
	ID(name string) spiffeid.ID
	// Close stops serving; the lab calls it last.
	Close() error
}

// DevTrustDomain is the trust domain of the development CA.
var DevTrustDomain = spiffeid.RequireTrustDomainFromString("mip6mesh.demo")

// DevIdentities is a development CA (internal/spiffe/devca) serving one
// Workload API socket per workload in dir: spiffe://mip6mesh.demo/<name>.
type DevIdentities struct {
	CA  *devca.CA
	dir string

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	served map[string]<-chan error
}

// NewDevIdentities makes a CA whose sockets go into dir.
func NewDevIdentities(dir string) (*DevIdentities, error) {
	ca, err := devca.New(DevTrustDomain)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &DevIdentities{CA: ca, dir: dir, ctx: ctx, cancel: cancel, served: map[string]<-chan error{}}, nil
}

// ID implements Identities.
func (d *DevIdentities) ID(name string) spiffeid.ID {
	return spiffeid.RequireFromSegments(DevTrustDomain, name)
}

// DomainSources implements Identities: the domain is spiffe://mip6mesh.demo/nsm.
func (d *DevIdentities) DomainSources(context.Context) (x509svid.Source, x509bundle.Source, error) {
	src, err := d.CA.Source(d.ID("nsm"))
	if err != nil {
		return nil, nil, err
	}
	return src, d.CA, nil
}

// WorkloadEndpoint implements Identities, starting the socket on first use.
func (d *DevIdentities) WorkloadEndpoint(_ context.Context, name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	path := filepath.Join(d.dir, "spiffe-"+name+".sock")
	if _, ok := d.served[name]; !ok {
		errCh, err := d.CA.Serve(d.ctx, path, d.ID(name))
		if err != nil {
			return "", fmt.Errorf("workload API for %s: %w", name, err)
		}
		d.served[name] = errCh
	}
	return "unix://" + path, nil
}

// Close implements Identities: it stops every socket and waits for them.
func (d *DevIdentities) Close() error {
	d.cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, errCh := range d.served {
		for err := range errCh {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
