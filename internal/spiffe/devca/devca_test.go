package devca_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

var (
	td       = spiffeid.RequireTrustDomainFromString("mip6mesh.test")
	haID     = spiffeid.RequireFromPath(td, "/nse-homeagent")
	mobileID = spiffeid.RequireFromPath(td, "/nsc-mobile")
)

func newCA(t *testing.T, opts ...devca.Option) *devca.CA {
	t.Helper()
	ca, err := devca.New(td, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// serve starts the Workload API for id and, at cleanup, stops it and checks
// that it shut down cleanly and removed its socket.
func serve(t *testing.T, ca *devca.CA, id spiffeid.ID) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ctx, cancel := context.WithCancel(context.Background())
	errCh, err := ca.Serve(ctx, sock, id)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		for err := range errCh {
			t.Errorf("serve %s: %v", id, err)
		}
		if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket %s left behind after shutdown (stat: %v)", sock, err)
		}
	})
	return sock
}

func x509Source(t *testing.T, sock string) *workloadapi.X509Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr("unix://"+sock)))
	if err != nil {
		t.Fatalf("X509Source on %s: %v", sock, err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func TestX509SourceGetsTheServedIdentity(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ca := newCA(t)
	src := x509Source(t, serve(t, ca, haID))

	svid, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	if svid.ID != haID {
		t.Errorf("SVID ID %s, want %s", svid.ID, haID)
	}
	bundle, err := src.GetX509BundleForTrustDomain(td)
	if err != nil {
		t.Fatal(err)
	}
	if !bundle.Equal(ca.Bundle()) {
		t.Error("the Workload API bundle is not the CA's bundle")
	}
	if _, _, err := x509svid.Verify(svid.Certificates, ca); err != nil {
		t.Errorf("served SVID does not verify against the CA: %v", err)
	}
}

func TestMTLSBetweenTwoIdentitiesOfTheCA(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ca := newCA(t)
	ha := x509Source(t, serve(t, ca, haID))
	mobile := x509Source(t, serve(t, ca, mobileID))

	serverCfg := tlsconfig.MTLSServerConfig(ha, ha, tlsconfig.AuthorizeID(mobileID))
	clientCfg := tlsconfig.MTLSClientConfig(mobile, mobile, tlsconfig.AuthorizeID(haID))
	serverErr, clientErr := handshake(t, serverCfg, clientCfg)
	if serverErr != nil || clientErr != nil {
		t.Fatalf("mTLS handshake failed: server %v, client %v", serverErr, clientErr)
	}
}

func TestMTLSRefusesAnIdentityItDoesNotAuthorize(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ca := newCA(t)
	ha, mobile := inProcessSource(t, ca, haID), inProcessSource(t, ca, mobileID)
	other := spiffeid.RequireFromPath(td, "/someone-else")

	serverCfg := tlsconfig.MTLSServerConfig(ha, ca, tlsconfig.AuthorizeID(other))
	clientCfg := tlsconfig.MTLSClientConfig(mobile, ca, tlsconfig.AuthorizeID(haID))
	if serverErr, _ := handshake(t, serverCfg, clientCfg); serverErr == nil {
		t.Fatalf("server accepted %s while authorizing only %s", mobileID, other)
	}
}

func TestMTLSRefusesAWorkloadTheCADidNotIssue(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ca := newCA(t)
	impostorCA := newCA(t) // same trust domain name, different key
	ha := inProcessSource(t, ca, haID)
	impostor := inProcessSource(t, impostorCA, mobileID)

	serverCfg := tlsconfig.MTLSServerConfig(ha, ca, tlsconfig.AuthorizeAny())
	clientCfg := tlsconfig.MTLSClientConfig(impostor, ca, tlsconfig.AuthorizeID(haID))
	serverErr, _ := handshake(t, serverCfg, clientCfg)
	if serverErr == nil {
		t.Fatal("server accepted a client SVID signed by another CA")
	}
	t.Logf("refused as expected: %v", serverErr)
}

func TestWorkloadAPIRequiresTheSecurityHeader(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	client := rawClient(t, serve(t, newCA(t), haID))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	stream, err := client.FetchX509SVID(ctx, &workload.X509SVIDRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("FetchX509SVID without %q header: got %v, want InvalidArgument", "workload.spiffe.io", err)
	}
	_, err = client.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"x"}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("FetchJWTSVID without header: got %v, want InvalidArgument", err)
	}
	_, err = client.FetchJWTSVID(withHeader(ctx), &workload.JWTSVIDRequest{Audience: []string{"x"}})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("FetchJWTSVID with header: got %v, want Unimplemented", err)
	}
}

