package homeagent

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/vishvananda/netlink"

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
	// linkIndex resolves a vWire interface name to its index in the
	// network namespace of the calling thread: the Home Agent's, since
	// the core's receive path calls Authorize from the Home Agent
	// process.
	linkIndex func(name string) (int, error)
	// noIngressCheck skips the vWire check (WithoutIngressCheck).
	noIngressCheck bool

	mu       sync.RWMutex
	byCareOf map[netip.Addr]record
	ifaces   map[string]string // connection ID -> this endpoint's end of its vWire
}

// RegistryOption configures a Registry.
type RegistryOption func(*Registry)

// WithoutIngressCheck accepts a BU whichever interface it arrived on: for
// tests of the chain where no kernel interface exists (the sdk sandbox's
// forwarder makes none). An endpoint with vWires never uses it.
func WithoutIngressCheck() RegistryOption {
	return func(r *Registry) { r.noIngressCheck = true }
}

// NewRegistry returns an empty registry that gives home addresses by policy.
func NewRegistry(policy identity.Policy, opts ...RegistryOption) *Registry {
	r := &Registry{policy: policy, linkIndex: netlinkIndex,
		byCareOf: map[netip.Addr]record{}, ifaces: map[string]string{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// netlinkIndex looks the interface up afresh: the vWire appears only after
// the element's Request returned, and a name may be gone (or, after a
// heal, be another link) by the time a BU arrives.
func netlinkIndex(name string) (int, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return 0, err
	}
	return link.Attrs().Index, nil
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

// Authorize allows a BU only from the care-of address of a live connection,
// over that connection's vWire, and only for the home address of that
// connection's identity. The signalling socket sees the BUs of every
// vWire, and addresses are the sender's to choose: the ingress interface
// is what ties a BU to one connection, so that a client cannot move or
// delete another's binding by sending from its care-of address.
func (r *Registry) Authorize(_ context.Context, req homeagent.Request) error {
	if req.CareOf != req.Source {
		// A client's only care-of address is its vWire address, the one
		// it sends from: an Alternate Care-of Address could name another
		// client's.
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"care-of address %s is not the source %s of the binding update", req.CareOf, req.Source)
	}
	r.mu.RLock()
	rec, ok := r.byCareOf[req.CareOf]
	ifname := r.ifaces[rec.ConnID]
	r.mu.RUnlock()
	if !ok {
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"care-of address %s is the client address of no live NSM connection", req.CareOf)
	}
	if err := r.checkIngress(req, rec, ifname); err != nil {
		return err
	}
	if req.HomeAddress != rec.HomeAddress {
		return homeagent.Refuse(mh.StatusNotHomeAgentForThisMobileNode,
			"%s at care-of address %s has home address %s, not %s", rec.Identity, req.CareOf, rec.HomeAddress, req.HomeAddress)
	}
	return nil
}

// checkIngress refuses a BU that did not arrive on ifname, rec's end of
// its vWire. It fails closed when either is unknown: a connection's vWire
// is recorded when its Request returns through this endpoint, before the
// mobile node (which registers only once its Request has returned) can
// send its first BU; so an unknown vWire means a BU that races the
// connection's set-up, or a mechanism without a kernel interface.
func (r *Registry) checkIngress(req homeagent.Request, rec record, ifname string) error {
	if r.noIngressCheck {
		return nil
	}
	if req.Interface == 0 || ifname == "" {
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"binding update from care-of address %s: its ingress interface (%d) or its connection %s's vwire (%q) is unknown",
			req.CareOf, req.Interface, rec.ConnID, ifname)
	}
	index, err := r.linkIndex(ifname)
	if err != nil {
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"vwire %s of connection %s (care-of address %s) is not found: %v", ifname, rec.ConnID, req.CareOf, err)
	}
	if index != req.Interface {
		return homeagent.Refuse(mh.StatusAdministrativelyProhibited,
			"binding update from care-of address %s arrived on interface %d, not on its connection %s's vwire %s (%d)",
			req.CareOf, req.Interface, rec.ConnID, ifname, index)
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
// connection holds it. The connection's vWire interface stays recorded: it
// is the same connection, and a refresh that fails is rolled back by
// another swap, which must find it still there.
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

// remove forgets the connection of rec for good: its care-of address,
// unless that has since gone to another connection, and its vWire
// interface.
func (r *Registry) remove(rec record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(rec)
	delete(r.ifaces, rec.ConnID)
}

// removeLocked drops rec's care-of address unless another connection now
// holds it; the connection's other state is left to the caller.
func (r *Registry) removeLocked(rec record) {
	if cur, ok := r.byCareOf[rec.CareOf]; ok && cur.ConnID == rec.ConnID {
		delete(r.byCareOf, rec.CareOf)
	}
}
