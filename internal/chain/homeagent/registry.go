package homeagent

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// record is what is known of one live connection.
type record struct {
	ConnID      string
	Identity    spiffeid.ID
	HomeAddress netip.Addr
	CareOf      netip.Addr
}

// Registry holds the live NSM connections by care-of address. It is the
// Home Agent core's Authorizer, asked from the core's receive path while
// the chain element changes it from NSM Requests and Closes, so it is safe
// for concurrent use.
type Registry struct {
	policy identity.Policy

	mu       sync.RWMutex
	byCareOf map[netip.Addr]record
	ifaces   map[string]string // connection ID -> this endpoint's end of its vWire
}

// NewRegistry returns an empty registry that gives home addresses by policy.
func NewRegistry(policy identity.Policy) *Registry {
	return &Registry{policy: policy, byCareOf: map[netip.Addr]record{}, ifaces: map[string]string{}}
}

// Interfaces returns the names of this endpoint's ends of the live
// connections' vWires, for the endpoint to withdraw them when it shuts
// down (see cmd/nse-homeagent).
func (r *Registry) Interfaces() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.ifaces))
	for _, name := range r.ifaces {
		names = append(names, name)
	}
	return names
}

// setInterface records the endpoint-side interface of connection id.
func (r *Registry) setInterface(id, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" {
		delete(r.ifaces, id)
		return
	}
	r.ifaces[id] = name
}

// Authorize allows a BU only from the care-of address of a live connection
// and only for the home address of that connection's identity.
func (r *Registry) Authorize(_ context.Context, req homeagent.Request) error {
	r.mu.RLock()
	rec, ok := r.byCareOf[req.CareOf]
	r.mu.RUnlock()
	if !ok {
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"care-of address %s is the client address of no live NSM connection", req.CareOf)
	}
	if req.HomeAddress != rec.HomeAddress {
		return homeagent.Refuse(mh.StatusNotHomeAgentForThisMobileNode,
			"%s at care-of address %s has home address %s, not %s", rec.Identity, req.CareOf, rec.HomeAddress, req.HomeAddress)
	}
	return nil
}

// Len returns the number of live connections.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byCareOf)
}

// CareOfConflictError is the refusal of a connection whose client address
// is already the care-of address of another live connection.
type CareOfConflictError struct {
	CareOf       netip.Addr
	ConnID, With string
}

func (e *CareOfConflictError) Error() string {
	return fmt.Sprintf("care-of address %s of connection %s is already that of live connection %s", e.CareOf, e.ConnID, e.With)
}

// swap replaces from (the zero record: none) by to in one step, so that a
// BU never sees neither. It refuses to's care-of address when another
// connection holds it.
func (r *Registry) swap(from, to record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if other, ok := r.byCareOf[to.CareOf]; ok && other.ConnID != to.ConnID {
		return &CareOfConflictError{CareOf: to.CareOf, ConnID: to.ConnID, With: other.ConnID}
	}
	r.removeLocked(from)
	r.byCareOf[to.CareOf] = to
	return nil
}

// remove forgets rec, unless its care-of address has since gone to
// another connection.
func (r *Registry) remove(rec record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(rec)
}

func (r *Registry) removeLocked(rec record) {
	if cur, ok := r.byCareOf[rec.CareOf]; ok && cur.ConnID == rec.ConnID {
		delete(r.byCareOf, rec.CareOf)
		delete(r.ifaces, rec.ConnID)
	}
}
