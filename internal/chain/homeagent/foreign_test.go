package homeagent

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestDropForeignAddresses: after a heal from the endpoint with vWires in
// fd00:1::/120 to this one (fd00:2::/120), the IP context holds both
// endpoints' addresses and routes; only this endpoint's stay.
func TestDropForeignAddresses(t *testing.T) {
	ipc := &networkservice.IPContext{
		SrcIpAddrs: []string{"fd00:1::1/128", "fd00:2::1/128"},
		DstIpAddrs: []string{"fd00:1::/128", "fd00:2::/128"},
		SrcRoutes: []*networkservice.Route{
			{Prefix: "fd00:1::/128"}, {Prefix: "2001:db8:1::1/128", NextHop: "fd00:1::"},
			{Prefix: "fd00:2::/128"}, {Prefix: "2001:db8:1::2/128", NextHop: "fd00:2::"},
		},
		DstRoutes: []*networkservice.Route{{Prefix: "fd00:1::1/128"}, {Prefix: "fd00:2::1/128"}},
	}
	dropForeignAddresses(ipc, netip.MustParsePrefix("fd00:2::/120"))
	want := &networkservice.IPContext{
		SrcIpAddrs: []string{"fd00:2::1/128"},
		DstIpAddrs: []string{"fd00:2::/128"},
		SrcRoutes:  []*networkservice.Route{{Prefix: "fd00:2::/128"}, {Prefix: "2001:db8:1::2/128", NextHop: "fd00:2::"}},
		DstRoutes:  []*networkservice.Route{{Prefix: "fd00:2::1/128"}},
	}
	if diff := cmp.Diff(want, ipc, protocmp.Transform()); diff != "" {
		t.Errorf("IP context (-want +got):\n%s", diff)
	}
}
