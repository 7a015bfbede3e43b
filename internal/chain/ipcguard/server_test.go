package ipcguard_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/checks/checkrequest"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/mip6mesh/mip6mesh/internal/chain/ipcguard"
)

// fakeIPAM stands for IPAM and the elements after it: it records the IP
// context it was handed and answers with a fixed allocation.
type fakeIPAM struct {
	seen []*networkservice.IPContext
}

func (f *fakeIPAM) element(t *testing.T) networkservice.NetworkServiceServer {
	return checkrequest.NewServer(t, func(_ *testing.T, req *networkservice.NetworkServiceRequest) {
		ipc := req.GetConnection().GetContext().GetIpContext()
		f.seen = append(f.seen, copyIPContext(ipc))
		ipc.SrcIpAddrs = append(ipc.SrcIpAddrs, "fd00::1/128")
		ipc.DstIpAddrs = append(ipc.DstIpAddrs, "fd00::/128")
		ipc.SrcRoutes = append(ipc.SrcRoutes, &networkservice.Route{Prefix: "fd00::/128"})
		ipc.DstRoutes = append(ipc.DstRoutes, &networkservice.Route{Prefix: "fd00::1/128"})
	})
}

func copyIPContext(ipc *networkservice.IPContext) *networkservice.IPContext {
	c := &networkservice.IPContext{}
	c.SrcIpAddrs = append(c.SrcIpAddrs, ipc.GetSrcIpAddrs()...)
	c.DstIpAddrs = append(c.DstIpAddrs, ipc.GetDstIpAddrs()...)
	c.SrcRoutes = append(c.SrcRoutes, ipc.GetSrcRoutes()...)
	c.DstRoutes = append(c.DstRoutes, ipc.GetDstRoutes()...)
	c.ExcludedPrefixes = append(c.ExcludedPrefixes, ipc.GetExcludedPrefixes()...)
	return c
}

// hostile is what a client could send: another client's address first,
// a default route and a prefix of its choosing for the endpoint's side,
// and an excluded prefix (which may stay: it only narrows IPAM's choice).
func hostile() *networkservice.IPContext {
	return &networkservice.IPContext{
		SrcIpAddrs:       []string{"fd00::3/128"},
		DstIpAddrs:       []string{"fd00::2/128"},
		DstRoutes:        []*networkservice.Route{{Prefix: "::/0"}, {Prefix: "2001:db8:66::/64"}},
		SrcRoutes:        []*networkservice.Route{{Prefix: "2001:db8:1::1/128", NextHop: "fd00::3"}},
		ExcludedPrefixes: []string{"10.0.0.0/8"},
	}
}

func TestGuardHandsIPAMOnlyWhatThisEndpointGaveBefore(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ipam := &fakeIPAM{}
	srv := chain.NewNetworkServiceServer(metadata.NewServer(), ipcguard.NewServer(), ipam.element(t))
	req := &networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{
		Id: "c1", Context: &networkservice.ConnectionContext{IpContext: hostile()},
	}}
	conn, err := srv.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := &networkservice.IPContext{ExcludedPrefixes: []string{"10.0.0.0/8"}}
	if diff := cmp.Diff(want, ipam.seen[0], protocmp.Transform()); diff != "" {
		t.Errorf("a new connection: IPAM saw (-want +got):\n%s", diff)
	}

	// A refresh that comes back with hostile additions: IPAM sees exactly
	// what the endpoint returned the first time.
	returned := copyIPContext(conn.GetContext().GetIpContext())
	returned.ExcludedPrefixes = nil
	conn.GetContext().IpContext = hostile()
	if _, err := srv.Request(context.Background(), &networkservice.NetworkServiceRequest{Connection: conn}); err != nil {
		t.Fatal(err)
	}
	returned.ExcludedPrefixes = []string{"10.0.0.0/8"}
	if diff := cmp.Diff(returned, ipam.seen[1], protocmp.Transform()); diff != "" {
		t.Errorf("a refresh: IPAM saw (-want +got):\n%s", diff)
	}

	// After Close the connection starts from nothing again.
	if _, err := srv.Close(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	conn.GetContext().IpContext = hostile()
	if _, err := srv.Request(context.Background(), &networkservice.NetworkServiceRequest{Connection: conn}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, ipam.seen[2], protocmp.Transform()); diff != "" {
		t.Errorf("after Close: IPAM saw (-want +got):\n%s", diff)
	}
}
