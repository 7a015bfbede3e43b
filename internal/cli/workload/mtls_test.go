package workload_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mip6mesh/mip6mesh/internal/cli/workload"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

// TestMutualTLSWithTokens: with the source from a Workload API, a server
// made with ServerOptions accepts a call dialled with DialOptions, and the
// call carries a JWT whose subject is the caller's SPIFFE ID.
func TestMutualTLSWithTokens(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	id := spiffeid.RequireFromString("spiffe://mip6mesh.test/ns/mn/sa/nsc-mobile")
	src := sourceFromDevCA(t, id)

	var subject string
	srv := grpc.NewServer(append(workload.ServerOptions(src), grpc.UnaryInterceptor(
		func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			tok, _, err := token.FromContext(ctx)
			if err != nil {
				return nil, err
			}
			claims := jwt.RegisteredClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
				return nil, err
			}
			subject = claims.Subject
			return h(ctx, req)
		}))...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	sock := filepath.Join(t.TempDir(), "listen.on")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Error(err)
		}
	})

	cc, err := grpc.NewClient("unix://"+sock, workload.DialOptions(src, time.Minute)...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cc.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("call over mutual TLS: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING || subject != id.String() {
		t.Errorf("status %s, token subject %q; want SERVING and %s", resp.GetStatus(), subject, id)
	}
}

func sourceFromDevCA(t *testing.T, id spiffeid.ID) workload.Source {
	t.Helper()
	ca, err := devca.New(id.TrustDomain())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sock := filepath.Join(t.TempDir(), "agent.sock")
	stopped, err := ca.Serve(ctx, sock, id)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Setenv("SPIFFE_ENDPOINT_SOCKET", "unix://"+sock)
	src, err := workload.X509Source(t.Context(), 10*time.Second)
	if err != nil {
		cancel()
		for range stopped {
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := src.Close(); err != nil {
			t.Error(err)
		}
		cancel()
		for err := range stopped {
			t.Error(err)
		}
	})
	return src
}
