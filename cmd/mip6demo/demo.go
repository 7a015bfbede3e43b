package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Bounds of the steps; a healthy run needs a small fraction of each.
const (
	registerWithin = 5 * time.Second
	pingTimeout    = 2 * time.Second
	shutdownWithin = 30 * time.Second
)

// The handover: pings every handoverInterval, link 1 goes down after
// handoverAfter of them; the last mustRecover must all be answered.
const (
	handoverInterval = 10 * time.Millisecond
	handoverPings    = 300
	handoverAfter    = 100
	mustRecover      = 50
)

// demo is one run: the lab and where the story is told.
type demo struct {
	cfg    config
	out    io.Writer
	l      *lab.Lab
	ha, mn *lab.Process
	step   int
	outErr error // the first error writing to out
}

const steps = 7

// run tells the whole story; the lab is removed whatever happens.
func run(ctx context.Context, cfg config, out io.Writer) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces (run: sudo ./demo.sh)")
	}
	for _, bin := range []string{lab.HomeAgentBinary, lab.MobileNodeBinary} {
		if _, err := os.Stat(filepath.Join(cfg.binDir, bin)); err != nil {
			return fmt.Errorf("%s not found in --bin %s (demo.sh builds it): %w", bin, cfg.binDir, err)
		}
	}
	d := &demo{cfg: cfg, out: out}
	l, err := lab.New(ctx, lab.Options{Name: "m6demo", BinDir: cfg.binDir, Log: newLogWriter(out)})
	if err != nil {
		return err
	}
	d.l = l
	defer func() {
		if err != nil {
			d.printf("\n!!! %v\n!!! stopping the daemons and deleting the namespaces\n", err)
			err = errors.Join(err, l.Close())
		}
		if d.outErr != nil {
			err = errors.Join(err, fmt.Errorf("writing the story: %w", d.outErr))
		}
	}()
	for _, phase := range []func(context.Context) error{
		d.topology, d.start, d.registration, d.tunnel, d.handover, d.metrics,
	} {
		if err := phase(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted in step %d/%d: %w", d.step, steps, context.Cause(ctx))
			}
			return err
		}
	}
	if cfg.keep {
		d.keepRunning(ctx)
	}
	// Shut down even after Ctrl-C during --keep: that is what it waits for.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWithin)
	defer cancel()
	return d.shutdown(shutdownCtx)
}

func (d *demo) heading(title string) {
	d.step++
	d.banner(fmt.Sprintf("%d/%d  %s", d.step, steps, title))
}

func (d *demo) banner(title string) {
	line := "=== " + title + " "
	d.printf("\n%s%s\n\n", line, strings.Repeat("=", max(3, 78-len(line))))
}

func (d *demo) say(format string, args ...any) {
	if format == "" {
		d.printf("\n")
		return
	}
	d.printf("    "+format+"\n", args...)
}

// printf writes to the story's output; the first write error is kept in
// outErr, and nothing more is written after it.
func (d *demo) printf(format string, args ...any) {
	if d.outErr == nil {
		_, d.outErr = fmt.Fprintf(d.out, format, args...)
	}
}

// topology is step 1: the picture, and the routes as iproute2 shows them.
func (d *demo) topology(ctx context.Context) error {
	d.heading("The topology: three network namespaces, two access links")
	d.printf("%s", strings.TrimPrefix(picture, "\n"))
	d.say("")
	d.say("namespaces: CN %s, HA %s, MN %s", d.l.CN.Name(), d.l.HA.Name(), d.l.MN.Name())
	d.say("all addresses without duplicate address detection (nodad)")
	return d.ipShow(ctx, d.l.MN, "the mobile node's routes", "-6", "route", "show")
}

// start is step 2: both daemons, their startup logs prefixed [ha] / [mn].
func (d *demo) start(ctx context.Context) error {
	d.heading("Starting the Home Agent and the mobile node")
	d.say("ip netns exec %s env NSM_HOME_PREFIX=%s NSM_HOME_AGENT_ADDRESS=%s %s",
		d.l.HA.Name(), lab.HomePrefix, lab.HAAddr, lab.HomeAgentBinary)
	var err error
	if d.ha, err = d.l.StartHomeAgent(ctx); err != nil {
		return err
	}
	d.say("home agent up (pid %d), HTTP on %s inside %s", d.ha.Pid(), lab.HAListen, d.l.HA.Name())
	d.say("")
	d.say("ip netns exec %s env NSM_HOME_PREFIX=%s NSM_HOME_AGENT_ADDRESS=%s NSM_HOME_ADDRESS=%s NSM_ACCESS_INTERFACES=%s,%s %s",
		d.l.MN.Name(), lab.HomePrefix, lab.HAAddr, lab.HoA, lab.MNLink1, lab.MNLink2, lab.MobileNodeBinary)
	if d.mn, err = d.l.StartMobileNode(ctx); err != nil {
		return err
	}
	d.say("mobile node up (pid %d), HTTP on %s inside %s", d.mn.Pid(), lab.MNListen, d.l.MN.Name())
	return nil
}

