package dataplane

import (
	"context"
	"errors"
	"net/netip"
)

// HomeAgent is the Home Agent side of the data plane.
//
// Implementations are safe for concurrent use. Bind and Unbind fail with
// ErrNotStarted before Start and ErrClosed after Close.
type HomeAgent interface {
	// Name names the driver ("seg6").
	Name() string
	// Start removes the kernel objects a previous run of the same instance
	// left behind, then prepares the tunnel endpoint: packets tunnelled by
	// a mobile node to the Home Agent address are decapsulated and the
	// inner packet is forwarded. Start wipes all bindings; the caller
	// programs the ones it still holds again with Bind.
	Start(ctx context.Context) error
	// Bind programs or replaces hoa -> coa: packets to hoa are encapsulated
	// (outer source the Home Agent address, outer destination coa), and
	// packets tunnelled from coa with inner source hoa are accepted. On
	// replacement the new state is installed before the old is removed; a
	// driver may keep accepting the previous care-of address's reverse
	// tunnel for a short grace period (seg6: PreviousCareOfGrace), so that
	// packets already in flight from it are not lost.
	Bind(ctx context.Context, hoa, coa netip.Addr) error
	// Unbind removes the binding of hoa; ErrNotBound if there is none.
	Unbind(ctx context.Context, hoa netip.Addr) error
	// Close removes every kernel object the instance created and puts back
	// the namespace state it changed. Close is idempotent.
	Close() error
}

// MobileNode is the Mobile Node side of the data plane: the home address
// is configured, traffic sourced from it is reverse-tunnelled to the Home
// Agent (outer source the current care-of address), and packets tunnelled
// by the Home Agent to the care-of address are decapsulated and delivered
// locally to the home address.
//
// A handover is make before break (RFC 6275 §11.5): Attach moves the
// reverse tunnel to the new care-of address at once, but keeps accepting
// tunnelled packets at the previous ones, which the Home Agent goes on
// using until it has processed the Binding Update; Release drops a previous
// care-of address once the Home Agent has moved, its link is gone, or the
// caller gives up waiting. Reverse-tunnelled packets come from the new
// care-of address from Attach on; a Home Agent that checks their outer
// source (RFC 6275 §10.4.5) drops them until it has bound that address.
//
// Implementations are safe for concurrent use.
type MobileNode interface {
	// Name names the driver ("seg6").
	Name() string
	// Start removes leftovers of a previous run of the same instance,
	// configures the home address and blocks home-address traffic until
	// the first Attach, so it never leaves untunnelled.
	Start(ctx context.Context) error
	// Attach moves the tunnel to a new point of attachment: the new
	// care-of address accepts tunnelled packets, then the reverse tunnel
	// and the route to the Home Agent (Attachment.Router) switch to it.
	// The previous care-of address keeps accepting tunnelled packets from
	// the Home Agent until Release; attaching to it again makes it current.
	Attach(ctx context.Context, at Attachment) error
	// Release removes what a previous Attach left for coa, so that
	// tunnelled packets to it are no longer accepted. It never touches the
	// current attachment: for it, and for addresses it does not hold, it
	// returns ErrNotPrevious and changes nothing.
	Release(ctx context.Context, coa netip.Addr) error
	// Close removes every kernel object the instance created (the home
	// address and the state of previous care-of addresses included) and
	// puts back the namespace state it changed.
	Close() error
}

// ErrNotPrevious is returned by MobileNode.Release for a care-of address
// that is not a previous attachment still held: the current one, or one
// never attached or already released.
var ErrNotPrevious = errors.New("care-of address is not a previous attachment")

// Attachment is where a mobile node is attached.
type Attachment struct {
	// CoA is the care-of address, configured on Interface.
	CoA netip.Addr
	// Interface is the access interface that holds CoA.
	Interface string
	// Router is optional: the next hop toward the Home Agent on Interface.
	// When set, the driver pins the route to the Home Agent address via
	// Router, so that tunnelled packets (and the Binding Update sent from
	// CoA) leave through Interface even while the previous link is still
	// up. When zero, the namespace's own routes decide the egress.
	Router netip.Addr
}
