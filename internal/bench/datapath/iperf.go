package datapath

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Iperf3Binary is the iperf3 executable, looked up in PATH (Debian:
// apt-get install iperf3).
const Iperf3Binary = "iperf3"

// ErrNoIperf3 is returned by Run when iperf3 is not installed.
var ErrNoIperf3 = errors.New("iperf3 not found in PATH (Debian: apt-get install -y iperf3)")

// How long a client keeps trying to reach a server that is starting, and
// how long a run may take beyond its duration.
const (
	connectWithin = 5 * time.Second
	connectRetry  = 50 * time.Millisecond
	runSlack      = 15 * time.Second
)

// iperfServer is `iperf3 -s` bound to one address in a namespace.
type iperfServer struct {
	addr netip.Addr
	port int
	cmd  *exec.Cmd
	out  syncBuffer // its output, for errors
}

// syncBuffer is a bytes.Buffer that exec's copying goroutine may write
// while String reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startIperfServer starts an iperf3 server in ns bound to addr:port. It
// is ready once a client gets through (runIperf retries). The caller
// must stop it.
func startIperfServer(ns *netns.NS, addr netip.Addr, port int) (*iperfServer, error) {
	s := &iperfServer{addr: addr, port: port}
	s.cmd = ns.Command(Iperf3Binary, "-s", "-B", addr.String(), "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	// If the benchmark dies, so does the server; the namespace can go.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start iperf3 server on [%s]:%d in %s: %w", addr, port, ns.Name(), err)
	}
	return s, nil
}

// stop kills the server (it has nothing to save) and reaps it.
func (s *iperfServer) stop() {
	_ = s.cmd.Process.Kill() // it may have died already; Wait reaps it either way
	_ = s.cmd.Wait()         // "signal: killed" is how it ends
}

// iperfRun is what one iperf3 TCP run measured.
type iperfRun struct {
	Gbps        float64 // received goodput
	Retransmits int     // TCP retransmissions of the sender
	// CPU utilisation of the sending and receiving iperf3 processes
	// (user + system, percent of one core).
	SenderCPU, ReceiverCPU float64
	Version                string
}

// iperfJSON is the part of `iperf3 -J` output read here.
type iperfJSON struct {
	Start struct {
		Version string `json:"version"`
	} `json:"start"`
	End struct {
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		CPU struct {
			HostTotal   float64 `json:"host_total"`
			RemoteTotal float64 `json:"remote_total"`
		} `json:"cpu_utilization_percent"`
	} `json:"end"`
	Error string `json:"error"`
}

// runIperf runs an iperf3 TCP client in ns against server for seconds;
// reverse (-R) makes the server send. It retries while the server is not
// yet listening.
func runIperf(ctx context.Context, ns *netns.NS, server *iperfServer, seconds int, reverse bool) (iperfRun, error) {
	args := []string{"-c", server.addr.String(), "-p", strconv.Itoa(server.port), "-t", strconv.Itoa(seconds), "-J"}
	if reverse {
		args = append(args, "-R")
	}
	deadline := time.Now().Add(connectWithin)
	for {
		run, out, err := iperfOnce(ctx, ns, args, seconds, reverse)
		if err == nil || !strings.Contains(out, "unable to connect") || time.Now().After(deadline) {
			if err != nil {
				err = fmt.Errorf("iperf3 %s in %s: %w (server said: %s)", strings.Join(args, " "), ns.Name(), err,
					strings.TrimSpace(server.out.String()))
			}
			return run, err
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(connectRetry):
		}
	}
}

// iperfOnce runs the client once and parses its JSON; out is the error
// iperf3 reported, if any. reverse says the server was the sender.
func iperfOnce(ctx context.Context, ns *netns.NS, args []string, seconds int, reverse bool) (iperfRun, string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+runSlack)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name(), Iperf3Binary}, args...)...) //nolint:gosec // G204: fixed binary, arguments built here
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var j iperfJSON
	if err := json.Unmarshal(stdout.Bytes(), &j); err != nil {
		return iperfRun{}, stderr.String(), errors.Join(runErr, fmt.Errorf("parse iperf3 -J output: %w: %s%s", err, stdout.Bytes(), stderr.Bytes()))
	}
	if j.Error != "" {
		return iperfRun{}, j.Error, errors.Join(runErr, errors.New(j.Error))
	}
	if runErr != nil {
		return iperfRun{}, stderr.String(), runErr
	}
	r := iperfRun{
		Gbps:        j.End.SumReceived.BitsPerSecond / 1e9,
		Retransmits: j.End.SumSent.Retransmits,
		SenderCPU:   j.End.CPU.HostTotal,
		ReceiverCPU: j.End.CPU.RemoteTotal,
		Version:     j.Start.Version,
	}
	if reverse {
		r.SenderCPU, r.ReceiverCPU = r.ReceiverCPU, r.SenderCPU
	}
	return r, "", nil
}
