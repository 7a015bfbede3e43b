package nsmdomain

import (
	"context"
	"fmt"
	"time"

	"github.com/edwarnicke/grpcfd"
	"github.com/golang-jwt/jwt/v4"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	"github.com/networkservicemesh/sdk/pkg/tools/token"
)

// DefaultInsecureSubject is the identity in the tokens of Insecure().
const DefaultInsecureSubject = "spiffe://insecure.test/nsmdomain"

// insecureTokenLifetime is how long an insecure token lives.
const insecureTokenLifetime = time.Hour

// insecureKey signs insecure tokens. It is public on purpose: insecure
// credentials prove nothing and exist for unit tests only.
var insecureKey = []byte("mip6mesh-insecure-test-key")

// Credentials are how the components of a domain, and the clients and
// endpoints that talk to it, authenticate: the transport, and the token
// generator that signs each path segment.
type Credentials struct {
	svid      x509svid.Source
	bundle    x509bundle.Source
	generator token.GeneratorFunc
}

// MTLS returns credentials that speak mTLS with the SVID from svid, trust
// the bundles of bundle, accept any SPIFFE peer of the trust domain (the
// nsmgr and the endpoints then check the path's tokens with the sdk's OPA
// policies, and the Home Agent the client's SVID proof) and sign JWT tokens
// with the SVID's key, valid for at most tokenLifetime.
func MTLS(svid x509svid.Source, bundle x509bundle.Source, tokenLifetime time.Duration) Credentials {
	return Credentials{svid: svid, bundle: bundle, generator: spiffejwt.TokenGeneratorFunc(svid, tokenLifetime)}
}

// Insecure returns credentials with no transport security and HS256 tokens
// for DefaultInsecureSubject, like the sdk's sandbox. Unit tests only.
func Insecure() Credentials {
	return Credentials{generator: InsecureTokenGenerator(DefaultInsecureSubject)}
}

// InsecureTokenGenerator signs HS256 tokens whose subject is subject (a
// SPIFFE ID): with Insecure credentials, a test client chooses its identity.
func InsecureTokenGenerator(subject string) token.GeneratorFunc {
	return func(credentials.AuthInfo) (string, time.Time, error) {
		expires := time.Now().Add(insecureTokenLifetime)
		claims := jwt.RegisteredClaims{Subject: subject, ExpiresAt: jwt.NewNumericDate(expires)}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(insecureKey)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("sign insecure token for %s: %w", subject, err)
		}
		return tok, expires, nil
	}
}

// IsInsecure reports whether c has no transport security.
func (c Credentials) IsInsecure() bool { return c.svid == nil }

func (c Credentials) valid() bool { return c.generator != nil }

// WithTokenGenerator returns a copy of c that signs with g instead.
func (c Credentials) WithTokenGenerator(g token.GeneratorFunc) Credentials {
	c.generator = g
	return c
}

// TokenGenerator signs the path segments of whoever uses c.
func (c Credentials) TokenGenerator() token.GeneratorFunc { return c.generator }

// ServerOptions are the gRPC server options of a component: transport
// credentials wrapped in grpcfd, so file descriptors pass over unix sockets.
func (c Credentials) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.Creds(grpcfd.TransportCredentials(c.serverTransport()))}
}

// DialOptions are the gRPC dial options of a component, client or
// endpoint: grpcfd-wrapped transport credentials, the token as per-RPC
// credentials, and grpcfd's interceptors (which sendfd/recvfd need).
func (c Credentials) DialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(grpcfd.TransportCredentials(c.clientTransport())),
		grpc.WithDefaultCallOptions(
			grpc.WaitForReady(true),
			grpc.PerRPCCredentials(token.NewPerRPCCredentials(c.generator)),
		),
		grpcfd.WithChainStreamInterceptor(),
		grpcfd.WithChainUnaryInterceptor(),
	}
	if c.IsInsecure() {
		// The sdk's token credentials demand transport security.
		opts = append(opts,
			grpc.WithChainUnaryInterceptor(insecureUnaryCredentials),
			grpc.WithChainStreamInterceptor(insecureStreamCredentials))
	}
	return opts
}

func (c Credentials) serverTransport() credentials.TransportCredentials {
	if c.IsInsecure() {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(tlsconfig.MTLSServerConfig(c.svid, c.bundle, tlsconfig.AuthorizeAny()))
}

func (c Credentials) clientTransport() credentials.TransportCredentials {
	if c.IsInsecure() {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(tlsconfig.MTLSClientConfig(c.svid, c.bundle, tlsconfig.AuthorizeAny()))
}

// insecurePerRPC lets token credentials travel without transport security.
type insecurePerRPC struct{ credentials.PerRPCCredentials }

func (insecurePerRPC) RequireTransportSecurity() bool { return false }

func withInsecurePerRPC(opts []grpc.CallOption) []grpc.CallOption {
	for i := len(opts) - 1; i >= 0; i-- {
		if v, ok := opts[i].(grpc.PerRPCCredsCallOption); ok {
			return append(opts, grpc.PerRPCCredentials(insecurePerRPC{v.Creds}))
		}
	}
	return opts
}

func insecureUnaryCredentials(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(ctx, method, req, reply, cc, withInsecurePerRPC(opts)...)
}

func insecureStreamCredentials(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
	streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return streamer(ctx, desc, cc, method, withInsecurePerRPC(opts)...)
}
