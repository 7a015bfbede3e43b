package nsmtest

import (
	"context"
	"sync"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"google.golang.org/grpc"

	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
)

type clientNetNS struct{ url string }

// NewClientNetNS makes a client offer the namespace netnsURL instead of
// its own: place it after kernel.NewClient and before sendfd.NewClient.
func NewClientNetNS(netnsURL string) networkservice.NetworkServiceClient {
	return &clientNetNS{url: netnsURL}
}

func (c *clientNetNS) Request(ctx context.Context, request *networkservice.NetworkServiceRequest, opts ...grpc.CallOption) (*networkservice.Connection, error) {
	for _, m := range append(request.GetMechanismPreferences(), request.GetConnection().GetMechanism()) {
		if km := kernelmech.ToMechanism(m); km != nil {
			km.SetNetNSURL(c.url)
		}
	}
	return next.Client(ctx).Request(ctx, request, opts...)
}

func (c *clientNetNS) Close(ctx context.Context, conn *networkservice.Connection, opts ...grpc.CallOption) (*empty.Empty, error) {
	if km := kernelmech.ToMechanism(conn.GetMechanism()); km != nil {
		km.SetNetNSURL(c.url)
	}
	return next.Client(ctx).Close(ctx, conn, opts...)
}

// EndpointNetNS makes an endpoint answer with a given namespace, and
// records the interface name its kernel mechanism chose: place it after
// mechanisms.NewServer and before sendfd.NewServer.
type EndpointNetNS struct {
	url    string
	mu     sync.Mutex
	ifName string
}

// NewEndpointNetNS answers with the namespace netnsURL.
func NewEndpointNetNS(netnsURL string) *EndpointNetNS { return &EndpointNetNS{url: netnsURL} }

// Request implements networkservice.NetworkServiceServer.
func (e *EndpointNetNS) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	if km := kernelmech.ToMechanism(request.GetConnection().GetMechanism()); km != nil {
		km.SetNetNSURL(e.url)
		e.mu.Lock()
		e.ifName = km.GetInterfaceName()
		e.mu.Unlock()
	}
	return next.Server(ctx).Request(ctx, request)
}

// Close implements networkservice.NetworkServiceServer.
func (e *EndpointNetNS) Close(ctx context.Context, conn *networkservice.Connection) (*empty.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}

// InterfaceName is the name of the endpoint's end in the last Request.
func (e *EndpointNetNS) InterfaceName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ifName
}

// Counter tracks the connections an endpoint accepted and has not seen
// closed.
type Counter struct {
	mu       sync.Mutex
	accepted int
	open     map[string]bool
}

// Request implements networkservice.NetworkServiceServer.
func (c *Counter) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	conn, err := next.Server(ctx).Request(ctx, request)
	if err == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.open == nil {
			c.open = map[string]bool{}
		}
		c.accepted++
		c.open[conn.GetId()] = true
	}
	return conn, err
}

// Close implements networkservice.NetworkServiceServer.
func (c *Counter) Close(ctx context.Context, conn *networkservice.Connection) (*empty.Empty, error) {
	c.mu.Lock()
	delete(c.open, conn.GetId())
	c.mu.Unlock()
	return next.Server(ctx).Close(ctx, conn)
}

// Counts returns how many Requests (refreshes included) succeeded, and how
// many connections are open.
func (c *Counter) Counts() (accepted, open int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepted, len(c.open)
}
