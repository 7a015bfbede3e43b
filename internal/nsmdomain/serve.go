package nsmdomain

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sync"

	"google.golang.org/grpc"
)

// maxSocketPath is the longest path a unix socket address holds.
const maxSocketPath = 107

// listener is a socket a component of the domain is served on.
type listener struct {
	net.Listener
	url *url.URL
}

// listenUnix listens on dir/name.sock.
func listenUnix(dir, name string) (*listener, error) {
	path := filepath.Join(dir, name+".sock")
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("%w: socket path %s is longer than %d bytes", ErrConfig, path, maxSocketPath)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return &listener{Listener: l, url: &url.URL{Scheme: "unix", Path: path}}, nil
}

// listenLoopback listens on a free TCP port of 127.0.0.1: what the sdk's
// DNS resolution (dnsresolve) makes of a name is always a tcp:// URL.
func listenLoopback() (*listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	return &listener{Listener: l, url: &url.URL{Scheme: "tcp", Host: l.Addr().String()}}, nil
}

// servers runs gRPC servers and stops them all.
type servers struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	running []*grpc.Server
	errs    []error
}

// serve serves register's services on l until stop.
func (s *servers) serve(l *listener, register func(*grpc.Server), opts []grpc.ServerOption) {
	srv := grpc.NewServer(opts...)
	register(srv)
	s.mu.Lock()
	s.running = append(s.running, srv)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("serve %s: %w", l.url, err))
			s.mu.Unlock()
		}
	}()
}

// stop stops every server (closing its listener, which removes a unix
// socket's file) and returns what went wrong while serving.
func (s *servers) stop() error {
	s.mu.Lock()
	running := s.running
	s.running = nil
	s.mu.Unlock()
	for _, srv := range running {
		srv.Stop()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}
