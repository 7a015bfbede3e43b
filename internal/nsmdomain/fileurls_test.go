package nsmdomain

import (
	"context"
	"testing"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestNSMgrRefusesNamespacesNamedByFile: a mechanism naming its namespace
// by file (which the nsmgr would open with its own rights) is refused,
// among the preferences as on the connection; inode URLs, which come with
// the descriptor, and no URL at all pass.
func TestNSMgrRefusesNamespacesNamedByFile(t *testing.T) {
	srv := chain.NewNetworkServiceServer(fileURLGuard{})
	request := func(url string, onConnection bool) *networkservice.NetworkServiceRequest {
		m := kernel.New(url)
		r := &networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c"}}
		if onConnection {
			r.Connection.Mechanism = m
		} else {
			r.MechanismPreferences = []*networkservice.Mechanism{m}
		}
		return r
	}
	for _, onConnection := range []bool{false, true} {
		if _, err := srv.Request(context.Background(), request("file:///proc/1/ns/net", onConnection)); status.Code(err) != codes.PermissionDenied {
			t.Errorf("file URL (on the connection: %v): %v, want PermissionDenied", onConnection, err)
		}
		for _, ok := range []string{"inode://4/4026531840", ""} {
			if _, err := srv.Request(context.Background(), request(ok, onConnection)); err != nil {
				t.Errorf("URL %q (on the connection: %v): %v", ok, onConnection, err)
			}
		}
	}
}
