package svidproof

import (
	"context"
	"fmt"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mip6mesh/mip6mesh/internal/identity"
)

type client struct {
	source x509svid.Source
}

// NewClient returns the element; source is the client's own X.509-SVID
// source, read on every Request because the SVID rotates.
func NewClient(source x509svid.Source) networkservice.NetworkServiceClient {
	return &client{source: source}
}

func (c *client) Request(ctx context.Context, request *networkservice.NetworkServiceRequest, opts ...grpc.CallOption) (*networkservice.Connection, error) {
	svid, err := c.source.GetX509SVID()
	if err != nil {
		return nil, fmt.Errorf("svid proof: no x509-svid: %w", err)
	}
	if request.GetConnection() == nil {
		request.Connection = &networkservice.Connection{}
	}
	conn := request.GetConnection()
	if conn.GetContext() == nil {
		conn.Context = &networkservice.ConnectionContext{}
	}
	if conn.GetContext().GetExtraContext() == nil {
		conn.GetContext().ExtraContext = map[string]string{}
	}
	conn.GetContext().GetExtraContext()[identity.KeySVIDProof] = identity.EncodeProof(svid.Certificates)
	return next.Client(ctx).Request(ctx, request, opts...)
}

func (c *client) Close(ctx context.Context, conn *networkservice.Connection, opts ...grpc.CallOption) (*emptypb.Empty, error) {
	return next.Client(ctx).Close(ctx, conn, opts...)
}
