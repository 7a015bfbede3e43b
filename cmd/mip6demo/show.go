package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

func (d *demo) showStatus(ctx context.Context) error {
	s, err := d.l.MobileStatus(ctx)
	if err != nil {
		return err
	}
	d.say("")
	d.say("mobile node (GET /status):  state %s, home address %s, care-of %s,", s.State, s.HomeAddress, s.CareOf)
	d.say("                            bound care-of %s, sequence %d, lifetime granted %v", s.BoundCareOf, s.Sequence, s.Granted)
	return nil
}

func (d *demo) showBindings(ctx context.Context) error {
	body, err := d.l.HTTPGet(ctx, d.l.HA, "/bindings")
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "    ", "  "); err != nil {
		return fmt.Errorf("/bindings: %w", err)
	}
	d.say("")
	d.say("Home Agent (GET /bindings):")
	d.printf("    %s\n", strings.TrimSpace(pretty.String()))
	var bindings []homeagent.Binding
	if err := json.Unmarshal(body, &bindings); err != nil {
		return fmt.Errorf("/bindings: %w", err)
	}
	if len(bindings) > 0 {
		d.say("(flags %#04x = %s; lifetime in nanoseconds)", uint16(bindings[0].Flags), flagNames(bindings[0].Flags))
	}
	return nil
}

// ipShow prints the output of `ip -n <ns> args...`.
func (d *demo) ipShow(ctx context.Context, ns *netns.NS, what string, args ...string) error {
	argv := append([]string{"-n", ns.Name()}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput() //nolint:gosec // G204: fixed ip(8) subcommands on the lab's own namespaces
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(argv, " "), err, out)
	}
	d.say("")
	d.say("%s (ip %s):", what, strings.Join(argv, " "))
	for line := range strings.Lines(string(out)) {
		d.say("  %s", strings.TrimRight(line, "\n"))
	}
	return nil
}

// listed returns those of names that `ip netns list` still shows.
func listed(ctx context.Context, names []string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %w: %s", err, out)
	}
	var left []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 && slices.Contains(names, f[0]) {
			left = append(left, f[0])
		}
	}
	return left, nil
}

// histogram finds <name>_sum and <name>_count in Prometheus text.
func histogram(text, name string) (sum, count float64, ok bool) {
	var haveSum, haveCount bool
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case name + "_sum":
			_, err := fmt.Sscan(f[1], &sum)
			haveSum = err == nil
		case name + "_count":
			_, err := fmt.Sscan(f[1], &count)
			haveCount = err == nil
		}
	}
	return sum, count, haveSum && haveCount
}

// flagNames spells out the Binding Update flags a home registration uses.
func flagNames(f mh.BUFlags) string {
	var names []string
	for _, flag := range []struct {
		bit  mh.BUFlags
		name string
	}{{mh.FlagA, "A (acknowledge)"}, {mh.FlagH, "H (home registration)"}, {mh.FlagL, "L"}, {mh.FlagK, "K"}} {
		if f&flag.bit != 0 {
			names = append(names, flag.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " + ")
}

func icmpName(t byte) string {
	switch t {
	case 128:
		return "echo request"
	case 129:
		return "echo reply"
	}
	return fmt.Sprintf("type %d", t)
}

func be16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("... (%d more)", len(s)-n))
}

// logWriter shortens the daemons' slog lines for reading along:
// "[ha] time=2026-01-02T15:04:05.123Z level=INFO msg=..." becomes
// "[ha] 15:04:05.123 INFO msg=...".
type logWriter struct{ w io.Writer }

var slogTime = regexp.MustCompile(`^(\[\w+\] )time=\S*T(\d\d:\d\d:\d\d\.\d{3})\S* level=(\w+) `)

func newLogWriter(w io.Writer) io.Writer { return logWriter{w} }

// Write gets one whole line per call from the lab.
func (lw logWriter) Write(p []byte) (int, error) {
	_, err := lw.w.Write(append([]byte("    "), slogTime.ReplaceAll(p, []byte("$1$2 $3 "))...))
	return len(p), err
}
