package registration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// HomeAgentBinary is the daemon's file name in Config.BinDir.
const HomeAgentBinary = "nse-homeagent"

// haListen is where the Home Agent serves HTTP inside its namespace.
const haListen = "localhost:9480"

// Startup and HTTP bounds.
const (
	startTimeout   = 30 * time.Second
	startPoll      = 20 * time.Millisecond
	requestTimeout = 10 * time.Second
	maxBody        = 1 << 20
)

// homeAgent is the nse-homeagent process under test.
type homeAgent struct {
	ns   *netns.NS
	cmd  *exec.Cmd
	log  *haLog
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// haEnv is the Home Agent's whole NSM_* configuration.
func haEnv(cfg Config) []string {
	return []string{
		"NSM_INSTANCE=bench",
		"NSM_HOME_PREFIX=" + homePrefix.String(),
		"NSM_HOME_AGENT_ADDRESS=" + haAddr.String(),
		"NSM_INTERFACES=" + haIf,
		"NSM_MAX_LIFETIME=" + maxLifetime.String(),
		"NSM_LISTEN_ON=" + haListen,
		"NSM_LOG_LEVEL=" + cfg.HALogLevel,
		"NSM_DATAPLANE=" + cfg.Dataplane,
	}
}

// checkBinary makes sure path is the daemon and that it can run the data
// plane asked for: a build without NSM_DATAPLANE has only seg6.
func checkBinary(ctx context.Context, path, dataplane string) error {
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file: build it first (bench.sh does)", path)
	}
	help, err := exec.CommandContext(ctx, path, "--help").Output()
	if err != nil {
		return fmt.Errorf("%s --help: %w", path, err)
	}
	if dataplane != "seg6" && !bytes.Contains(help, []byte("NSM_DATAPLANE")) {
		return fmt.Errorf("%w: %s has no NSM_DATAPLANE, so only the seg6 driver, not %q", ErrDataplane, path, dataplane)
	}
	return nil
}

// startHomeAgent starts the daemon in ns and returns once /healthz answers.
func startHomeAgent(ctx context.Context, ns *netns.NS, path string, env []string, narrate io.Writer) (*homeAgent, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cmd := ns.Command(abs)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NSM_") }), env...)
	h := &homeAgent{ns: ns, cmd: cmd, log: newHALog(narrate), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = h.log, h.log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a Ctrl-C reaches the bench only, which stops the daemon in order
		Pdeathsig: syscall.SIGTERM, // if the bench dies, the daemon still cleans up
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", abs, err)
	}
	go func() {
		h.err = cmd.Wait()
		h.log.flush()
		close(h.done)
	}()
	if err := h.awaitHealthy(ctx); err != nil {
		_, stopErr := h.stop(5 * time.Second)
		return nil, errors.Join(fmt.Errorf("start %s: %w%s", HomeAgentBinary, err, h.log.tailText()), stopErr)
	}
	return h, nil
}

func (h *homeAgent) awaitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last error
	for {
		_, err := h.get(ctx, "/healthz")
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-h.done:
			return fmt.Errorf("%w during startup: %s", ErrHomeAgentExited, exitText(h.err))
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %v: %w", startTimeout, last)
		case <-time.After(startPoll):
		}
	}
}

// exitText says how the process exited (cmd.Wait's error, nil for status 0).
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func (h *homeAgent) pid() int { return h.cmd.Process.Pid }

// alive returns an error once the daemon has exited.
func (h *homeAgent) alive() error {
	select {
	case <-h.done:
		return fmt.Errorf("%w: %s%s", ErrHomeAgentExited, exitText(h.err), h.log.tailText())
	default:
		return nil
	}
}

// stop sends SIGINT, waits up to timeout for the daemon to remove its
// bindings and exit, then kills it. It returns how long the exit took.
func (h *homeAgent) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	select {
	case <-h.done:
		return 0, h.exitErr()
	default:
	}
	if err := h.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("%s: sigint: %w", HomeAgentBinary, err)
	}
	select {
	case <-h.done:
		return time.Since(start), h.exitErr()
	case <-time.After(timeout):
	}
	_ = h.cmd.Process.Kill() // it may have exited in between; done tells
	<-h.done
	return time.Since(start), fmt.Errorf("%s did not exit within %v of SIGINT; killed", HomeAgentBinary, timeout)
}

