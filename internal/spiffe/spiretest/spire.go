package spiretest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/networkservicemesh/sdk/pkg/tools/spire"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

const (
	// AgentSocket is the Workload API socket: SPIRE's default path, which
	// spire.Start's health check requires.
	AgentSocket  = "/tmp/spire-agent/public/api.sock"
	serverSocket = "/tmp/spire-server/private/api.sock"

	runDirPrefix = "mip6mesh-spire-"
	stopTimeout  = 10 * time.Second
	// runTimeout bounds Run's wait for the lock (another test binary's SPIRE)
	// plus the start itself.
	runTimeout = 5 * time.Minute
)

// SPIRE is a running SPIRE server and agent.
type SPIRE struct {
	TrustDomain spiffeid.TrustDomain
	// AgentID is the parent ID of the entries (the join-token alias).
	AgentID spiffeid.ID
	// SocketPath is the agent's Workload API socket.
	SocketPath string

	bin, runDir string
	ownedDirs   []string // SPIRE's default socket directories, once claimed
	lock        *os.File
	cancel      context.CancelFunc
	errCh       <-chan error
	stopOnce    sync.Once
	stopErr     error
}

// Endpoint is the Workload API address, the value for SPIFFE_ENDPOINT_SOCKET.
func (s *SPIRE) Endpoint() string { return "unix://" + s.SocketPath }

// Env is the environment entry that points a child process at the agent.
func (s *SPIRE) Env() string { return workloadapi.SocketEnv + "=" + s.Endpoint() }

// Run starts SPIRE for t and stops it at cleanup; it fails t (never skips)
// when SPIRE cannot start, e.g. because ci/spire.sh has not been run.
func Run(t testing.TB, opts ...Option) *SPIRE {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	s, err := Start(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Start starts SPIRE with the binaries from BinDir and registers the entries
// given with WithEntries; ctx bounds the wait for the machine-wide lock and
// the creation of entries. The caller must call Stop.
func Start(ctx context.Context, opts ...Option) (*SPIRE, error) {
	cfg := config{td: DefaultTrustDomain}
	for _, o := range opts {
		o(&cfg)
	}
	for _, e := range cfg.entries {
		if err := e.validate(cfg.td); err != nil {
			return nil, err
		}
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	lock, err := acquireLock(ctx, filepath.Join(filepath.Dir(bin), "run.lock"))
	if err != nil {
		return nil, err
	}
	s := &SPIRE{
		TrustDomain: cfg.td,
		AgentID:     spiffeid.RequireFromPath(cfg.td, "/spiretest-agent"),
		SocketPath:  AgentSocket,
		bin:         bin,
		lock:        lock,
	}
	if err := s.start(ctx, cfg); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (s *SPIRE) start(ctx context.Context, cfg config) error {
	if err := reapOrphans(s.bin); err != nil {
		return err
	}
	if err := s.claimSockets(); err != nil {
		return err
	}
	runDir, err := os.MkdirTemp("", runDirPrefix)
	if err != nil {
		return fmt.Errorf("spiretest: run directory: %w", err)
	}
	s.runDir = runDir
	port, err := freePort()
	if err != nil {
		return err
	}
	options := []spire.Option{
		spire.WithAgentID(s.AgentID.String()),
		spire.WithRoot(runDir),
		spire.WithServerConfig(fmt.Sprintf(serverConf, runDir, port, cfg.td.Name())),
		spire.WithAgentConfig(fmt.Sprintf(agentConf, runDir, port, cfg.td.Name())),
	}
	var later []Entry
	for _, e := range cfg.entries {
		if e.simple() {
			options = append(options, spire.WithEntry(e.ID.String(), e.Selectors[0]))
		} else {
			later = append(later, e)
		}
	}
	if err := s.startProcesses(options); err != nil {
		return err
	}
	for _, e := range later {
		if err := s.AddEntry(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// startProcesses runs spire.Start, which finds the binaries on PATH, makes a
// stray temporary directory and sets SPIFFE_ENDPOINT_SOCKET: the environment
// is adjusted for the call (TMPDIR points into our run directory so the stray
// one is removed with it) and restored afterwards.
func (s *SPIRE) startProcesses(options []spire.Option) error {
	restore := setEnv(map[string]string{
		"PATH":                s.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TMPDIR":              s.runDir,
		workloadapi.SocketEnv: os.Getenv(workloadapi.SocketEnv),
	})
	defer restore()
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	errCh := spire.Start(append(options, spire.WithContext(runCtx))...)
	select {
	case err, open := <-errCh:
		// spire.Start closes the channel when it fails; an open channel
		// delivering an error means a process died straight away.
		if open {
			s.errCh = errCh
		}
		return fmt.Errorf("spiretest: start SPIRE from %s (logs above): %w", s.bin, err)
	default:
		s.errCh = errCh
		return nil
	}
}

// AddEntry registers e while SPIRE runs; the agent picks it up at its next
// sync (every few seconds).
func (s *SPIRE) AddEntry(ctx context.Context, e Entry) error {
	if err := e.validate(s.TrustDomain); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "spire-server"), e.createArgs(s.AgentID)...) //nolint:gosec // G204: our own binary and arguments
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("spiretest: create entry %s %v: %w: %s", e.ID, e.Selectors, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Stop kills the SPIRE processes, waits until they are gone, and removes the
// sockets and directories; it is safe to call more than once.
func (s *SPIRE) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.cancel != nil {
			s.cancel() // spire.Start's processes get SIGKILL
		}
		for err := range s.errChan() {
			if !killedBySignal(err) {
				errs = append(errs, fmt.Errorf("spiretest: SPIRE process failed while running: %w", err))
			}
		}
		errs = append(errs, waitChildrenGone(s.bin), s.removeFiles())
		errs = append(errs, s.lock.Close())
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// errChan is spire.Start's channel, or a closed one when Start failed before
// spire.Start was called.
func (s *SPIRE) errChan() <-chan error {
	if s.errCh != nil {
		return s.errCh
	}
	closed := make(chan error)
	close(closed)
	return closed
}

func killedBySignal(err error) bool {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return false
	}
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// waitChildrenGone waits for our SPIRE children to exit: when spire.Start
// failed half way, nothing else tells us when the server it left is dead.
func waitChildrenGone(bin string) error {
	for _, p := range children(bin) {
		_ = syscall.Kill(p.pid, syscall.SIGKILL) // already sent by the cancelled context; make sure
	}
	return waitGone(func() []proc { return children(bin) })
}
