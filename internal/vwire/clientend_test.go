package vwire_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"golang.org/x/sys/unix"

	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
	"github.com/mip6mesh/mip6mesh/internal/vwire"
)

const endpointIfName = "ep-1"

// wiringEndpoint answers as an endpoint in ns: its kernel mechanism names
// ns and endpointIfName (or ifName when set), with a point-to-point IP
// context. It records the client-end handles it is sent.
type wiringEndpoint struct {
	ns     *netnstest.NS
	ifName string
	fail   error

	mu      sync.Mutex
	handles []string
	closes  int
}

func (e *wiringEndpoint) Request(_ context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	offered := request.GetConnection().GetMechanism()
	if offered == nil {
		offered = request.GetMechanismPreferences()[0]
	}
	e.mu.Lock()
	e.handles = append(e.handles, offered.GetParameters()[vwire.ClientEndKey])
	e.mu.Unlock()
	if e.fail != nil {
		return nil, e.fail
	}
	m := kernelmech.New("file:///run/netns/" + e.ns.Name())
	ifName := e.ifName
	if ifName == "" {
		ifName = endpointIfName
	}
	kernelmech.ToMechanism(m).SetInterfaceName(ifName)
	conn := request.GetConnection().Clone()
	conn.Mechanism = m
	conn.Context = &networkservice.ConnectionContext{IpContext: &networkservice.IPContext{
		SrcIpAddrs: []string{"fd00:a::1/128"}, DstIpAddrs: []string{"fd00:a::2/128"},
		SrcRoutes: []*networkservice.Route{{Prefix: "fd00:a::2/128"}},
		DstRoutes: []*networkservice.Route{{Prefix: "fd00:a::1/128"}},
	}}
	return conn, nil
}

func (e *wiringEndpoint) Close(context.Context, *networkservice.Connection) (*empty.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closes++
	return &empty.Empty{}, nil
}

func (e *wiringEndpoint) seen() ([]string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.handles...), e.closes
}

// echoEndpoint answers with the mechanism it was offered, as a later
// forwarder that passes the vWire on does.
type echoEndpoint struct{}

func (echoEndpoint) Request(_ context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	conn := request.GetConnection().Clone()
	conn.Mechanism = request.GetMechanismPreferences()[0].Clone()
	return conn, nil
}

func (echoEndpoint) Close(context.Context, *networkservice.Connection) (*empty.Empty, error) {
	return &empty.Empty{}, nil
}

func forwarder(endpoint networkservice.NetworkServiceServer) networkservice.NetworkServiceServer {
	return chain.NewNetworkServiceServer(metadata.NewServer(), vwire.NewServer(), endpoint)
}

func clientRequest(id string, m *networkservice.Mechanism) *networkservice.NetworkServiceRequest {
	return &networkservice.NetworkServiceRequest{
		Connection:           &networkservice.Connection{Id: id, NetworkService: "vwire-test"},
		MechanismPreferences: []*networkservice.Mechanism{m},
	}
}

// forwardedMechanism is a kernel mechanism with no namespace, as one that
// crossed an nsmgr-proxy, with the given parameters.
func forwardedMechanism(params map[string]string) *networkservice.Mechanism {
	m := kernelmech.New("")
	for k, v := range params {
		kernelmech.ToMechanism(m).GetParameters()[k] = v
	}
	return m
}

// resolveHandle asks a second forwarder (whose next hop passes the vWire
// on, so it makes nothing) to take handle as a forwarded client end.
func resolveHandle(ctx context.Context, handle string) error {
	fwd := forwarder(echoEndpoint{})
	conn, err := fwd.Request(ctx, clientRequest("probe", forwardedMechanism(map[string]string{vwire.ClientEndKey: handle})))
	if err != nil {
		return err
	}
	_, err = fwd.Close(ctx, conn)
	return err
}

