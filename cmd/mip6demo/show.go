package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/lab"
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

// showBindings prints the binding cache of the Home Agent called name in
// ns (GET /bindings).
func showBindings(ctx context.Context, s *story, name string, r *lab.Runner, ns *netns.NS) error {
	body, err := r.HTTPGet(ctx, ns, "/bindings")
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "    ", "  "); err != nil {
		return fmt.Errorf("/bindings: %w", err)
	}
	s.say("")
	s.say("%s (GET /bindings):", name)
	s.printf("    %s\n", strings.TrimSpace(pretty.String()))
	var bindings []homeagent.Binding
	if err := json.Unmarshal(body, &bindings); err != nil {
		return fmt.Errorf("/bindings: %w", err)
	}
	if len(bindings) > 0 {
		s.say("(flags %#04x = %s; lifetime in nanoseconds)", uint16(bindings[0].Flags), flagNames(bindings[0].Flags))
	}
	return nil
}

// ipShow prints the output of `ip -n <ns> args...`.
func ipShow(ctx context.Context, s *story, ns *netns.NS, what string, args ...string) error {
	argv := append([]string{"-n", ns.Name()}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput() //nolint:gosec // G204: fixed ip(8) subcommands on the lab's own namespaces
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(argv, " "), err, out)
	}
	s.say("")
	s.say("%s (ip %s):", what, strings.Join(argv, " "))
	for line := range strings.Lines(string(out)) {
		s.say("  %s", strings.TrimRight(line, "\n"))
	}
	return nil
}

// showTunnelled prints the tunnelled echo requests and replies captured
// on the mobile node's link; both must be there.
func showTunnelled(s *story, packets []netns.Packet, link string, hoa netip.Addr) error {
	var request, reply bool
	for _, p := range packets {
		inner, err := p.Inner()
		if err != nil || inner.NextHeader != netns.NextHeaderICMPv6 || len(inner.Payload) < 8 {
			continue
		}
		kind := icmpName(inner.Payload[0])
		dir := "received on " + link + " (HA -> MN)"
		if p.Outgoing {
			dir = "sent on " + link + " (MN -> HA)"
		}
		s.say("")
		s.say("  %s, %d bytes:", dir, 40+len(p.Payload))
		s.say("    outer IPv6  %-15s -> %-15s  next header %d (IPv6-in-IPv6, RFC 2473)", p.Src, p.Dst, p.NextHeader)
		s.say("    inner IPv6  %-15s -> %-15s  next header %d (ICMPv6 %s, id %d seq %d)", inner.Src, inner.Dst,
			inner.NextHeader, kind, be16(inner.Payload[4:]), be16(inner.Payload[6:]))
		request = request || (!p.Outgoing && inner.Payload[0] == 128 && inner.Dst == hoa)
		reply = reply || (p.Outgoing && inner.Payload[0] == 129 && inner.Src == hoa)
	}
	if !request || !reply {
		return fmt.Errorf("capture on %s: tunnelled echo request seen %v, reply seen %v (%d packets)",
			link, request, reply, len(packets))
	}
	s.say("")
	s.say("both directions are IPv6-in-IPv6 between the care-of address and the Home Agent address;")
	s.say("the home address appears only in the inner header.")
	return nil
}

// showPings prints a short ping series; every request must be answered.
func showPings(s *story, series netns.Series, dst netip.Addr) error {
	for _, e := range series {
		if e.Replied {
			s.say("  reply from %s: seq=%d time=%.3f ms", dst, e.Seq, ms(e.RTT))
		} else {
			s.say("  seq=%d: no reply", e.Seq)
		}
	}
	if lost := series.Lost(); lost > 0 {
		return fmt.Errorf("ping to the home address %s: %d of %d lost", dst, lost, len(series))
	}
	return nil
}

