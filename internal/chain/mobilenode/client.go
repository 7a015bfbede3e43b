package mobilenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/networkservicemesh/sdk/pkg/tools/postpone"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
)

// Attachment is where the mobile node is attached: what the Home Agent
// told it, the care-of address of the connection, and the connection's
// interface.
type Attachment struct {
	bootstrap.Bootstrap
	CareOf    netip.Addr
	Interface string
}

// Registrar is the mobile node core (implemented in cmd/nsc-mobile over
// mnserver).
type Registrar interface {
	// Register performs the BU/BA exchange for at and programs the mobile
	// node's data plane; nil only on an accepted BA.
	Register(ctx context.Context, at Attachment) error
	// Deregister removes the binding.
	Deregister(ctx context.Context) error
}

// RegistrationError says the mobile node could not register over a
// connection the Request had just made or changed; the connection has been
// closed.
type RegistrationError struct {
	HomeAddress, CareOf netip.Addr
	Err                 error
}

func (e *RegistrationError) Error() string {
	return fmt.Sprintf("registering home address %s at care-of address %s: %v", e.HomeAddress, e.CareOf, e.Err)
}

func (e *RegistrationError) Unwrap() error { return e.Err }

// ErrNoCareOf means the connection has no client address to use as
// care-of address.
var ErrNoCareOf = errors.New("no care-of address in the connection's IP context")

type client struct {
	registrar Registrar
	options
}

// NewClient returns the client chain element over r.
func NewClient(r Registrar, opts ...Option) networkservice.NetworkServiceClient {
	c := &client{registrar: r, options: options{timeout: DefaultTimeout, deregisterTimeout: DefaultDeregisterTimeout}}
	for _, o := range opts {
		o(&c.options)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}

func (c *client) Request(ctx context.Context, request *networkservice.NetworkServiceRequest, opts ...grpc.CallOption) (*networkservice.Connection, error) {
	closeCtxFunc := postpone.ContextWithValues(ctx)
	start := time.Now()
	conn, err := next.Client(ctx).Request(ctx, request, opts...)
	if err != nil {
		return nil, err
	}
	at, err := attachmentOf(conn)
	if err == nil {
		err = c.register(ctx, at, start)
	}
	if err != nil {
		loadAndDeleteAttachment(ctx)
		c.closeFailed(ctx, closeCtxFunc, conn, opts)
		return nil, err
	}
	return conn, nil
}

// register registers at unless it is what this connection registered last.
// start is when the Request reached this element.
func (c *client) register(ctx context.Context, at Attachment, start time.Time) error {
	if prev, ok := loadAttachment(ctx); ok && prev == at {
		return nil
	}
	regCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.registrar.Register(regCtx, at); err != nil {
		return &RegistrationError{HomeAddress: at.HomeAddress, CareOf: at.CareOf, Err: err}
	}
	storeAttachment(ctx, at)
	took := time.Since(start)
	c.logger.Info("registered over NSM connection", "home_address", at.HomeAddress, "care_of", at.CareOf,
		"home_agent", at.HomeAgent, "interface", at.Interface, "request_to_accepted_ba", took)
	if c.registered != nil {
		c.registered(at, took)
	}
	return nil
}

// closeFailed closes a connection the mobile node cannot use, with a
// context that outlives the Request's.
func (c *client) closeFailed(ctx context.Context, closeCtxFunc func() (context.Context, context.CancelFunc),
	conn *networkservice.Connection, opts []grpc.CallOption) {
	closeCtx, cancel := closeCtxFunc()
	defer cancel()
	if _, err := next.Client(ctx).Close(closeCtx, conn, opts...); err != nil {
		c.logger.Error("closing the unusable connection failed", "connection", conn.GetId(), "error", err)
	}
}

func attachmentOf(conn *networkservice.Connection) (Attachment, error) {
	b, err := bootstrap.Get(conn.GetContext().GetExtraContext())
	if err != nil {
		return Attachment{}, fmt.Errorf("connection %s: %w", conn.GetId(), err)
	}
	coa, err := careOf(conn)
	if err != nil {
		return Attachment{}, fmt.Errorf("connection %s: %w", conn.GetId(), err)
	}
	at := Attachment{Bootstrap: b, CareOf: coa}
	if m := kernel.ToMechanism(conn.GetMechanism()); m != nil {
		at.Interface = m.GetInterfaceName()
	}
	return at, nil
}

func careOf(conn *networkservice.Connection) (netip.Addr, error) {
	addrs := conn.GetContext().GetIpContext().GetSrcIpAddrs()
	if len(addrs) == 0 {
		return netip.Addr{}, ErrNoCareOf
	}
	p, err := netip.ParsePrefix(addrs[0])
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Addr{}, fmt.Errorf("%w: client address %q is not an IPv6 address", ErrNoCareOf, addrs[0])
	}
	return p.Addr(), nil
}

func (c *client) Close(ctx context.Context, conn *networkservice.Connection, opts ...grpc.CallOption) (*emptypb.Empty, error) {
	if at, ok := loadAndDeleteAttachment(ctx); ok {
		c.deregister(ctx, at)
	}
	return next.Client(ctx).Close(ctx, conn, opts...)
}

// deregister asks the core to deregister; a failure is logged and the
// connection closed all the same, the binding then expiring at the Home
// Agent (which also removes it when the connection closes there).
func (c *client) deregister(ctx context.Context, at Attachment) {
	ctx, cancel := context.WithTimeout(ctx, c.deregisterTimeout)
	defer cancel()
	if err := c.registrar.Deregister(ctx); err != nil {
		c.logger.Error("deregistration failed; closing the connection anyway", "home_address", at.HomeAddress,
			"care_of", at.CareOf, "error", err)
		return
	}
	c.logger.Info("deregistered", "home_address", at.HomeAddress, "care_of", at.CareOf)
}