func TestForgedClientEndsAreRefusedAndCreateNothing(t *testing.T) {
	ctx := testContext(t)
	victim, endpointNS := netnstest.New(t, "victim"), netnstest.New(t, "nse")
	before := [2]nsState{stateOf(t, victim), stateOf(t, endpointNS)}
	var st unix.Stat_t
	mustOK(t, unix.Stat("/run/netns/"+victim.Name(), &st))
	victimInode := fmt.Sprintf("inode://%d/%d", st.Dev, st.Ino)
	endpoint := &wiringEndpoint{ns: endpointNS}
	fwd := forwarder(endpoint)

	for name, params := range map[string]map[string]string{
		"made-up handle": {vwire.ClientEndKey: "00112233445566778899aabbccddeeff"},
		"old inode parameters": {
			"mip6mesh.io/client-netns": victimInode, "mip6mesh.io/client-interface": clientIfName,
		},
	} {
		_, err := fwd.Request(ctx, clientRequest("forged", forwardedMechanism(params)))
		if !errors.Is(err, vwire.ErrUnknownClientEnd) {
			t.Errorf("%s: request error %v, want %v", name, err, vwire.ErrUnknownClientEnd)
		}
	}
	if handles, _ := endpoint.seen(); len(handles) != 0 {
		t.Errorf("forged requests reached the endpoint %d times", len(handles))
	}
	requireSameState(t, victim, before[0])
	requireSameState(t, endpointNS, before[1])
}

func TestClientEndHandleLivesAsLongAsTheConnection(t *testing.T) {
	ctx := testContext(t)
	clientNS, endpointNS := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	before := [2]nsState{stateOf(t, clientNS), stateOf(t, endpointNS)}
	endpoint := &wiringEndpoint{ns: endpointNS}
	fwd := forwarder(endpoint)
	m := kernelmech.New("file:///run/netns/" + clientNS.Name())
	kernelmech.ToMechanism(m).SetInterfaceName(clientIfName)
	request := clientRequest("lives-1", m)

	conn, err := fwd.Request(ctx, request.Clone())
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	requireEnd(t, clientNS, clientIfName, nil, nil)
	requireEnd(t, endpointNS, endpointIfName, nil, nil)
	handles, _ := endpoint.seen()
	handle := handles[0]
	if len(handle) != 32 {
		t.Errorf("handle %q, want 128 bits in hex", handle)
	}
	if err := resolveHandle(ctx, handle); err != nil {
		t.Errorf("a second forwarder cannot resolve the live handle: %v", err)
	}

	refresh := request.Clone()
	refresh.Connection = conn.Clone()
	if conn, err = fwd.Request(ctx, refresh); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if handles, _ = endpoint.seen(); handles[1] != handle {
		t.Errorf("refresh sent handle %q, want the first request's %q", handles[1], handle)
	}

	if _, err := fwd.Close(ctx, conn); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := resolveHandle(ctx, handle); !errors.Is(err, vwire.ErrUnknownClientEnd) {
		t.Errorf("handle after close: %v, want %v", err, vwire.ErrUnknownClientEnd)
	}
	requireSameState(t, clientNS, before[0])
	requireSameState(t, endpointNS, before[1])
}

func TestRollbackRemovesTheHandle(t *testing.T) {
	ctx := testContext(t)
	clientNS, endpointNS := netnstest.New(t, "nsc"), netnstest.New(t, "nse")
	before := [2]nsState{stateOf(t, clientNS), stateOf(t, endpointNS)}
	m := kernelmech.New("file:///run/netns/" + clientNS.Name())
	kernelmech.ToMechanism(m).SetInterfaceName(clientIfName)

	for name, endpoint := range map[string]*wiringEndpoint{
		"refused":             {ns: endpointNS, fail: errRefused},
		"bad endpoint answer": {ns: endpointNS, ifName: "much-too-long-name0"},
	} {
		if _, err := forwarder(endpoint).Request(ctx, clientRequest("rollback-1", m.Clone())); err == nil {
			t.Fatalf("%s: request succeeded", name)
		}
		handles, closes := endpoint.seen()
		if len(handles) != 1 {
			t.Fatalf("%s: the endpoint saw %d requests, want 1", name, len(handles))
		}
		if endpoint.fail == nil && closes != 1 {
			t.Errorf("%s: endpoint closed %d times, want 1 (the rollback)", name, closes)
		}
		if err := resolveHandle(ctx, handles[0]); !errors.Is(err, vwire.ErrUnknownClientEnd) {
			t.Errorf("%s: handle after rollback: %v, want %v", name, err, vwire.ErrUnknownClientEnd)
		}
	}
	requireSameState(t, clientNS, before[0])
	requireSameState(t, endpointNS, before[1])
}
