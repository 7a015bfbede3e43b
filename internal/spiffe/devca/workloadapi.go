package devca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// securityHeader is the gRPC metadata key every Workload API call must carry
// with the value "true" (SPIFFE Workload Endpoint spec, section 6.2).
const securityHeader = "workload.spiffe.io"

// Serve serves the SPIFFE Workload API for id on the unix socket
// socketPath until ctx is done. The socket is listening when Serve returns
// (any stale socket file is replaced) and is created owner-only. The channel
// carries a serving error, if any, and is closed once the server has stopped,
// every stream has ended and the socket file is gone.
func (ca *CA) Serve(ctx context.Context, socketPath string, id spiffeid.ID) (<-chan error, error) {
	src, err := ca.Source(id)
	if err != nil {
		return nil, err
	}
	lis, err := listenUnix(socketPath)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(
		grpc.WaitForHandlers(true), // Stop waits for the streaming handlers: no leaked goroutines
		grpc.ChainUnaryInterceptor(requireHeaderUnary),
		grpc.ChainStreamInterceptor(requireHeaderStream),
	)
	workload.RegisterSpiffeWorkloadAPIServer(srv, &workloadServer{ca: ca, src: src})
	errCh := make(chan error, 1)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			errCh <- fmt.Errorf("devca: serve %s on %s: %w", id, socketPath, err)
		}
	}()
	go func() {
		defer close(errCh)
		select {
		case <-ctx.Done():
		case <-served:
		}
		srv.Stop()
		<-served
	}()
	return errCh, nil
}

func listenUnix(socketPath string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(socketPath), 0o750); err != nil {
		return nil, fmt.Errorf("devca: socket directory for %s: %w", socketPath, err)
	}
	if fi, err := os.Lstat(socketPath); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("devca: %s exists and is not a socket", socketPath)
		}
		if err := os.Remove(socketPath); err != nil {
			return nil, fmt.Errorf("devca: remove stale socket %s: %w", socketPath, err)
		}
	}
	lis, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("devca: listen on %s: %w", socketPath, err)
	}
	if err := os.Chmod(socketPath, 0o600); err != nil {
		_ = lis.Close()
		return nil, fmt.Errorf("devca: chmod %s: %w", socketPath, err)
	}
	return lis, nil
}

func requireHeaderUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := checkSecurityHeader(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func requireHeaderStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := checkSecurityHeader(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// checkSecurityHeader refuses calls without the header exactly as the SPIRE
// agent does, so that a client that works here works against SPIRE.
func checkSecurityHeader(ctx context.Context) error {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md[securityHeader]) != 1 || md[securityHeader][0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	return nil
}

type workloadServer struct {
	workload.UnimplementedSpiffeWorkloadAPIServer // JWT and WIT methods: Unimplemented
	ca                                            *CA
	src                                           *Source
}

// FetchX509SVID sends the identity's SVID, then a re-issued one each time the
// current one reaches half its lifetime, until the client goes away.
func (w *workloadServer) FetchX509SVID(_ *workload.X509SVIDRequest, stream workload.SpiffeWorkloadAPI_FetchX509SVIDServer) error {
	ctx := stream.Context()
	for {
		resp, renewAt, err := w.x509SVIDResponse()
		if err != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		// Arm the timer before sending so that a client holding this response
		// knows the renewal is already scheduled (tests rely on it with a fake clock).
		due := make(chan struct{})
		timer := w.ca.cfg.clock.AfterFunc(renewAt.Sub(w.ca.cfg.clock.Now()), func() { close(due) })
		if err := stream.Send(resp); err != nil {
			timer.Stop()
			return err
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-due:
		}
	}
}

func (w *workloadServer) x509SVIDResponse() (*workload.X509SVIDResponse, time.Time, error) {
	svid, renewAt, err := w.src.current()
	if err != nil {
		return nil, time.Time{}, err
	}
	key, err := x509.MarshalPKCS8PrivateKey(svid.PrivateKey)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("devca: marshal key of %s: %w", svid.ID, err)
	}
	return &workload.X509SVIDResponse{Svids: []*workload.X509SVID{{
		SpiffeId:    svid.ID.String(),
		X509Svid:    concatDER(svid.Certificates),
		X509SvidKey: key,
		Bundle:      concatDER(w.ca.bundle.X509Authorities()),
	}}}, renewAt, nil
}

// FetchX509Bundles sends the trust domain's bundle once (the CA does not
// rotate) and keeps the stream open until the client goes away.
func (w *workloadServer) FetchX509Bundles(_ *workload.X509BundlesRequest, stream workload.SpiffeWorkloadAPI_FetchX509BundlesServer) error {
	resp := &workload.X509BundlesResponse{Bundles: map[string][]byte{
		w.ca.td.IDString(): concatDER(w.ca.bundle.X509Authorities()),
	}}
	if err := stream.Send(resp); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

func concatDER(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.Raw...)
	}
	return out
}