// registration is step 3: the mobile node's view and the Home Agent's.
func (d *demo) registration(ctx context.Context) error {
	d.heading("Registration: Binding Update from the care-of address on m1")
	start := time.Now()
	if err := d.waitRegistered(ctx, lab.CoA1); err != nil {
		return err
	}
	d.say("registered from care-of address %s, %v after the mobile node came up", lab.CoA1, time.Since(start).Round(time.Millisecond))
	if err := d.showStatus(ctx); err != nil {
		return err
	}
	if err := d.showBindings(ctx); err != nil {
		return err
	}
	if err := d.ipShow(ctx, d.l.HA, "the Home Agent's routes, protocol 246",
		"-6", "route", "show", "table", "all", "proto", "246"); err != nil {
		return err
	}
	d.say("  = the home address is tunnelled to the care-of address (SRv6 encap.red: plain IPv6-in-IPv6),")
	d.say("    packets tunnelled to the HA address are decapsulated (End.DT6) and forwarded (table main)")
	if err := d.ipShow(ctx, d.l.MN, "the mobile node's routes, protocol 246",
		"-6", "route", "show", "table", "all", "proto", "246"); err != nil {
		return err
	}
	d.say("  = traffic from the home address goes into the reverse tunnel to the HA (a fib rule picks the table),")
	d.say("    the HA is pinned behind the current router, tunnelled packets to the CoA are decapsulated (End.DT6)")
	return nil
}

// tunnel is step 4: pings CN -> HoA, and the packets on m1 proving the tunnel.
func (d *demo) tunnel(ctx context.Context) error {
	d.heading("A ping from the CN to the home address, through the tunnel")
	d.say("from %s (%s) to %s, 5 requests 200 ms apart:", lab.CNAddr, d.l.CN.Name(), lab.HoA)
	series, err := d.l.CN.PingEvery(ctx, netip.Addr{}, lab.HoA, 200*time.Millisecond, 5)
	if err != nil {
		return err
	}
	for _, e := range series {
		if e.Replied {
			d.say("  reply from %s: seq=%d time=%.3f ms", lab.HoA, e.Seq, ms(e.RTT))
		} else {
			d.say("  seq=%d: no reply", e.Seq)
		}
	}
	if lost := series.Lost(); lost > 0 {
		return fmt.Errorf("ping to the home address: %d of %d lost", lost, len(series))
	}
	d.say("")
	d.say("the same ping once more, with a packet capture (AF_PACKET) on %s in %s:", lab.MNLink1, d.l.MN.Name())
	capture, err := d.l.MN.Capture(lab.MNLink1)
	if err != nil {
		return err
	}
	defer func() { _ = capture.Close() }()
	if _, err := d.l.Ping(ctx, d.l.CN, lab.HoA, pingTimeout); err != nil {
		return err
	}
	packets, err := capture.Packets()
	if err != nil {
		return err
	}
	return d.showTunnelled(packets)
}

// showTunnelled prints the tunnelled echo request and reply; both must be there.
func (d *demo) showTunnelled(packets []netns.Packet) error {
	var request, reply bool
	for _, p := range packets {
		inner, err := p.Inner()
		if err != nil || inner.NextHeader != netns.NextHeaderICMPv6 || len(inner.Payload) < 8 {
			continue
		}
		kind := icmpName(inner.Payload[0])
		dir := "received on m1 (HA -> MN)"
		if p.Outgoing {
			dir = "sent on m1 (MN -> HA)"
		}
		d.say("")
		d.say("  %s, %d bytes:", dir, 40+len(p.Payload))
		d.say("    outer IPv6  %-15s -> %-15s  next header %d (IPv6-in-IPv6, RFC 2473)", p.Src, p.Dst, p.NextHeader)
		d.say("    inner IPv6  %-15s -> %-15s  next header %d (ICMPv6 %s, id %d seq %d)", inner.Src, inner.Dst,
			inner.NextHeader, kind, be16(inner.Payload[4:]), be16(inner.Payload[6:]))
		request = request || (!p.Outgoing && inner.Payload[0] == 128 && inner.Dst == lab.HoA)
		reply = reply || (p.Outgoing && inner.Payload[0] == 129 && inner.Src == lab.HoA)
	}
	if !request || !reply {
		return fmt.Errorf("capture on %s: tunnelled echo request seen %v, reply seen %v (%d packets)",
			lab.MNLink1, request, reply, len(packets))
	}
	d.say("")
	d.say("both directions are IPv6-in-IPv6 between the care-of address and the Home Agent address;")
	d.say("the home address appears only in the inner header.")
	return nil
}

