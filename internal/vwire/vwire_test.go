package vwire_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/vishvananda/netlink"

	"github.com/networkservicemesh/sdk/pkg/networkservice/ipam/point2pointipam"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain/nsmtest"
	"github.com/mip6mesh/mip6mesh/internal/vwire"
)

func p2pIPAM(t *testing.T, cidr string) networkservice.NetworkServiceServer {
	t.Helper()
	_, prefix, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return point2pointipam.NewServer(prefix)
}

func TestRequestMakesVWireAndCloseRemovesIt(t *testing.T) {
	ctx := testContext(t)
	clientNS, endpointNS := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	clientBefore, endpointBefore := stateOf(t, clientNS), stateOf(t, endpointNS)
	d := startDomain(ctx, t)
	nse := startEndpoint(ctx, t, "nse-local", "vwire-local", d.NSMgrURL, nil, endpointNS, p2pIPAM(t, "fd00:4::/120"))
	nsc := newClient(ctx, d.NSMgrURL, clientNS)

	conn, err := nsc.Request(ctx, nsmtest.NewRequest("local-1", "vwire-local"))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if got := kernelmech.ToMechanism(conn.GetMechanism()).GetInterfaceName(); got != clientIfName {
		t.Errorf("returned interface name %q, want the client's %q", got, clientIfName)
	}
	requireWire(ctx, t, conn, clientNS, endpointNS, nse.NetNS.InterfaceName())

	if _, err := nsc.Close(ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
	requireSameState(t, clientNS, clientBefore)
	requireSameState(t, endpointNS, endpointBefore)
}

func TestRequestMakesVWireAcrossFloatingInterdomain(t *testing.T) {
	ctx := testContext(t)
	clientNS, endpointNS := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	clientBefore, endpointBefore := stateOf(t, clientNS), stateOf(t, endpointNS)
	domains, err := nsmdomain.NewFloatingInterdomain(ctx, nsmdomain.InterdomainConfig{
		Dir: nsmtest.SocketDir(t), Credentials: nsmdomain.Insecure(),
	})
	if err != nil {
		t.Fatalf("start domains: %v", err)
	}
	t.Cleanup(func() {
		if err := domains.Close(); err != nil {
			t.Errorf("close domains: %v", err)
		}
	})
	floating := "@" + domains.Floating.Name
	// The endpoint registers with its own domain under the floating
	// domain's name; the network service goes to the floating registry
	// through the endpoint domain's registry.
	nse := startEndpoint(ctx, t, "home-agent-1"+floating, "home-agent"+floating,
		domains.Endpoint.NSMgrURL, domains.Endpoint.RegistryURL, endpointNS, p2pIPAM(t, "fd00:5::/120"))
	nsc := newClient(ctx, domains.Client.NSMgrURL, clientNS)

	ends := vwire.ClientEndCount()
	request := nsmtest.NewRequest("interdomain-1", "home-agent"+floating)
	conn, err := nsc.Request(ctx, request)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	// One handle, issued by the client's forwarder and reused by the
	// endpoint domain's.
	if n := vwire.ClientEndCount() - ends; n != 1 {
		t.Errorf("%d client ends issued for one connection, want 1", n)
	}
	// nsc, nsmgr, forwarder, nsmgr-proxy, nsmgr-proxy, nsmgr, forwarder, nse
	if n := len(conn.GetPath().GetPathSegments()); n != 8 {
		t.Errorf("path has %d segments, want 8: %v", n, conn.GetPath())
	}
	requireWire(ctx, t, conn, clientNS, endpointNS, nse.NetNS.InterfaceName())

	conn, err = nsc.Request(ctx, nsmtest.Refresh(request, conn))
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	requireWire(ctx, t, conn, clientNS, endpointNS, nse.NetNS.InterfaceName())

	if _, err := nsc.Close(ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
	if n := vwire.ClientEndCount() - ends; n != 0 {
		t.Errorf("%d client ends left after close", n)
	}
	requireSameState(t, clientNS, clientBefore)
	requireSameState(t, endpointNS, endpointBefore)
}

// requireWire checks that the vWire exists as conn's IP context says, and
// that a ping crosses it from the client's address to the endpoint's.
func requireWire(ctx context.Context, t *testing.T, conn *networkservice.Connection,
	clientNS, endpointNS *netnstest.NS, endpointIf string) {
	t.Helper()
	ipc := conn.GetContext().GetIpContext()
	if len(ipc.GetSrcIpAddrs()) == 0 || len(ipc.GetDstIpAddrs()) == 0 {
		t.Fatalf("connection without addresses: %v", ipc)
	}
	clientLink := requireEnd(t, clientNS, clientIfName, ipc.GetSrcIpAddrs(), ipc.GetSrcRoutes())
	endpointLink := requireEnd(t, endpointNS, endpointIf, ipc.GetDstIpAddrs(), ipc.GetDstRoutes())
	if clientLink.Type() != "veth" || endpointLink.Type() != "veth" {
		t.Errorf("ends are %s and %s, want veth", clientLink.Type(), endpointLink.Type())
	}
	src := netip.MustParsePrefix(ipc.GetSrcIpAddrs()[0]).Addr()
	dst := netip.MustParsePrefix(ipc.GetDstIpAddrs()[0]).Addr()
	if err := clientNS.Ping(ctx, src, dst); err != nil {
		t.Errorf("ping %s -> %s over the vWire: %v", src, dst, err)
	}
}

func requireEnd(t *testing.T, ns *netnstest.NS, ifName string, addrs []string, routes []*networkservice.Route) netlink.Link {
	t.Helper()
	link, err := ns.Netlink().LinkByName(ifName)
	if err != nil {
		t.Fatalf("interface %q in %s: %v", ifName, ns.Name(), err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s in %s is down", ifName, ns.Name())
	}
	for _, a := range addrs {
		addr := netip.MustParsePrefix(a).Addr()
		if ok, err := ns.HasAddr(ifName, addr); err != nil || !ok {
			t.Errorf("%s in %s lacks address %s (err %v)", ifName, ns.Name(), addr, err)
		}
	}
	for _, r := range routes {
		requireRoute(t, ns, link, netip.MustParsePrefix(r.GetPrefix()))
	}
	return link
}

func requireRoute(t *testing.T, ns *netnstest.NS, link netlink.Link, dst netip.Prefix) {
	t.Helper()
	filter := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: &net.IPNet{
		IP: net.IP(dst.Addr().AsSlice()), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen()),
	}}
	routes, err := ns.Netlink().RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_OIF|netlink.RT_FILTER_DST)
	if err != nil || len(routes) == 0 {
		t.Errorf("no route to %s via %s in %s (err %v)", dst, link.Attrs().Name, ns.Name(), err)
	}
}
