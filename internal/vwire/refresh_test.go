package vwire_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/networkservicemesh/api/pkg/api/networkservice"

	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain/nsmtest"
)

// fixedIPAM hands out the addresses the test sets, point to point, with a
// route to the other end on each side.
type fixedIPAM struct {
	mu               sync.Mutex
	client, endpoint string
}

func (f *fixedIPAM) set(client, endpoint string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.client, f.endpoint = client, endpoint
}

func (f *fixedIPAM) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	f.mu.Lock()
	c, e := f.client, f.endpoint
	f.mu.Unlock()
	conn := request.GetConnection()
	if conn.GetContext() == nil {
		conn.Context = &networkservice.ConnectionContext{}
	}
	conn.GetContext().IpContext = &networkservice.IPContext{
		SrcIpAddrs: []string{c + "/128"},
		DstIpAddrs: []string{e + "/128"},
		SrcRoutes:  []*networkservice.Route{{Prefix: e + "/128"}},
		DstRoutes:  []*networkservice.Route{{Prefix: c + "/128"}},
	}
	return next.Server(ctx).Request(ctx, request)
}

func (f *fixedIPAM) Close(ctx context.Context, conn *networkservice.Connection) (*empty.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}

type fixture struct {
	ctx                  context.Context
	clientNS, endpointNS *netnstest.NS
	before               [2]nsState
	nse                  *nsmtest.Endpoint
	nsc                  networkservice.NetworkServiceClient
}

func newFixture(t *testing.T, prepareClientNS func(*netnstest.NS), elements ...networkservice.NetworkServiceServer) *fixture {
	t.Helper()
	f := &fixture{ctx: testContext(t), clientNS: netnstest.New(t, "nsc"), endpointNS: netnstest.New(t, "nse")}
	if prepareClientNS != nil {
		prepareClientNS(f.clientNS)
	}
	f.before = [2]nsState{stateOf(t, f.clientNS), stateOf(t, f.endpointNS)}
	d := startDomain(f.ctx, t)
	f.nse = startEndpoint(f.ctx, t, "nse", "vwire-test", d.NSMgrURL, nil, f.endpointNS, elements...)
	f.nsc = newClient(f.ctx, d.NSMgrURL, f.clientNS)
	return f
}

func (f *fixture) requireNothingLeft(t *testing.T) {
	t.Helper()
	requireSameState(t, f.clientNS, f.before[0])
	requireSameState(t, f.endpointNS, f.before[1])
	if _, open := f.nse.Counts.Counts(); open != 0 {
		t.Errorf("endpoint still has %d connections open", open)
	}
}

func TestRefreshKeepsVWireAndFollowsIPContext(t *testing.T) {
	ipam := &fixedIPAM{}
	ipam.set("fd00:6::1", "fd00:6::2")
	f := newFixture(t, nil, ipam)
	request := nsmtest.NewRequest("refresh-1", "vwire-test")
	conn, err := f.nsc.Request(f.ctx, request)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	endpointIf := f.nse.NetNS.InterfaceName()
	requireWire(f.ctx, t, conn, f.clientNS, f.endpointNS, endpointIf)
	index, err := f.clientNS.LinkIndex(clientIfName)
	mustOK(t, err)
	wired := [2]nsState{stateOf(t, f.clientNS), stateOf(t, f.endpointNS)}

	// The same IP context again: nothing changes, the link is the same one.
	conn, err = f.nsc.Request(f.ctx, nsmtest.Refresh(request, conn))
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := f.nse.NetNS.InterfaceName(); got != endpointIf {
		t.Errorf("endpoint interface renamed from %s to %s on refresh", endpointIf, got)
	}
	requireSameState(t, f.clientNS, wired[0])
	requireSameState(t, f.endpointNS, wired[1])
	if again, err := f.clientNS.LinkIndex(clientIfName); err != nil || again != index {
		t.Errorf("client end index %d after refresh, want %d (err %v)", again, index, err)
	}

	// A new IP context: the new addresses and routes replace the old ones.
	ipam.set("fd00:7::1", "fd00:7::2")
	conn, err = f.nsc.Request(f.ctx, nsmtest.Refresh(request, conn))
	if err != nil {
		t.Fatalf("refresh with new addresses: %v", err)
	}
	requireWire(f.ctx, t, conn, f.clientNS, f.endpointNS, endpointIf)
	requireNoAddr(t, f.clientNS, clientIfName, "fd00:6::1")
	requireNoAddr(t, f.endpointNS, endpointIf, "fd00:6::2")
	snap, err := f.clientNS.Snapshot()
	mustOK(t, err)
	for _, r := range snap.Routes {
		if strings.Contains(r, "fd00:6::") {
			t.Errorf("stale route left in the client: %s", r)
		}
	}

	if _, err := f.nsc.Close(f.ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
	f.requireNothingLeft(t)
}

func TestRefreshRecreatesDeletedVWire(t *testing.T) {
	ipam := &fixedIPAM{}
	ipam.set("fd00:8::1", "fd00:8::2")
	f := newFixture(t, nil, ipam)
	request := nsmtest.NewRequest("recreate-1", "vwire-test")
	conn, err := f.nsc.Request(f.ctx, request)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	link, err := f.clientNS.Netlink().LinkByName(clientIfName)
	mustOK(t, err)
	mustOK(t, f.clientNS.Netlink().LinkDel(link))

	conn, err = f.nsc.Request(f.ctx, nsmtest.Refresh(request, conn))
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	requireWire(f.ctx, t, conn, f.clientNS, f.endpointNS, f.nse.NetNS.InterfaceName())
	if _, err := f.nsc.Close(f.ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
	f.requireNothingLeft(t)
}

func TestRefusedRequestLeavesNothing(t *testing.T) {
	f := newFixture(t, nil, refuser{})
	_, err := f.nsc.Request(f.ctx, nsmtest.NewRequest("refused-1", "vwire-test"))
	if err == nil || !strings.Contains(err.Error(), errRefused.Error()) {
		t.Fatalf("request error %v, want the endpoint's refusal", err)
	}
	f.requireNothingLeft(t)
}

func TestTakenInterfaceNameRollsBack(t *testing.T) {
	ipam := &fixedIPAM{}
	ipam.set("fd00:9::1", "fd00:9::2")
	taken := func(ns *netnstest.NS) { netnstest.Veth(t, ns, ns, clientIfName, "taken") }
	f := newFixture(t, taken, ipam)
	_, err := f.nsc.Request(f.ctx, nsmtest.NewRequest("taken-1", "vwire-test"))
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), clientIfName) {
		t.Fatalf("request error %v, want one naming the taken interface %s", err, clientIfName)
	}
	if accepted, _ := f.nse.Counts.Counts(); accepted == 0 {
		t.Fatal("the endpoint never saw the request: the rollback was not exercised")
	}
	f.requireNothingLeft(t)
}

func requireNoAddr(t *testing.T, ns *netnstest.NS, ifName, addr string) {
	t.Helper()
	has, err := ns.HasAddr(ifName, netip.MustParseAddr(addr))
	if err != nil || has {
		t.Errorf("%s in %s still has %s (err %v)", ifName, ns.Name(), addr, err)
	}
}
