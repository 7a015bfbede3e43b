package workload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/edwarnicke/grpcfd"
	"github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// DefaultSVIDTimeout bounds the wait for the first X.509-SVID: a Workload
// API that has not answered by then (no SPIRE agent, no registration
// entry for this workload) will not answer.
const DefaultSVIDTimeout = 30 * time.Second

// ErrNoSVID means the Workload API gave no X.509-SVID; the error names
// the socket and the cause.
var ErrNoSVID = errors.New("no x509-svid from the spiffe workload api")

// Source is what the options here need of an X.509 source;
// *workloadapi.X509Source is one.
type Source interface {
	x509svid.Source
	x509bundle.Source
}

// X509Source connects to the Workload API at SPIFFE_ENDPOINT_SOCKET and
// waits up to timeout for this workload's first X.509-SVID. The caller
// must Close the source.
func X509Source(ctx context.Context, timeout time.Duration) (*workloadapi.X509Source, error) {
	addr, ok := os.LookupEnv(workloadapi.SocketEnv)
	if !ok || addr == "" {
		return nil, fmt.Errorf("%w: %s is not set (want e.g. unix:///run/spire/sockets/agent.sock)", ErrNoSVID, workloadapi.SocketEnv)
	}
	if err := workloadapi.ValidateAddress(addr); err != nil {
		return nil, fmt.Errorf("%w: %s %q: %w", ErrNoSVID, workloadapi.SocketEnv, addr, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	src, err := workloadapi.NewX509Source(waitCtx, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	if err != nil {
		return nil, fmt.Errorf("%w at %s=%s within %v (is the agent running and this workload registered?): %w",
			ErrNoSVID, workloadapi.SocketEnv, addr, timeout, err)
	}
	return src, nil
}

// ServerOptions serve gRPC with mutual TLS from src (any peer of a trusted
// trust domain; the NSM authorize elements check the JWTs) that can also
// receive and send file descriptors over unix sockets.
func ServerOptions(src Source) []grpc.ServerOption {
	cfg := tlsconfig.MTLSServerConfig(src, src, tlsconfig.AuthorizeAny())
	cfg.MinVersion = tls.VersionTLS12
	return []grpc.ServerOption{grpc.Creds(grpcfd.TransportCredentials(credentials.NewTLS(cfg)))}
}

// DialOptions dial NSM (the nsmgr, the registry) with mutual TLS from src,
// file descriptor passing, and a JWT for each call signed with the
// X.509-SVID and valid for at most tokenLifetime.
func DialOptions(src Source, tokenLifetime time.Duration) []grpc.DialOption {
	cfg := tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeAny())
	cfg.MinVersion = tls.VersionTLS12
	return []grpc.DialOption{
		grpc.WithTransportCredentials(grpcfd.TransportCredentials(credentials.NewTLS(cfg))),
		grpc.WithDefaultCallOptions(
			grpc.WaitForReady(true),
			grpc.PerRPCCredentials(token.NewPerRPCCredentials(TokenGenerator(src, tokenLifetime))),
		),
		grpcfd.WithChainStreamInterceptor(),
		grpcfd.WithChainUnaryInterceptor(),
	}
}

// TokenGenerator signs the JWTs of this workload's path segments.
func TokenGenerator(src Source, tokenLifetime time.Duration) token.GeneratorFunc {
	return spiffejwt.TokenGeneratorFunc(src, tokenLifetime)
}
