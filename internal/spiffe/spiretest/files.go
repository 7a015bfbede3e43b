package spiretest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// socketDirs are the top directories of SPIRE's default sockets.
var socketDirs = []string{filepath.Dir(filepath.Dir(AgentSocket)), filepath.Dir(filepath.Dir(serverSocket))}

// claimSockets refuses to start when a SPIRE outside our control serves the
// default sockets and removes stale ones; from then on the socket
// directories are ours (a run killed before its teardown leaves them), and
// Stop removes them.
func (s *SPIRE) claimSockets() error {
	for _, sock := range []string{AgentSocket, serverSocket} {
		if _, err := os.Lstat(sock); err != nil {
			continue
		}
		if conn, err := net.DialTimeout("unix", sock, time.Second); err == nil {
			_ = conn.Close()
			return fmt.Errorf("spiretest: another SPIRE is serving %s; stop it first", sock)
		}
		if err := os.Remove(sock); err != nil {
			return fmt.Errorf("spiretest: remove stale socket: %w", err)
		}
	}
	s.ownedDirs = socketDirs
	return nil
}

func (s *SPIRE) removeFiles() error {
	var errs []error
	for _, sock := range []string{AgentSocket, serverSocket} {
		if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, dir := range s.ownedDirs {
		errs = append(errs, os.RemoveAll(dir))
	}
	if s.runDir != "" {
		errs = append(errs, os.RemoveAll(s.runDir))
	}
	return errors.Join(errs...)
}

// acquireLock takes the machine-wide SPIRE lock (SPIRE's sockets are fixed
// paths), waiting until ctx is done.
func acquireLock(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // G304: our lock file
	if err != nil {
		return nil, fmt.Errorf("spiretest: lock file: %w", err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("spiretest: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			holder, _ := os.ReadFile(path) //nolint:gosec // G304: our lock file
			_ = f.Close()
			return nil, fmt.Errorf("spiretest: SPIRE busy: %s held by pid %s: %w", path, strings.TrimSpace(string(holder)), ctx.Err())
		case <-tick.C:
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("spiretest: find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("spiretest: unexpected listener address %v", l.Addr())
	}
	return addr.Port, nil
}

// setEnv sets the variables and returns a function restoring them.
func setEnv(vars map[string]string) (restore func()) {
	old := make(map[string]*string, len(vars))
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		_ = os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				_ = os.Unsetenv(k)
			} else {
				_ = os.Setenv(k, *v)
			}
		}
	}
}
