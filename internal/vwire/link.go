package vwire

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// end is one end of a vWire: an interface in a namespace, and the
// configuration this element applied to it (so that a refresh removes
// exactly what it added and no longer wants, and nothing else).
type end struct {
	ns      *nsRef
	ifName  string
	applied endConfig
}

func (e *end) String() string { return fmt.Sprintf("%s in netns %s", e.ifName, e.ns.id) }

// wire is a veth pair between the client's and the endpoint's namespaces.
type wire struct {
	client, endpoint end
}

// sameEnds reports whether o names the same interfaces in the same
// namespaces as w.
func (w *wire) sameEnds(o *wire) bool {
	return w.client.ifName == o.client.ifName && w.client.ns.id == o.client.ns.id &&
		w.endpoint.ifName == o.endpoint.ifName && w.endpoint.ns.id == o.endpoint.ns.id
}

// create makes the veth pair. Either name being taken is an error: that
// interface is not this connection's to reuse.
func (w *wire) create() error {
	for _, e := range []*end{&w.client, &w.endpoint} {
		found, err := e.exists()
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("%w: %s", ErrLinkExists, e)
		}
	}
	h, err := netlink.NewHandleAt(w.client.ns.handle)
	if err != nil {
		return fmt.Errorf("netlink in netns %s: %w", w.client.ns.id, err)
	}
	defer h.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: w.client.ifName},
		PeerName:      w.endpoint.ifName,
		PeerNamespace: netlink.NsFd(w.endpoint.ns.handle),
	}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s - %s: %w", &w.client, &w.endpoint, err)
	}
	return nil
}

// intact reports whether both ends still exist.
func (w *wire) intact() (bool, error) {
	for _, e := range []*end{&w.client, &w.endpoint} {
		if found, err := e.exists(); err != nil || !found {
			return false, err
		}
	}
	return true, nil
}

// configure brings both ends up and gives each the addresses and routes of
// its share of the IP context, removing those it applied before and no
// longer wants. It returns once the addresses are usable.
func (w *wire) configure(client, endpoint endConfig, wait time.Duration) error {
	if err := w.client.configure(client, wait); err != nil {
		return err
	}
	return w.endpoint.configure(endpoint, wait)
}

// destroy deletes the veth pair and releases the namespaces.
func (w *wire) destroy() error {
	defer w.release()
	return w.deleteLinks()
}

// release closes the namespaces, leaving the veth pair alone.
func (w *wire) release() {
	w.client.ns.close()
	w.endpoint.ns.close()
}

// deleteLinks deletes the veth pair: deleting one end deletes both.
func (w *wire) deleteLinks() error {
	for _, e := range []*end{&w.client, &w.endpoint} {
		deleted, err := e.delete()
		if err != nil || deleted {
			return err
		}
	}
	return nil
}

// exists reports whether the end's interface exists in its namespace.
func (e *end) exists() (bool, error) {
	h, err := e.handle()
	if err != nil {
		return false, err
	}
	defer h.Close()
	_, err = h.LinkByName(e.ifName)
	return linkFound(err, e)
}

func linkFound(err error, e *end) (bool, error) {
	var notFound netlink.LinkNotFoundError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &notFound):
		return false, nil
	default:
		return false, fmt.Errorf("look up %s: %w", e, err)
	}
}

// delete removes the end's interface if it exists and reports whether it did.
func (e *end) delete() (bool, error) {
	h, err := e.handle()
	if err != nil {
		return false, err
	}
	defer h.Close()
	link, err := h.LinkByName(e.ifName)
	if found, err := linkFound(err, e); !found {
		return false, err
	}
	if err := h.LinkDel(link); err != nil {
		return false, fmt.Errorf("delete %s: %w", e, err)
	}
	return true, nil
}

func (e *end) handle() (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(e.ns.handle)
	if err != nil {
		return nil, fmt.Errorf("netlink in netns %s: %w", e.ns.id, err)
	}
	return h, nil
}

func (e *end) configure(want endConfig, wait time.Duration) error {
	h, err := e.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(e.ifName)
	if err != nil {
		return fmt.Errorf("look up %s: %w", e, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", e, err)
	}
	if err := e.applyAddrs(h, link, want.addrs); err != nil {
		return err
	}
	if err := e.applyRoutes(h, link, want.routes); err != nil {
		return err
	}
	return e.awaitAddrs(h, want.addrs, wait)
}

func (e *end) applyAddrs(h *netlink.Handle, link netlink.Link, want []netip.Prefix) error {
	for _, p := range want {
		// NODAD: the vWire is point to point; DAD would hold the address
		// back for a second or more after Request returns.
		addr := &netlink.Addr{IPNet: ipNet(p), Flags: unix.IFA_F_NODAD}
		if err := h.AddrReplace(link, addr); err != nil {
			return fmt.Errorf("add address %s to %s: %w", p, e, err)
		}
		e.applied.addrs = appendNew(e.applied.addrs, p)
	}
	for _, p := range missing(e.applied.addrs, want) {
		err := h.AddrDel(link, &netlink.Addr{IPNet: ipNet(p)})
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove address %s from %s: %w", p, e, err)
		}
	}
	e.applied.addrs = want
	return nil
}

func (e *end) applyRoutes(h *netlink.Handle, link netlink.Link, want []route) error {
	for _, r := range want {
		if err := h.RouteReplace(kernelRoute(link, r)); err != nil {
			return fmt.Errorf("add route %s via %v dev %s: %w", r.dst, r.via, e, err)
		}
		e.applied.routes = appendNew(e.applied.routes, r)
	}
	for _, r := range missing(e.applied.routes, want) {
		err := h.RouteDel(kernelRoute(link, r))
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("remove route %s via %v dev %s: %w", r.dst, r.via, e, err)
		}
	}
	e.applied.routes = want
	return nil
}

func kernelRoute(link netlink.Link, r route) *netlink.Route {
	kr := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipNet(r.dst), Scope: netlink.SCOPE_LINK}
	if r.via.IsValid() {
		kr.Gw = net.IP(r.via.AsSlice())
		kr.Scope = netlink.SCOPE_UNIVERSE
		// The gateway is the far end of a point-to-point link, with no
		// prefix on the interface that covers it.
		kr.SetFlag(netlink.FLAG_ONLINK)
	}
	return kr
}

// awaitAddrs waits until every address has its local route, which the
// kernel installs from a work queue shortly after the address is added:
// until then the namespace does not accept packets sent to it.
func (e *end) awaitAddrs(h *netlink.Handle, addrs []netip.Prefix, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for _, p := range addrs {
		for {
			ok, err := hasLocalRoute(h, p.Addr())
			if err != nil {
				return fmt.Errorf("wait for address %s on %s: %w", p, e, err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("address %s on %s not usable after %v", p, e, wait)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

func hasLocalRoute(h *netlink.Handle, a netip.Addr) (bool, error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_LOCAL, Dst: ipNet(netip.PrefixFrom(a, a.BitLen()))}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
	return len(routes) > 0, err
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