func (h *homeAgent) exitErr() error {
	if h.err != nil {
		return fmt.Errorf("%s exited: %w%s", HomeAgentBinary, h.err, h.log.tailText())
	}
	return nil
}

// get fetches path from the daemon's HTTP endpoints inside its namespace.
func (h *homeAgent) get(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+haListen+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.ns.HTTPClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", path, resp.Status)
	}
	return body, nil
}

// haMetrics are the Prometheus figures the bench reads.
type haMetrics struct {
	bindings      int
	latencySum    float64 // mip6_registration_latency_seconds: BU received → BA sent
	latencyCount  float64
	processingSum float64 // mip6_binding_update_processing_seconds: the BU's processing, data plane included
	processingCnt float64
	updatesByCode map[string]float64 // mip6_binding_updates_total by status label
}

func (h *homeAgent) metrics(ctx context.Context) (haMetrics, error) {
	body, err := h.get(ctx, "/metrics")
	if err != nil {
		return haMetrics{}, fmt.Errorf("home agent metrics: %w", err)
	}
	return parseMetrics(body), nil
}

func parseMetrics(body []byte) haMetrics {
	m := haMetrics{updatesByCode: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "mip6_bindings":
			m.bindings = int(v)
		case name == "mip6_registration_latency_seconds_sum":
			m.latencySum = v
		case name == "mip6_registration_latency_seconds_count":
			m.latencyCount = v
		case name == "mip6_binding_update_processing_seconds_sum":
			m.processingSum = v
		case name == "mip6_binding_update_processing_seconds_count":
			m.processingCnt = v
		case strings.HasPrefix(name, `mip6_binding_updates_total{status="`):
			m.updatesByCode[strings.TrimSuffix(strings.TrimPrefix(name, `mip6_binding_updates_total{status="`), `"}`)] = v
		}
	}
	return m
}

// haLog takes the daemon's output: it counts the lines, keeps the last
// few for error messages, remembers the data-plane driver it started and
// the reason of its first refusal (both logged at INFO), and passes the
// lines on to narrate, prefixed "[ha] ".
type haLog struct {
	mu       sync.Mutex
	narrate  io.Writer
	partial  []byte
	lines    int
	tail     []string
	driver   string
	refusal  string // the reason of the first refusal
	refusals int
	warnings int
}

// logTail is how many lines error messages quote; narrateMax how many
// lines are passed on.
const (
	logTail    = 20
	narrateMax = 40
)

func newHALog(narrate io.Writer) *haLog { return &haLog{narrate: narrate} }

func (l *haLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(b), nil
}

func (l *haLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
}

func (l *haLog) line(s string) {
	l.lines++
	l.tail = append(l.tail, s)
	if len(l.tail) > logTail {
		l.tail = l.tail[1:]
	}
	if strings.Contains(s, "level=WARN") || strings.Contains(s, "level=ERROR") {
		l.warnings++
	}
	if l.driver == "" && strings.Contains(s, "start the data plane") {
		l.driver = logValue(s, "driver")
	}
	refused := strings.Contains(s, "binding update refused")
	if refused {
		l.refusals++
		if l.refusal == "" {
			l.refusal = logValue(s, "reason")
		}
	}
	switch {
	case l.narrate == nil || l.lines > narrateMax+1 || (refused && l.refusals > 1): // the first refusal tells the story
	case l.lines == narrateMax+1:
		_, _ = fmt.Fprintf(l.narrate, "[ha] (further output not shown)\n")
	default:
		_, _ = fmt.Fprintf(l.narrate, "[ha] %s\n", s)
	}
}

// logValue returns the value of key in a slog text line, unquoted.
func logValue(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	rest := line[i+len(key)+2:]
	if strings.HasPrefix(rest, `"`) {
		if v, err := strconv.QuotedPrefix(rest); err == nil {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
	}
	v, _, _ := strings.Cut(rest, " ")
	return v
}

type logFacts struct {
	lines, warnings int
	driver, refusal string
}

func (l *haLog) facts() logFacts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logFacts{lines: l.lines, warnings: l.warnings, driver: l.driver, refusal: l.refusal}
}

// tailText is the last lines of output, for an error message.
func (l *haLog) tailText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tail) == 0 {
		return ""
	}
	return "; its last output:\n  " + strings.Join(l.tail, "\n  ")
}
