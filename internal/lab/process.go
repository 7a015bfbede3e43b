package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Binary names of the daemons in Options.BinDir.
const (
	HomeAgentBinary  = "nse-homeagent"
	MobileNodeBinary = "nsc-mobile"
)

// StopTimeout is how long Stop waits after SIGINT before it kills.
const StopTimeout = 10 * time.Second

// startPoll is how often a starting daemon's /healthz is tried.
const startPoll = 10 * time.Millisecond

// envPrefix marks the daemons' configuration variables; the lab never
// passes its own process's NSM_* variables on.
const envPrefix = "NSM_"

// StartHomeAgent starts nse-homeagent in the HA namespace with the lab's
// home prefix and Home Agent address, and returns once its HTTP endpoints
// answer. env ("NSM_KEY=value") overrides or adds to those defaults.
func (l *Lab) StartHomeAgent(ctx context.Context, env ...string) (*Process, error) {
	defaults := []string{
		"NSM_HOME_PREFIX=" + HomePrefix.String(),
		"NSM_HOME_AGENT_ADDRESS=" + HAAddr.String(),
		"NSM_LISTEN_ON=" + HAListen,
	}
	return l.Start(ctx, "ha", l.HA, HomeAgentBinary, defaults, env)
}

// StartMobileNode starts nsc-mobile in the MN namespace with the lab's home
// address, Home Agent and access interfaces m1,m2, and returns once its
// HTTP endpoints answer. env ("NSM_KEY=value") overrides or adds to those
// defaults.
func (l *Lab) StartMobileNode(ctx context.Context, env ...string) (*Process, error) {
	defaults := []string{
		"NSM_HOME_PREFIX=" + HomePrefix.String(),
		"NSM_HOME_AGENT_ADDRESS=" + HAAddr.String(),
		"NSM_HOME_ADDRESS=" + HoA.String(),
		"NSM_ACCESS_INTERFACES=" + MNLink1 + "," + MNLink2,
		"NSM_LISTEN_ON=" + MNListen,
	}
	return l.Start(ctx, "mn", l.MN, MobileNodeBinary, defaults, env)
}

// Start starts binary (a file in BinDir) as a daemon called name inside ns,
// with the environment built from defaults and overrides (NSM_KEY=value;
// none of this process's NSM_* variables are passed on), and returns once
// its /healthz answers on its NSM_LISTEN_ON address.
func (l *Runner) Start(ctx context.Context, name string, ns *netns.NS, binary string, defaults, overrides []string) (*Process, error) {
	env, err := daemonEnv(os.Environ(), defaults, overrides)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	path, err := filepath.Abs(filepath.Join(l.BinDir, binary))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("start %s: %s is not an executable file (BinDir %q)", name, path, l.BinDir)
	}
	cmd := ns.Command(path)
	cmd.Env = env
	out := &lineWriter{mu: &l.logMu, w: l.Log, prefix: "[" + name + "] "}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a Ctrl-C in the terminal reaches the lab's owner only, which stops the daemons in order
		Pdeathsig: syscall.SIGTERM, // if the owner dies, the daemons still clean up
	}

	p, err := l.spawn(name, ns, cmd, out)
	if err != nil {
		return nil, err
	}
	if err := l.awaitHealthy(ctx, p, ns); err != nil {
		err = fmt.Errorf("start %s: %w", name, err)
		select {
		case <-p.Done():
			_ = p.Stop() // marks it stopped for Close; err already says how it exited
		default:
			err = errors.Join(err, p.Stop())
		}
		return nil, err
	}
	return p, nil
}

// spawn starts cmd unless the lab is closed, and registers it for Close.
func (l *Runner) spawn(name string, ns *netns.NS, cmd *exec.Cmd, out *lineWriter) (*Process, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("start %s: runner closed", name)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go p.wait()
	l.procs = append(l.procs, p)
	l.listen[ns] = lookupEnv(cmd.Env, "NSM_LISTEN_ON")
	return p, nil
}

// awaitHealthy polls /healthz until it answers, the process exits or ctx ends.
func (l *Runner) awaitHealthy(ctx context.Context, p *Process, ns *netns.NS) error {
	ticker := time.NewTicker(startPoll)
	defer ticker.Stop()
	var last error
	for {
		reqCtx, cancel := context.WithTimeout(ctx, requestTimeout)
		_, err := l.HTTPGet(reqCtx, ns, "/healthz")
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-p.Done():
			return p.exitError("during startup")
		case <-ctx.Done():
			return fmt.Errorf("not healthy: %w", errors.Join(ctx.Err(), last))
		case <-ticker.C:
		}
	}
}

