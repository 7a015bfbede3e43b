package nsmdomain

import (
	"context"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/networkservicemesh/sdk/pkg/tools/spire"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
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
	claims := &jwt.RegisteredClaims{}
	// The signature was checked by the policies (prev_token_signed): segment 0 is the previous hop's.
	if _, _, err := jwt.NewParser().ParseUnverified(path.GetPathSegments()[0].GetToken(), claims); err != nil || claims.Subject != peerID.String() {
		return nil, status.Errorf(codes.PermissionDenied, "%s sent a first path segment whose token names %q", peerID, claims.Subject)
	}
	return next.Server(ctx).Request(ctx, request)
}

func (clientOwnsPath) Close(ctx context.Context, conn *networkservice.Connection) (*emptypb.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}
