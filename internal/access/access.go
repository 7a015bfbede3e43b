package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

// resyncEvery bounds how stale the choice can get if a netlink event is
// lost (the kernel drops them when a socket's buffer overflows).
const resyncEvery = 2 * time.Second

// Watcher picks the attachment from the interfaces in preference order.
type Watcher struct {
	Interfaces []string     // most preferred first
	HomePrefix netip.Prefix // addresses on it are never care-of addresses
	// NetNS is the namespace to watch; 0 means the caller's.
	NetNS  netns.NsHandle
	Logger *slog.Logger
}

// ErrNoInterfaces is returned when the Watcher has none to watch.
var ErrNoInterfaces = errors.New("no access interfaces configured")

// Watch calls changed with the current attachment at once, and again
// whenever it changes (the zero Attachment when no interface is usable),
// until ctx is done. When changed fails, the same attachment is offered
// again at the next event or resync, so a passing failure heals itself.
func (w *Watcher) Watch(ctx context.Context, changed func(dataplane.Attachment) error) error {
	if len(w.Interfaces) == 0 {
		return ErrNoInterfaces
	}
	h, err := w.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	events, err := w.subscribe(ctx)
	if err != nil {
		return err
	}
	ticker := time.NewTicker(resyncEvery)
	defer ticker.Stop()
	var current dataplane.Attachment
	first := true
	for {
		at, err := w.current(h)
		if err != nil {
			w.Logger.Warn("reading access interfaces", "error", err)
		} else if first || at != current {
			if err := changed(at); err != nil {
				w.Logger.Warn("attachment not taken; retrying", "care_of", at.CoA, "interface", at.Interface, "error", err)
			} else {
				first, current = false, at
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-events:
		case <-ticker.C:
		}
	}
}

// Current returns the attachment the interfaces offer now.
func (w *Watcher) Current() (dataplane.Attachment, error) {
	h, err := w.handle()
	if err != nil {
		return dataplane.Attachment{}, err
	}
	defer h.Close()
	return w.current(h)
}

func (w *Watcher) handle() (*netlink.Handle, error) {
	ns := w.NetNS
	if ns == 0 {
		ns = netns.None()
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return h, nil
}

func (w *Watcher) current(h *netlink.Handle) (dataplane.Attachment, error) {
	for _, name := range w.Interfaces {
		at, ok, err := w.attachmentOn(h, name)
		if err != nil {
			return dataplane.Attachment{}, err
		}
		if ok {
			return at, nil
		}
	}
	return dataplane.Attachment{}, nil
}

func (w *Watcher) attachmentOn(h *netlink.Handle, name string) (dataplane.Attachment, bool, error) {
	link, err := h.LinkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return dataplane.Attachment{}, false, nil
	}
	if err != nil {
		return dataplane.Attachment{}, false, fmt.Errorf("interface %q: %w", name, err)
	}
	if !isUp(link) {
		return dataplane.Attachment{}, false, nil
	}
	coa, err := w.careOfAddress(h, link)
	if err != nil || !coa.IsValid() {
		return dataplane.Attachment{}, false, err
	}
	return dataplane.Attachment{CoA: coa, Interface: name, Router: defaultRouter(h, link)}, true, nil
}

func isUp(link netlink.Link) bool {
	a := link.Attrs()
	return a.Flags&unix.IFF_UP != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown)
}

// careOfAddress returns the first global address on link that is neither
// on the home prefix nor tentative, deprecated or failed DAD.
func (w *Watcher) careOfAddress(h *netlink.Handle, link netlink.Link) (netip.Addr, error) {
	addrs, err := h.AddrList(link, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %q: %w", link.Attrs().Name, err)
	}
	const unusable = unix.IFA_F_TENTATIVE | unix.IFA_F_DEPRECATED | unix.IFA_F_DADFAILED
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || a.Flags&unusable != 0 || !ip.IsGlobalUnicast() || w.HomePrefix.Contains(ip) {
			continue
		}
		return ip.Unmap(), nil
	}
	return netip.Addr{}, nil
}

// defaultRouter returns the gateway of a default route through link, the
// zero Addr when there is none.
func defaultRouter(h *netlink.Handle, link netlink.Link) netip.Addr {
	routes, err := h.RouteList(link, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			gw, _ := netip.AddrFromSlice(r.Gw)
			return gw
		}
	}
	return netip.Addr{}
}

// subscribe returns a channel that receives something on every link or
// address change, until ctx is done.
func (w *Watcher) subscribe(ctx context.Context) (<-chan struct{}, error) {
	var ns *netns.NsHandle
	if w.NetNS != 0 {
		ns = &w.NetNS
	}
	links := make(chan netlink.LinkUpdate, 64)
	addrs := make(chan netlink.AddrUpdate, 64)
	if err := netlink.LinkSubscribeWithOptions(links, ctx.Done(), netlink.LinkSubscribeOptions{Namespace: ns}); err != nil {
		return nil, fmt.Errorf("watching links: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, ctx.Done(), netlink.AddrSubscribeOptions{Namespace: ns}); err != nil {
		return nil, fmt.Errorf("watching addresses: %w", err)
	}
	events := make(chan struct{}, 1)
	go func() {
		for links != nil || addrs != nil {
			select {
			case _, ok := <-links:
				if !ok {
					links = nil
				}
			case _, ok := <-addrs:
				if !ok {
					addrs = nil
				}
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()
	return events, nil
}
