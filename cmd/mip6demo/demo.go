package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
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

// demo is one run of the standalone story: the lab and where it is told.
type demo struct {
	story
	cfg    config
	l      *lab.Lab
	ha, mn *lab.Process
}

// standaloneSteps is the number of steps of the standalone story.
const standaloneSteps = 7

// runStandalone tells the standalone story (internal/lab: two access
// links, no NSM); the lab is removed whatever happens.
func runStandalone(ctx context.Context, cfg config, out io.Writer) (err error) {
	d := &demo{story: story{out: out, steps: standaloneSteps}, cfg: cfg}
	l, err := lab.New(ctx, lab.Options{Name: "m6demo", BinDir: cfg.binDir, Log: newLogWriter(out, true)})
	if err != nil {
		return err
	}
	d.l = l
	defer func() {
		if err != nil {
			d.failed(err)
			err = errors.Join(err, l.Close())
		}
		err = errors.Join(err, d.writeErr())
	}()
	phases := []func(context.Context) error{
		d.topology, d.start, d.registration, d.tunnel, d.handover, d.metrics,
	}
	return d.tell(ctx, phases, cfg.keep, d.keepRunning, d.shutdown)
}

// topology is step 1: the picture, and the routes as iproute2 shows them.
func (d *demo) topology(ctx context.Context) error {
	d.heading("The topology: three network namespaces, two access links")
	d.printf("%s", strings.TrimPrefix(picture, "\n"))
	d.say("")
	d.say("namespaces: CN %s, HA %s, MN %s", d.l.CN.Name(), d.l.HA.Name(), d.l.MN.Name())
	d.say("all addresses without duplicate address detection (nodad)")
	return ipShow(ctx, &d.story, d.l.MN, "the mobile node's routes", "-6", "route", "show")
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
	if err := showBindings(ctx, &d.story, "Home Agent", d.l.Runner, d.l.HA); err != nil {
		return err
	}
	if err := ipShow(ctx, &d.story, d.l.HA, "the Home Agent's routes, protocol 246",
		"-6", "route", "show", "table", "all", "proto", "246"); err != nil {
		return err
	}
	d.say("  = the home address is tunnelled to the care-of address (SRv6 encap.red: plain IPv6-in-IPv6),")
	d.say("    packets tunnelled to the HA address are decapsulated (End.DT6) and forwarded (table main)")
	if err := ipShow(ctx, &d.story, d.l.MN, "the mobile node's routes, protocol 246",
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
	if err := showPings(&d.story, series, lab.HoA); err != nil {
		return err
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
	return showTunnelled(&d.story, packets, lab.MNLink1, lab.HoA)
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
	if err := reportSeries(&d.story, r.series, down); err != nil {
		return err
	}
	if err := showBindings(ctx, &d.story, "Home Agent", d.l.Runner, d.l.HA); err != nil {
		return err
	}
	return ipShow(ctx, &d.story, d.l.HA, "the Home Agent's tunnel route now", "-6", "route", "show", "table", "all", "proto", "246")
}

// metrics is step 6: a few of the Home Agent's Prometheus metrics.
func (d *demo) metrics(ctx context.Context) error {
	d.heading("The Home Agent's metrics (GET /metrics, excerpt)")
	text, err := d.l.Metrics(ctx)
	if err != nil {
		return err
	}
	return showMetrics(&d.story, text, "mip6_bindings", "mip6_binding_updates_total", "mip6_registration_latency_seconds")
}

// keepRunning prints how to look around and waits for Ctrl-C.
func (d *demo) keepRunning(ctx context.Context) {
	d.banner("--keep: the lab stays up; look around, then press Ctrl-C")
	cn, ha, mn := d.l.CN.Name(), d.l.HA.Name(), d.l.MN.Name()
	d.commands([][2]string{
		{fmt.Sprintf("ip netns exec %s ping %s", cn, lab.HoA), "needs iputils-ping"},
		{fmt.Sprintf("ip -n %s -6 route show table all", ha), ""},
		{fmt.Sprintf("ip -n %s -6 rule", mn), ""},
		{fmt.Sprintf("ip netns exec %s nft list ruleset", ha), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/bindings", ha, lab.HAListen), "needs curl"},
		{fmt.Sprintf("ip netns exec %s curl -s %s/metrics", ha, lab.HAListen), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/status", mn, lab.MNListen), "the mobile node"},
		{fmt.Sprintf("ip netns exec %s tcpdump -ni %s", mn, lab.MNLink2), "needs tcpdump"},
	})
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