func TestStreamReissuesTheSVIDBeforeExpiry(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	fake := clock.NewFake(time.Now())
	ca := newCA(t, devca.WithClock(fake), devca.WithSVIDTTL(time.Hour))
	client := rawClient(t, serve(t, ca, haID))
	ctx, cancel := context.WithTimeout(withHeader(context.Background()), 30*time.Second)
	defer cancel()
	stream, err := client.FetchX509SVID(ctx, &workload.X509SVIDRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first := recvSVID(t, stream)

	fake.Advance(31 * time.Minute) // past half-life, well before expiry
	second := recvSVID(t, stream)

	if second.Certificates[0].SerialNumber.Cmp(first.Certificates[0].SerialNumber) == 0 {
		t.Fatal("the stream sent the same certificate again instead of a re-issued one")
	}
	if second.ID != haID {
		t.Errorf("re-issued SVID ID %s, want %s", second.ID, haID)
	}
	if !first.Certificates[0].NotAfter.After(fake.Now()) {
		t.Errorf("rotation came after the first SVID expired (%v)", first.Certificates[0].NotAfter)
	}
	if !second.Certificates[0].NotAfter.After(first.Certificates[0].NotAfter) {
		t.Errorf("re-issued SVID expires %v, not after the first one's %v", second.Certificates[0].NotAfter, first.Certificates[0].NotAfter)
	}
}

func TestInProcessSourceRotatesLazily(t *testing.T) {
	fake := clock.NewFake(time.Now())
	ca := newCA(t, devca.WithClock(fake), devca.WithSVIDTTL(time.Hour))
	src := inProcessSource(t, ca, mobileID)
	first, _ := src.GetX509SVID()
	fake.Advance(29 * time.Minute)
	if again, _ := src.GetX509SVID(); again != first {
		t.Error("SVID re-issued before half its lifetime")
	}
	fake.Advance(2 * time.Minute)
	if next, _ := src.GetX509SVID(); next == first || next.ID != mobileID {
		t.Errorf("SVID not re-issued for %s after half its lifetime", mobileID)
	}
}

func TestServeRefusesAForeignID(t *testing.T) {
	ca := newCA(t)
	foreign := spiffeid.RequireFromString("spiffe://elsewhere.test/nse")
	_, err := ca.Serve(context.Background(), filepath.Join(t.TempDir(), "s.sock"), foreign)
	if !errors.Is(err, devca.ErrForeignID) {
		t.Errorf("Serve(%s): got %v, want ErrForeignID", foreign, err)
	}
}

func inProcessSource(t *testing.T, ca *devca.CA, id spiffeid.ID) *devca.Source {
	t.Helper()
	src, err := ca.Source(id)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// handshake runs a TLS handshake over loopback TCP (kernel buffers, unlike
// net.Pipe, let the server's session tickets and close_notify go out without
// a reader) and returns each side's error; with TLS 1.3 only the server sees
// a refused client certificate, so callers check serverErr for that.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := lis.Accept()
		if err != nil {
			serverErr = err
			return
		}
		s := tls.Server(conn, serverCfg)
		serverErr = s.HandshakeContext(t.Context())
		_ = s.Close()
	})
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(conn, clientCfg)
	clientErr = c.HandshakeContext(t.Context())
	_ = c.Close()
	wg.Wait()
	return serverErr, clientErr
}

func rawClient(t *testing.T, sock string) workload.SpiffeWorkloadAPIClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return workload.NewSpiffeWorkloadAPIClient(conn)
}

func withHeader(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "workload.spiffe.io", "true")
}

func recvSVID(t *testing.T, stream workload.SpiffeWorkloadAPI_FetchX509SVIDClient) *x509svid.SVID {
	t.Helper()
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetSvids()) != 1 {
		t.Fatalf("got %d SVIDs, want 1", len(resp.GetSvids()))
	}
	s := resp.GetSvids()[0]
	svid, err := x509svid.ParseRaw(s.GetX509Svid(), s.GetX509SvidKey())
	if err != nil {
		t.Fatal(err)
	}
	return svid
}
