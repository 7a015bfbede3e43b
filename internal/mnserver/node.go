package mnserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// Conn sends and receives whole IPv6 packets carrying Mobility Headers;
// internal/mhio implements it over the kernel.
type Conn interface {
	Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error)
	Send(pkt []byte) error
}

// Config configures a Node.
type Config struct {
	Conn      Conn
	DataPlane dataplane.MobileNode
	Logger    *slog.Logger
	// Registration configures the state machine; its Sender and OnState
	// are the Node's. Its Clock also times ReleaseAfter.
	Registration mobilenode.Config
	// ReleaseAfter bounds how long a previous care-of address keeps
	// accepting tunnelled packets after a move when the Home Agent does not
	// acknowledge the new one; 0 means DefaultReleaseAfter.
	ReleaseAfter time.Duration
	// LinkHolds reports whether an attachment's interface is still up and
	// holds its care-of address; a previous care-of address whose link is
	// gone is released at once. nil asks this process's network namespace.
	LinkHolds func(dataplane.Attachment) bool
}

// Node is a running mobile node.
type Node struct {
	conn Conn
	dp   dataplane.MobileNode
	log  *slog.Logger
	reg  *mobilenode.Registration
	hoa  netip.Addr
	ha   netip.Addr
	out  []byte // BU packet buffer, used under the Registration's lock
	rel  releaser

	waiting waiters
}

// New returns a Node; nothing is sent before the first Attach. The caller
// must Close it.
func New(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{conn: cfg.Conn, dp: cfg.DataPlane, log: cfg.Logger, hoa: cfg.Registration.HomeAddress,
		ha: cfg.Registration.HomeAgent, out: make([]byte, 0, 256)}
	rc := cfg.Registration
	rc.Sender, rc.Logger = n, cfg.Logger
	rc.OnState = n.onState
	reg, err := mobilenode.New(rc)
	if err != nil {
		return nil, err
	}
	n.reg = reg
	n.rel = releaser{dp: cfg.DataPlane, log: cfg.Logger, clock: rc.Clock, after: cfg.ReleaseAfter,
		attached: cfg.LinkHolds, status: reg.Status}
	if n.rel.clock == nil {
		n.rel.clock = clock.Real{}
	}
	if n.rel.after <= 0 {
		n.rel.after = DefaultReleaseAfter
	}
	if n.rel.attached == nil {
		n.rel.attached = linkHolds
	}
	n.rel.start()
	return n, nil
}

// SendBindingUpdate implements mobilenode.Sender: the BU goes from the
// care-of address with a Home Address option, or from the home address
// without one when the node is at home.
func (n *Node) SendBindingUpdate(coa netip.Addr, bu *mh.BindingUpdate) error {
	p := mh.Packet{Src: coa, Dst: n.ha, HomeAddress: n.hoa}
	if coa == n.hoa {
		p.HomeAddress = netip.Addr{}
	}
	out, err := mh.AppendPacket(n.out[:0], &p, bu)
	if err != nil {
		return err
	}
	n.out = out
	return n.conn.Send(out)
}

// Attach moves the data plane to at, then the registration. The zero
// Attachment means no access link is usable.
//
// The previous care-of address keeps accepting tunnelled packets (make
// before break) until the registration reports the Home Agent's binding at
// the new one, its interface is found gone, or ReleaseAfter has passed;
// then the Node releases it from the data plane and logs "released care-of
// address".
func (n *Node) Attach(ctx context.Context, at dataplane.Attachment) error {
	if !at.CoA.IsValid() {
		n.log.Warn("no usable access interface")
		_ = n.reg.Move(netip.Addr{})
		n.rel.poke()
		return nil
	}
	if err := n.dp.Attach(ctx, at); err != nil {
		return fmt.Errorf("data plane attach of %s on %s: %w", at.CoA, at.Interface, err)
	}
	n.log.Info("attached", "care_of", at.CoA, "interface", at.Interface, "router", at.Router)
	n.rel.moved(at)
	if err := n.reg.Move(at.CoA); err != nil {
		return fmt.Errorf("registration move to %s: %w", at.CoA, err)
	}
	return nil
}

// Serve reads Binding Acknowledgements and Binding Errors until ctx is
// done or the Conn fails.
func (n *Node) Serve(ctx context.Context) error {
	buf := make([]byte, 65536)
	var p mh.Packet
	var ba mh.BindingAck
	var be mh.BindingError
	for {
		_, err := n.conn.Receive(ctx, buf, &p)
		if ctx.Err() != nil {
			return nil
		}
		var mhErr *mh.Error
		switch {
		case errors.As(err, &mhErr):
			n.log.Debug("packet dropped", "from", p.Src, "error", err)
			continue
		case err != nil:
			return err
		}
		n.dispatch(&p, &ba, &be)
	}
}

func (n *Node) dispatch(p *mh.Packet, ba *mh.BindingAck, be *mh.BindingError) {
	switch p.Header.Type {
	case mh.TypeBindingAck:
		if err := ba.Unmarshal(p.MH); err != nil {
			n.log.Info("malformed binding acknowledgement dropped", "from", p.Src, "error", err)
			return
		}
		if p.RoutingAddress.IsValid() && p.RoutingAddress != n.hoa {
			n.log.Info("binding acknowledgement for another home address dropped", "home_address", p.RoutingAddress)
			return
		}
		n.reg.HandleAck(p.Src, ba)
		// A BA that leaves the binding where it was (a move back to the
		// bound care-of address) changes no state OnState reports.
		n.rel.poke()
	case mh.TypeBindingError:
		if err := be.Unmarshal(p.MH); err == nil {
			n.log.Warn("binding error received", "from", p.Src, "status", be.Status, "home_address", be.HomeAddress)
		}
	default:
		n.log.Debug("ignored mobility header", "type", p.Header.Type, "from", p.Src)
	}
}

// Deregister removes the binding at the Home Agent (see
// mobilenode.Registration.Deregister).
func (n *Node) Deregister(ctx context.Context) error { return n.reg.Deregister(ctx) }

// Status returns the registration's state.
func (n *Node) Status() mobilenode.Status { return n.reg.Status() }

// Close stops the registration's timers and the releasing of previous
// care-of addresses, and ends WaitRegistered calls with
// mobilenode.ErrClosed; the data plane's Close removes what is left.
func (n *Node) Close() {
	n.waiting.close()
	n.rel.close()
	n.reg.Close()
}

// onState is the registration's OnState: called with its lock held, it
// must not block nor call it back.
func (n *Node) onState(s mobilenode.Status) {
	n.logState(s)
	n.waiting.settle(s)
	n.rel.poke()
}

func (n *Node) logState(s mobilenode.Status) {
	attrs := []any{"state", s.State, "care_of", s.CareOf, "sequence", s.Sequence}
	if s.LastError != nil {
		attrs = append(attrs, "error", s.LastError)
	}
	if s.State == mobilenode.StateRegistered {
		attrs = append(attrs, "lifetime", s.Granted, "bound_care_of", s.BoundCareOf)
	}
	n.log.Info("registration state", attrs...)
}