// handover is step 5: m1 goes down under a 10 ms ping.
func (d *demo) handover(ctx context.Context) error {
	d.heading("Handover: access link 1 goes down while the CN pings every 10 ms")
	d.say("%d echo requests from the CN to %s, %v apart; after %d of them: ip -n %s link set %s down",
		handoverPings, lab.HoA, handoverInterval, handoverAfter, d.l.MN.Name(), lab.MNLink1)
	type result struct {
		series netns.Series
		err    error
	}
	done := make(chan result, 1)
	go func() {
		s, err := d.l.CN.PingEvery(ctx, netip.Addr{}, lab.HoA, handoverInterval, handoverPings)
		done <- result{s, err}
	}()
	var regErr error
	var down time.Time
	var took time.Duration
	select {
	case <-time.After(handoverAfter * handoverInterval):
		down = time.Now()
		if regErr = d.l.SetLink(d.l.MN, lab.MNLink1, false); regErr == nil {
			regErr = d.waitRegistered(ctx, lab.CoA2)
			took = time.Since(down)
		}
	case <-ctx.Done():
		regErr = ctx.Err()
	}
	r := <-done
	if err := errors.Join(regErr, r.err); err != nil {
		return err
	}
	d.say("")
	d.say("re-registered from %s %.1f ms after the link went down (seen by polling /status every 10 ms)", lab.CoA2, ms(took))
	if err := d.reportSeries(r.series, down); err != nil {
		return err
	}
	if err := d.showBindings(ctx); err != nil {
		return err
	}
	return d.ipShow(ctx, d.l.HA, "the Home Agent's tunnel route now", "-6", "route", "show", "table", "all", "proto", "246")
}

// reportSeries prints what the handover cost the ping.
func (d *demo) reportSeries(s netns.Series, down time.Time) error {
	var lost []string
	for _, e := range s {
		if !e.Replied {
			lost = append(lost, fmt.Sprintf("#%d (sent %+.1f ms)", e.Seq, ms(e.Sent.Sub(down))))
		}
	}
	lo, mean, hi := s.RTTs()
	d.say("ping: %d sent, %d answered, %d lost (%.1f%%); rtt min/avg/max %.3f/%.3f/%.3f ms",
		len(s), len(s)-len(lost), len(lost), 100*float64(len(lost))/float64(len(s)), ms(lo), ms(mean), ms(hi))
	if len(lost) == 0 {
		d.say("outage: none measurable at %v spacing", handoverInterval)
	} else {
		d.say("outage: %.0f ms (longest run of unanswered requests); lost: %s", ms(s.Outage()), strings.Join(firstN(lost, 10), ", "))
	}
	for _, e := range s[len(s)-mustRecover:] {
		if !e.Replied {
			return fmt.Errorf("the ping did not recover after the handover: request #%d unanswered", e.Seq)
		}
	}
	return nil
}

// metrics is step 6: a few of the Home Agent's Prometheus metrics.
func (d *demo) metrics(ctx context.Context) error {
	d.heading("The Home Agent's metrics (GET /metrics, excerpt)")
	text, err := d.l.Metrics(ctx)
	if err != nil {
		return err
	}
	shown := 0
	for line := range strings.Lines(text) {
		name := strings.TrimRight(line, "\n")
		if strings.HasPrefix(name, "#") || strings.Contains(name, "_bucket") {
			continue
		}
		for _, prefix := range []string{"mip6_bindings", "mip6_binding_updates_total", "mip6_registration_latency_seconds"} {
			if strings.HasPrefix(name, prefix+" ") || strings.HasPrefix(name, prefix+"{") || strings.HasPrefix(name, prefix+"_") {
				d.say("%s", name)
				shown++
			}
		}
	}
	if shown == 0 {
		return errors.New("metrics: none of mip6_bindings, mip6_binding_updates_total, mip6_registration_latency_seconds found")
	}
	if sum, count, ok := histogram(text, "mip6_registration_latency_seconds"); ok && count > 0 {
		d.say("")
		d.say("mean registration latency at the Home Agent (BU in to BA out): %.3f ms over %.0f Binding Updates", 1e3*sum/count, count)
	}
	return nil
}

