package nsmdomain

import (
	"context"
	"strings"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/common"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fileURLGuard runs in the nsmgr before it receives descriptors: a client
// passes its namespace as an inode:// URL with the descriptor itself
// (sendfd). A file:// URL would make the nsmgr's sendfd open that path
// with the nsmgr's own rights and pass it on, so a client could name any
// namespace on the machine (/proc/1/ns/net, another pod's) as its own.
type fileURLGuard struct{}

func (fileURLGuard) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	for _, m := range append(request.GetMechanismPreferences(), request.GetConnection().GetMechanism()) {
		if u := m.GetParameters()[common.InodeURL]; strings.HasPrefix(u, "file:") {
			return nil, status.Errorf(codes.PermissionDenied,
				"mechanism %s of connection %s names file %q: a namespace comes with its descriptor, as an inode:// URL",
				m.GetType(), request.GetConnection().GetId(), u)
		}
	}
	return next.Server(ctx).Request(ctx, request)
}

func (fileURLGuard) Close(ctx context.Context, conn *networkservice.Connection) (*emptypb.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}
