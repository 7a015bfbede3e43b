package vwire_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/networkservicemesh/api/pkg/api/networkservice"

	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
	"github.com/mip6mesh/mip6mesh/internal/nsmdomain/nsmtest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

const (
	testTimeout   = 30 * time.Second
	clientIfName  = "nsm-1"
	clientSubject = "spiffe://insecure.test/ns/mn/sa/mobile"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func startDomain(ctx context.Context, t *testing.T) *nsmdomain.Domain {
	t.Helper()
	return nsmtest.StartDomain(ctx, t, nsmdomain.Config{Dir: nsmtest.SocketDir(t), Credentials: nsmdomain.Insecure()})
}

// startEndpoint serves an insecure endpoint in ns for service.
func startEndpoint(ctx context.Context, t *testing.T, name, service string, nsmgrURL, registryURL *url.URL,
	ns *netnstest.NS, elements ...networkservice.NetworkServiceServer) *nsmtest.Endpoint {
	t.Helper()
	return nsmtest.StartEndpoint(ctx, t, nsmtest.EndpointSpec{
		Name: name, Service: service, NSMgrURL: nsmgrURL, RegistryURL: registryURL,
		Dir: nsmtest.SocketDir(t), NetNS: nsmtest.NetNSURL(ns.Name()),
		Credentials: nsmdomain.Insecure(), Elements: elements,
	})
}

// newClient is an insecure client in ns asking for interface clientIfName.
func newClient(ctx context.Context, nsmgrURL *url.URL, ns *netnstest.NS) networkservice.NetworkServiceClient {
	return nsmtest.NewClient(ctx, nsmtest.ClientSpec{
		NSMgrURL: nsmgrURL, NetNS: nsmtest.NetNSURL(ns.Name()), InterfaceName: clientIfName,
		Credentials: nsmdomain.Insecure().WithTokenGenerator(nsmdomain.InsecureTokenGenerator(clientSubject)),
	})
}

// refuser fails every Request, as an endpoint that refuses a client.
type refuser struct{}

var errRefused = errors.New("refused by the test endpoint")

func (refuser) Request(context.Context, *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	return nil, errRefused
}

func (refuser) Close(ctx context.Context, conn *networkservice.Connection) (*empty.Empty, error) {
	return next.Server(ctx).Close(ctx, conn)
}

// linkNames lists the interfaces of ns, sorted.
func linkNames(t *testing.T, ns *netnstest.NS) []string {
	t.Helper()
	links, err := ns.Netlink().LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

// nsState is what a test compares before and after: links and routing state.
type nsState struct {
	links    []string
	snapshot netnstest.Snapshot
}

func stateOf(t *testing.T, ns *netnstest.NS) nsState {
	t.Helper()
	snap, err := ns.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return nsState{links: linkNames(t, ns), snapshot: snap}
}

func requireSameState(t *testing.T, ns *netnstest.NS, want nsState) {
	t.Helper()
	got := stateOf(t, ns)
	if !slices.Equal(got.links, want.links) {
		t.Errorf("links of %s: %v, want %v", ns.Name(), got.links, want.links)
	}
	if diff := withoutAutoLinkState(got.snapshot.Diff(want.snapshot)); diff != "" {
		t.Errorf("routing state of %s changed:\n%s", ns.Name(), diff)
	}
}

// withoutAutoLinkState drops the lines about link-local addresses and the
// fe80::/64 and ff00::/8 routes, which the kernel adds on its own, some time
// after a link comes up, to links a test itself made. The vWire's own ends
// are covered by the link list.
func withoutAutoLinkState(diff string) string {
	var kept []string
	for _, line := range strings.Split(diff, "\n") {
		if line != "" && !strings.Contains(line, " fe80:") && !strings.Contains(line, " ff00::/8 ") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