// keepRunning prints how to look around and waits for Ctrl-C.
func (d *demo) keepRunning(ctx context.Context) {
	d.banner("--keep: the lab stays up; look around, then press Ctrl-C")
	cn, ha, mn := d.l.CN.Name(), d.l.HA.Name(), d.l.MN.Name()
	for _, c := range [][2]string{
		{fmt.Sprintf("ip netns exec %s ping %s", cn, lab.HoA), "needs iputils-ping"},
		{fmt.Sprintf("ip -n %s -6 route show table all", ha), ""},
		{fmt.Sprintf("ip -n %s -6 rule", mn), ""},
		{fmt.Sprintf("ip netns exec %s nft list ruleset", ha), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/bindings", ha, lab.HAListen), "needs curl"},
		{fmt.Sprintf("ip netns exec %s curl -s %s/metrics", ha, lab.HAListen), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/status", mn, lab.MNListen), "the mobile node"},
		{fmt.Sprintf("ip netns exec %s tcpdump -ni %s", mn, lab.MNLink2), "needs tcpdump"},
	} {
		if c[1] != "" {
			c[1] = "# " + c[1]
		}
		d.say("%-64s %s", c[0], c[1])
	}
	d.say("")
	d.say("back to access link 1 (taking it down flushed its address and route):")
	d.say("ip -n %s link set %s up && ip -n %s addr add %s/64 dev %s nodad && ip -n %s route add default via %s metric %d",
		mn, lab.MNLink1, mn, lab.CoA1, lab.MNLink1, mn, lab.Router1, lab.MetricLink1)
	<-ctx.Done()
	d.printf("\n")
}

// shutdown is step 7: stop both, prove they cleaned up, delete the lab.
func (d *demo) shutdown(ctx context.Context) error {
	d.heading("Shutdown: SIGINT to both daemons, then delete the namespaces")
	names := []string{d.l.CN.Name(), d.l.HA.Name(), d.l.MN.Name()}
	d.say("SIGINT to %s (pid %d): it deregisters (Binding Update with lifetime 0) and removes its state", lab.MobileNodeBinary, d.mn.Pid())
	if err := d.mn.Stop(); err != nil {
		return err
	}
	bindings, err := d.l.Bindings(ctx)
	if err != nil {
		return err
	}
	d.say("mobile node exited with status 0; the Home Agent now holds %d binding(s)", len(bindings))
	if len(bindings) != 0 {
		return fmt.Errorf("the mobile node did not deregister: %d binding(s) left", len(bindings))
	}
	d.say("SIGINT to %s (pid %d)", lab.HomeAgentBinary, d.ha.Pid())
	if err := d.ha.Stop(); err != nil {
		return err
	}
	d.say("home agent exited with status 0")
	for _, ns := range []*netns.NS{d.l.HA, d.l.MN} {
		state, err := d.l.KernelState(ns)
		if err != nil {
			return err
		}
		d.say("left in %s: %s", ns.Name(), state)
		if !state.Clean() {
			return fmt.Errorf("%s not cleaned up: %s", ns.Name(), state)
		}
	}
	fwd, err := d.l.HA.ReadSysctl("net.ipv6.conf.all.forwarding")
	if err != nil {
		return err
	}
	d.say("net.ipv6.conf.all.forwarding in %s: %s (restored)", d.l.HA.Name(), fwd)
	if err := d.l.Close(); err != nil {
		return err
	}
	left, err := listed(ctx, names)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("namespaces still listed: %v", left)
	}
	d.say("namespaces deleted; `ip netns list` shows none of %s", strings.Join(names, ", "))
	d.say("")
	d.say("demo completed")
	return nil
}

// waitRegistered waits up to registerWithin for a registration from coa.
func (d *demo) waitRegistered(ctx context.Context, coa netip.Addr) error {
	ctx, cancel := context.WithTimeout(ctx, registerWithin)
	defer cancel()
	return d.l.WaitRegistered(ctx, coa)
}
