package nsmdomain

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

// TestAWorkloadsRequestStartsWithItsOwnSegment: a workload's request
// passes the nsmgr only with its own segment first, right before the
// nsmgr's, naming it; a segment of another workload put in front is
// refused. The mesh's own components and peers without TLS are left to the
// policies.
func TestAWorkloadsRequestStartsWithItsOwnSegment(t *testing.T) {
	td := spiffeid.RequireTrustDomainFromString("mip6mesh.test")
	ca, err := devca.New(td)
	if err != nil {
		t.Fatal(err)
	}
	mesh := spiffeid.RequireFromSegments(td, "nsm")
	attacker := spiffeid.RequireFromSegments(td, "mn-2")
	victim := spiffeid.RequireFromSegments(td, "mn-1")
	srv := chain.NewNetworkServiceServer(clientOwnsPath{mesh: mesh})
	for _, tc := range []struct {
		name     string
		peer     spiffeid.ID // zero: no TLS peer
		index    uint32
		subjects []string
		want     codes.Code
	}{
		{"own segment first", attacker, 1, []string{attacker.String(), mesh.String()}, codes.OK},
		{"own segment first, on a refresh", attacker, 1, []string{attacker.String(), mesh.String(), mesh.String()}, codes.OK},
		{"another's segment put in front", attacker, 2, []string{victim.String(), attacker.String(), mesh.String()}, codes.PermissionDenied},
		{"first segment naming another", attacker, 1, []string{victim.String(), mesh.String()}, codes.PermissionDenied},
		{"the mesh's own component", mesh, 5, []string{victim.String(), mesh.String(), mesh.String(), mesh.String(), mesh.String(), mesh.String()}, codes.OK},
		{"no TLS peer", spiffeid.ID{}, 2, []string{victim.String(), attacker.String(), mesh.String()}, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if !tc.peer.IsZero() {
				svid, err := ca.Issue(tc.peer)
				if err != nil {
					t.Fatal(err)
				}
				ctx = peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{
					State: tls.ConnectionState{PeerCertificates: svid.Certificates}}})
			}
			_, err := srv.Request(ctx, &networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{
				Id: "c", Path: path(t, tc.index, tc.subjects...)}})
			if status.Code(err) != tc.want {
				t.Errorf("Request: %v, want %v", err, tc.want)
			}
		})
	}
}

func path(t *testing.T, index uint32, subjects ...string) *networkservice.Path {
	t.Helper()
	p := &networkservice.Path{Index: index}
	for _, sub := range subjects {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: sub}).SignedString([]byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		p.PathSegments = append(p.PathSegments, &networkservice.PathSegment{Token: tok})
	}
	return p
}