// reportSeries prints what a handover at t0 cost the ping; the last
// mustRecover requests must all have been answered.
func reportSeries(s *story, series netns.Series, t0 time.Time) error {
	var lost []string
	for _, e := range series {
		if !e.Replied {
			lost = append(lost, fmt.Sprintf("#%d (sent %+.1f ms)", e.Seq, ms(e.Sent.Sub(t0))))
		}
	}
	lo, mean, hi := series.RTTs()
	s.say("ping: %d sent, %d answered, %d lost (%.1f%%); rtt min/avg/max %.3f/%.3f/%.3f ms",
		len(series), len(series)-len(lost), len(lost), 100*float64(len(lost))/float64(len(series)), ms(lo), ms(mean), ms(hi))
	if len(lost) == 0 {
		s.say("outage: none measurable at %v spacing", handoverInterval)
	} else {
		s.say("outage: %.0f ms (longest run of unanswered requests); lost: %s", ms(series.Outage()), strings.Join(firstN(lost, 10), ", "))
	}
	for _, e := range series[max(0, len(series)-mustRecover):] {
		if !e.Replied {
			return fmt.Errorf("the ping did not recover after the handover: request #%d unanswered", e.Seq)
		}
	}
	return nil
}

// showMetrics prints the samples of the named metrics from Prometheus
// text (not the histogram buckets), then the mean registration latency.
func showMetrics(s *story, text string, names ...string) error {
	shown := 0
	for line := range strings.Lines(text) {
		sample := strings.TrimRight(line, "\n")
		if strings.HasPrefix(sample, "#") || strings.Contains(sample, "_bucket") {
			continue
		}
		for _, name := range names {
			if strings.HasPrefix(sample, name+" ") || strings.HasPrefix(sample, name+"{") || strings.HasPrefix(sample, name+"_") {
				s.say("%s", sample)
				shown++
			}
		}
	}
	if shown == 0 {
		return fmt.Errorf("metrics: none of %s found", strings.Join(names, ", "))
	}
	if sum, count, ok := histogram(text, "mip6_registration_latency_seconds"); ok && count > 0 {
		s.say("")
		s.say("mean registration latency at the Home Agent (BU in to BA out): %.3f ms over %.0f Binding Updates", 1e3*sum/count, count)
	}
	return nil
}

// interrupted names the step a Ctrl-C stopped; other errors pass as they are.
func interrupted(ctx context.Context, s *story, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted in step %d/%d: %w", s.step, s.steps, context.Cause(ctx))
	}
	return err
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

// gauge finds the value of an unlabelled sample called name in Prometheus text.
func gauge(text, name string) (float64, bool) {
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == name {
			var v float64
			_, err := fmt.Sscan(f[1], &v)
			return v, err == nil
		}
	}
	return 0, false
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
// "[ha] 15:04:05.123 INFO msg=...". Unless sdkLines is set, it drops the
// lines the NSM sdk logs inside the daemons on its own ("[mn-1] Nov 21
// 21:36:02.932 [ERRO] ...", "[ha-1] 2026/11/21 21:35:58 [WARN] ...").
type logWriter struct {
	w        io.Writer
	sdkLines bool
}

var (
	slogTime = regexp.MustCompile(`^(\[[\w-]+\] )time=\S*T(\d\d:\d\d:\d\d\.\d{3})\S* level=(\w+) `)
	sdkLine  = regexp.MustCompile(`^\[[\w-]+\] (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d|[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d\.\d+) \[[A-Z]+\] `)
)

func newLogWriter(w io.Writer, sdkLines bool) io.Writer { return logWriter{w, sdkLines} }

// Write gets one whole line per call from the lab.
func (lw logWriter) Write(p []byte) (int, error) {
	if !lw.sdkLines && sdkLine.Match(p) {
		return len(p), nil
	}
	_, err := lw.w.Write(append([]byte("    "), slogTime.ReplaceAll(p, []byte("$1$2 $3 "))...))
	return len(p), err
}
