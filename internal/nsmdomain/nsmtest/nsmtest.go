package nsmtest

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/cls"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	registryapi "github.com/networkservicemesh/api/pkg/api/registry"
	"google.golang.org/grpc"

	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/client"
	"github.com/networkservicemesh/sdk/pkg/networkservice/chains/endpoint"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/sendfd"
	registryclient "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	registrysendfd "github.com/networkservicemesh/sdk/pkg/registry/common/sendfd"

	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
)

// DialTimeout bounds the dials of the clients this package makes.
const DialTimeout = 5 * time.Second

// NetNSURL is the netns URL of the named namespace (`ip netns` name).
func NetNSURL(name string) string {
	return (&url.URL{Scheme: "file", Path: filepath.Join("/run/netns", name)}).String()
}

// SocketDir is an absolute temporary directory for unix sockets, removed
// when the test ends.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartDomain starts a domain that closes when the test ends.
func StartDomain(ctx context.Context, t testing.TB, cfg nsmdomain.Config) *nsmdomain.Domain {
	t.Helper()
	d, err := nsmdomain.New(ctx, cfg)
	if err != nil {
		t.Fatalf("nsmtest: start domain: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("nsmtest: close domain %s: %v", d.Name, err)
		}
	})
	return d
}

// Serve serves register's services on a unix socket until the test ends.
func Serve(t testing.TB, socket string, register func(*grpc.Server), opts []grpc.ServerOption) {
	t.Helper()
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatalf("nsmtest: %v", err)
	}
	srv := grpc.NewServer(opts...)
	register(srv)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(l) // returns when Stop below closes the listener
	}()
	t.Cleanup(func() {
		srv.Stop()
		wg.Wait()
	})
}

// EndpointSpec describes a test endpoint.
type EndpointSpec struct {
	Name, Service string
	// NSMgrURL is the nsmgr the endpoint registers with.
	NSMgrURL *url.URL
	// RegistryURL registers the network service; the nsmgr's if nil.
	RegistryURL *url.URL
	// Dir holds the endpoint's socket.
	Dir string
	// NetNS is the netns URL the endpoint's kernel mechanism names.
	NetNS string
	// Credentials of the endpoint.
	Credentials nsmdomain.Credentials
	// Elements run before the kernel mechanism (IPAM, your elements).
	Elements []networkservice.NetworkServiceServer
	// Authorize replaces the endpoint's authorization (authorize.Any() if
	// nil), e.g. authorize.NewServer() for the sdk's default policies.
	Authorize networkservice.NetworkServiceServer
}

// Endpoint is a running test endpoint.
type Endpoint struct {
	Spec   EndpointSpec
	NetNS  *EndpointNetNS
	Counts *Counter
}

// StartEndpoint serves an endpoint (counter, spec.Elements, kernel
// mechanism in spec.NetNS, sendfd), registers its network service and
// itself, and stops it when the test ends.
func StartEndpoint(ctx context.Context, t testing.TB, spec EndpointSpec) *Endpoint {
	t.Helper()
	e := &Endpoint{Spec: spec, NetNS: NewEndpointNetNS(spec.NetNS), Counts: &Counter{}}
	chain := append([]networkservice.NetworkServiceServer{e.Counts}, spec.Elements...)
	chain = append(chain,
		mechanisms.NewServer(map[string]networkservice.NetworkServiceServer{kernelmech.MECHANISM: kernel.NewServer()}),
		e.NetNS,
		sendfd.NewServer())
	opts := []endpoint.Option{endpoint.WithName(spec.Name), endpoint.WithAdditionalFunctionality(chain...)}
	if spec.Authorize != nil {
		opts = append(opts, endpoint.WithAuthorizeServer(spec.Authorize))
	}
	nse := endpoint.NewServer(ctx, spec.Credentials.TokenGenerator(), opts...)
	socket := filepath.Join(spec.Dir, "nse-"+spec.Name+".sock")
	Serve(t, socket, nse.Register, spec.Credentials.ServerOptions())
	// Registered after Serve, so cleaned up before it: the registration's
	// refresh stops before the server does.
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	register(ctx, t, spec, &url.URL{Scheme: "unix", Path: socket})
	return e
}

func register(ctx context.Context, t testing.TB, spec EndpointSpec, u *url.URL) {
	t.Helper()
	registryURL := spec.RegistryURL
	if registryURL == nil {
		registryURL = spec.NSMgrURL
	}
	dial := spec.Credentials.DialOptions()
	nsClient := registryclient.NewNetworkServiceRegistryClient(ctx,
		registryclient.WithClientURL(registryURL), registryclient.WithDialOptions(dial...))
	if _, err := nsClient.Register(ctx, &registryapi.NetworkService{Name: spec.Service}); err != nil {
		t.Fatalf("nsmtest: register network service %s: %v", spec.Service, err)
	}
	nseClient := registryclient.NewNetworkServiceEndpointRegistryClient(ctx,
		registryclient.WithClientURL(spec.NSMgrURL),
		registryclient.WithDialOptions(dial...),
		registryclient.WithDialTimeout(DialTimeout),
		registryclient.WithNSEAdditionalFunctionality(registrysendfd.NewNetworkServiceEndpointRegistryClient()))
	_, err := nseClient.Register(ctx, &registryapi.NetworkServiceEndpoint{
		Name: spec.Name, NetworkServiceNames: []string{spec.Service}, Url: u.String(),
	})
	if err != nil {
		t.Fatalf("nsmtest: register endpoint %s: %v", spec.Name, err)
	}
}

// ClientSpec describes a test client.
type ClientSpec struct {
	NSMgrURL *url.URL
	// NetNS is the netns URL the client's kernel mechanism names.
	NetNS string
	// InterfaceName of the client's end.
	InterfaceName string
	Credentials   nsmdomain.Credentials
	// Elements run after the kernel mechanism and sendfd (they see the
	// connection once the Request returns).
	Elements []networkservice.NetworkServiceClient
}

// NewClient returns a client (without retry or heal: a test sees every
// error) whose kernel interface is spec.InterfaceName in spec.NetNS.
func NewClient(ctx context.Context, spec ClientSpec) networkservice.NetworkServiceClient {
	elements := append([]networkservice.NetworkServiceClient{
		kernel.NewClient(kernel.WithInterfaceName(spec.InterfaceName)),
		NewClientNetNS(spec.NetNS),
		sendfd.NewClient(),
	}, spec.Elements...)
	return client.NewClient(ctx,
		client.WithClientURL(spec.NSMgrURL),
		client.WithName("nsmtest-client"),
		client.WithDialOptions(spec.Credentials.DialOptions()...),
		client.WithDialTimeout(DialTimeout),
		client.WithAdditionalFunctionality(elements...))
}

// NewRequest asks for service with a kernel mechanism.
func NewRequest(id, service string) *networkservice.NetworkServiceRequest {
	return &networkservice.NetworkServiceRequest{
		MechanismPreferences: []*networkservice.Mechanism{{Cls: cls.LOCAL, Type: kernelmech.MECHANISM}},
		Connection: &networkservice.Connection{
			Id:             id,
			NetworkService: service,
			Context:        &networkservice.ConnectionContext{},
		},
	}
}

// Refresh is the request a client sends to refresh conn.
func Refresh(request *networkservice.NetworkServiceRequest, conn *networkservice.Connection) *networkservice.NetworkServiceRequest {
	r := request.Clone()
	r.Connection = conn.Clone()
	return r
}
