package nsmdomain

import (
	"context"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/networkservicemesh/sdk/pkg/tools/spire"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mip6mesh/mip6mesh/internal/identity"
)

// clientOwnsPath runs in the nsmgr after the authorization policies. A
// request from a workload (a TLS peer other than the mesh's own identity,
// which its forwarders and nsmgr-proxies share) must start at that
// workload: its segment comes first, right before the nsmgr's, and its
// token names the peer. The sdk's policies check only that the previous
// hop's token is signed by the peer, so without this a workload could put
// a segment of another's in front of its own, and be taken for it
// downstream.
type clientOwnsPath struct{ mesh spiffeid.ID }

func (c clientOwnsPath) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	peerID, err := spire.PeerSpiffeIDFromContext(ctx)
	if err != nil || peerID == c.mesh {
		return next.Server(ctx).Request(ctx, request) // not a workload over mTLS: the policies decided
	}
	path := request.GetConnection().GetPath()
	if path.GetIndex() != 1 {
		return nil, status.Errorf(codes.PermissionDenied, "%s sent a path whose first segment is not its own (nsmgr at index %d, want 1)",
			peerID, path.GetIndex())
	}
	// The signature was checked by the policies (prev_token_signed): segment 0 is the previous hop's.
	if claimed, err := identity.ClaimedFromPath(path); err != nil || claimed != peerID {
		return nil, status.Errorf(codes.PermissionDenied, "%s sent a first path segment whose token names %v (%v)", peerID, claimed, err)
	}
	return next.Server(ctx).Request(ctx, request)
}

func (clientOwnsPath) Close(ctx context.Context, conn *networkservice.Connection) (*emptypb.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}
