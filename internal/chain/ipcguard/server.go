package ipcguard

import (
	"context"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

type guardServer struct{}

// NewServer returns the guard; place it before IPAM, after metadata (which
// endpoint.NewServer puts first).
func NewServer() networkservice.NetworkServiceServer { return &guardServer{} }

func (g *guardServer) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	conn := request.GetConnection()
	if conn.GetContext() == nil {
		conn.Context = &networkservice.ConnectionContext{}
	}
	conn.GetContext().IpContext = trusted(ctx, conn.GetContext().GetIpContext())
	resp, err := next.Server(ctx).Request(ctx, request)
	if err != nil {
		return nil, err
	}
	store(ctx, resp.GetContext().GetIpContext())
	return resp, nil
}

func (g *guardServer) Close(ctx context.Context, conn *networkservice.Connection) (*emptypb.Empty, error) {
	metadata.Map(ctx, false).Delete(key{})
	return next.Server(ctx).Close(ctx, conn)
}

// trusted is what this endpoint returned last for the connection, with the
// client's excluded prefixes.
func trusted(ctx context.Context, fromClient *networkservice.IPContext) *networkservice.IPContext {
	ipc := &networkservice.IPContext{}
	if prev, ok := load(ctx); ok {
		ipc = cloneIPContext(prev)
	}
	ipc.ExcludedPrefixes = append([]string(nil), fromClient.GetExcludedPrefixes()...)
	return ipc
}

type key struct{}

// store keeps the addresses and routes of the IP context this endpoint
// returns.
func store(ctx context.Context, ipc *networkservice.IPContext) {
	kept := cloneIPContext(ipc)
	kept.ExcludedPrefixes, kept.Policies = nil, nil
	metadata.Map(ctx, false).Store(key{}, kept)
}

func load(ctx context.Context) (*networkservice.IPContext, bool) {
	v, ok := metadata.Map(ctx, false).Load(key{})
	if !ok {
		return nil, false
	}
	ipc, ok := v.(*networkservice.IPContext)
	return ipc, ok
}

// cloneIPContext is a deep copy; nil gives an empty context.
func cloneIPContext(ipc *networkservice.IPContext) *networkservice.IPContext {
	c := &networkservice.IPContext{}
	if ipc != nil {
		proto.Merge(c, ipc)
	}
	return c
}
