package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

// TestPingEndpointIsTheLivenessCheck: the check passes when the endpoint
// answers over the vWire, fails when nobody does, and passes connections
// it cannot check.
func TestPingEndpointIsTheLivenessCheck(t *testing.T) {
	client, endpoint := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	netnstest.Veth(t, client, endpoint, "nsm-1", "nse-1")
	for ns, a := range map[*netnstest.NS]string{client: "fd00:6d36::1/64", endpoint: "fd00:6d36::/64"} {
		link := map[*netnstest.NS]string{client: "nsm-1", endpoint: "nse-1"}[ns]
		if err := ns.AddAddr(link, netip.MustParsePrefix(a)); err != nil {
			t.Fatal(err)
		}
	}
	conn := func(mech, dst string) *networkservice.Connection {
		return &networkservice.Connection{Mechanism: &networkservice.Mechanism{Type: mech},
			Context: &networkservice.ConnectionContext{IpContext: &networkservice.IPContext{
				SrcIpAddrs: []string{"fd00:6d36::1/128"}, DstIpAddrs: []string{dst}}}}
	}
	cases := []struct {
		name string
		conn *networkservice.Connection
		want bool
	}{
		{"endpoint answers", conn(kernelmech.MECHANISM, "fd00:6d36::/128"), true},
		{"nobody answers", conn(kernelmech.MECHANISM, "fd00:6d36::99/128"), false},
		{"not a kernel interface", conn("MEMIF", "fd00:6d36::99/128"), true},
		{"no addresses", &networkservice.Connection{Mechanism: &networkservice.Mechanism{Type: kernelmech.MECHANISM}}, true},
	}
	for _, tc := range cases {
		var got bool
		err := client.Do(func() error {
			// Long enough for a reply on a veth; the failing case waits it out.
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			got = pingEndpoint(ctx, tc.conn)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: liveness %v, want %v", tc.name, got, tc.want)
		}
	}
}