// daemonEnv is base without NSM_* variables, then defaults, each replaced
// by the override of the same name, then the remaining overrides.
func daemonEnv(base, defaults, overrides []string) ([]string, error) {
	env := slices.DeleteFunc(slices.Clone(base), func(kv string) bool { return strings.HasPrefix(kv, envPrefix) })
	merged := slices.Clone(defaults)
	for _, kv := range overrides {
		key, _, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("environment override %q is not KEY=value", kv)
		}
		i := slices.IndexFunc(merged, func(d string) bool { return strings.HasPrefix(d, key+"=") })
		if i >= 0 {
			merged[i] = kv
		} else {
			merged = append(merged, kv)
		}
	}
	return append(env, merged...), nil
}

func lookupEnv(env []string, key string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// Process is a daemon the lab started.
type Process struct {
	Name string // "ha" or "mn", as in the log prefix

	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{}
	err  error // cmd.Wait's, once done is closed

	stopOnce sync.Once
	stopErr  error
}

// Pid is the daemon's process id (ip netns exec execs the daemon itself).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the daemon has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGINT and waits for the daemon to exit; after StopTimeout it
// kills it. It returns an error unless the daemon exited with status 0.
// Calling it again returns the same result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

// Kill ends the daemon with SIGKILL, as a crash would, and waits for it:
// it gets no chance to deregister or clean up. Lab.Close does not report
// the exit of a killed daemon.
func (p *Process) Kill() error {
	p.stopOnce.Do(func() {
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("%s: sigkill: %w", p.Name, err)
		}
		<-p.done
	})
	return p.stopErr
}

// stopUnlessStopped stops p for Lab.Close; it reports nothing for a daemon
// the caller stopped (and heard about) already.
func (p *Process) stopUnlessStopped() error {
	first := false
	p.stopOnce.Do(func() {
		first = true
		p.stopErr = p.stop()
	})
	if first {
		return p.stopErr
	}
	return nil
}

func (p *Process) stop() error {
	select {
	case <-p.done:
		return p.exitError("")
	default:
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: sigint: %w", p.Name, err)
	}
	timer := time.NewTimer(StopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.exitError("after SIGINT")
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill() // it may have exited in between; done tells
	<-p.done
	return fmt.Errorf("%s (pid %d) did not exit within %v of SIGINT; killed", p.Name, p.Pid(), StopTimeout)
}

func (p *Process) wait() {
	p.err = p.cmd.Wait()
	p.out.flush()
	close(p.done)
}

// exitError is nil for a clean exit; call it once done is closed. when
// ("during startup") goes into the message.
func (p *Process) exitError(when string) error {
	if p.err == nil {
		return nil
	}
	if when != "" {
		when = " " + when
	}
	return fmt.Errorf("%s (pid %d) exited%s: %w", p.Name, p.Pid(), when, p.err)
}

// lineWriter writes whole lines to w, each behind prefix; the lines of
// all the lab's daemons share mu. Errors of w are dropped: a daemon must
// not die of a full or closed log.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte // an incomplete last line
}

func (lw *lineWriter) Write(b []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf, b...)
	for {
		i := bytes.IndexByte(lw.buf, '\n')
		if i < 0 {
			break
		}
		_, _ = lw.w.Write(append([]byte(lw.prefix), lw.buf[:i+1]...))
		lw.buf = append(lw.buf[:0], lw.buf[i+1:]...)
	}
	return len(b), nil
}

// flush writes an incomplete last line, newline added.
func (lw *lineWriter) flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) > 0 {
		_, _ = lw.w.Write(append(append([]byte(lw.prefix), lw.buf...), '\n'))
		lw.buf = nil
	}
}

// StartRegistered starts the Home Agent (haEnv overriding its defaults)
// and the mobile node, and waits until the mobile node is registered from
// its first access link (CoA1) or ctx is done.
func (l *Lab) StartRegistered(ctx context.Context, haEnv ...string) error {
	if _, err := l.StartHomeAgent(ctx, haEnv...); err != nil {
		return err
	}
	if _, err := l.StartMobileNode(ctx); err != nil {
		return err
	}
	return l.WaitRegistered(ctx, CoA1)
}
