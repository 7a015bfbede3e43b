package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/netns"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// Bounds of the NSM story; a healthy run needs a small fraction of each.
const (
	nsmRegisterWithin = 20 * time.Second // Request, vWire, BU/BA
	nsmHealWithin     = 15 * time.Second // the heal onto the other Home Agent
	nsmLabWithin      = 30 * time.Second // namespaces, NSM domain(s)
)

// The NSM handover: pings every handoverInterval, the serving Home
// Agent's pod is deleted after nsmHandoverAfter of them; the last
// mustRecover must all be answered.
const (
	nsmHandoverPings = 600
	nsmHandoverAfter = 100
)

// nsmSteps is the number of steps of the NSM story.
const nsmSteps = 7

// nsmDemo is one run of the NSM story.
type nsmDemo struct {
	story
	cfg     config
	l       *nsmlab.Lab
	ha, mn  map[int]*lab.Process // by index, 1-based as in nsmlab
	serving int                  // the Home Agent holding mobile node 1's binding
	first   nsmlab.MobileStatus  // mobile node 1, as registered in step 2
	deleted *netns.NS            // the namespace of the Home Agent whose pod was deleted
	before  map[*netns.NS]netns.Snapshot
	fwd     map[*netns.NS]string // net.ipv6.conf.all.forwarding before the daemons
}

// runNSM tells the NSM story (internal/nsmlab); the lab is removed
// whatever happens.
func runNSM(ctx context.Context, cfg config, out io.Writer) (err error) {
	if !cfg.verbose {
		quietNSM()
	}
	d := &nsmDemo{story: story{out: out, steps: nsmSteps}, cfg: cfg,
		ha: map[int]*lab.Process{}, mn: map[int]*lab.Process{}}
	d.heading("The NSM domain, the SPIFFE trust domain and two Home Agent endpoints")
	d.printf("%s", strings.TrimPrefix(nsmPicture, "\n"))
	labCtx, cancel := context.WithTimeout(ctx, nsmLabWithin)
	d.l, err = nsmlab.New(labCtx, nsmlab.Options{
		Name: "m6demo", BinDir: cfg.binDir, Log: newLogWriter(out, cfg.verbose),
		HomeAgents: 2, MobileNodes: 2, Interdomain: cfg.interdomain,
	})
	cancel()
	if err != nil {
		return interrupted(ctx, &d.story, err)
	}
	defer func() {
		if r := recover(); r != nil {
			_ = d.l.Close() // a bug: leave nothing behind, then crash as usual
			panic(r)
		}
		if err != nil {
			d.failed(err)
			err = errors.Join(err, d.l.Close())
		}
		err = errors.Join(err, d.writeErr())
	}()
	phases := []func(context.Context) error{
		d.domainAndEndpoints, d.connect, d.tunnel, d.handover, d.secondIdentity, d.metrics,
	}
	return d.tell(ctx, phases, cfg.keep, d.keepRunning, d.shutdown)
}

// quietNSM silences the sdk's own logging in this process (the NSM
// domain's registry, nsmgr and forwarder), which would drown the story:
// its text logger, its logrus logger and the standard logger it falls back on.
func quietNSM() {
	logrus.SetOutput(io.Discard)
	stdlog.SetOutput(io.Discard)
}

// namespaces are the lab's namespaces still in place.
func (d *nsmDemo) namespaces() []*netns.NS {
	all := append(append([]*netns.NS{d.l.CN}, d.l.HA...), d.l.MN...)
	return slices.DeleteFunc(all, func(ns *netns.NS) bool { return ns == d.deleted })
}

// domainAndEndpoints is step 1 (after the picture): the NSM domain, the
// identities, then both Home Agents registered as endpoints.
func (d *nsmDemo) domainAndEndpoints(ctx context.Context) error {
	d.say("")
	d.showDomains()
	d.say("")
	d.say("trust domain spiffe://%s: a development CA in this process (internal/spiffe/devca) serves the", nsmlab.DevTrustDomain)
	d.say("  SPIFFE Workload API on one unix socket per workload, so the X.509-SVID path runs without SPIRE;")
	d.say("  the NSM domain itself is %s; everything speaks mTLS and signs each path segment (JWT)", d.l.Identities.ID("nsm"))
	if err := d.snapshot(); err != nil {
		return err
	}
	for i := 1; i <= 2; i++ {
		if err := d.startHomeAgent(ctx, i); err != nil {
			return err
		}
	}
	names, err := d.registeredEndpoints(ctx)
	if err != nil {
		return err
	}
	d.say("")
	d.say("the %s now lists for network service %s: %s", d.registryName(), nsmlab.ServiceName, strings.Join(names, ", "))
	for i := 1; i <= 2; i++ {
		if !slices.Contains(names, nsmlab.EndpointName(i)) {
			return fmt.Errorf("the %s does not list %s: %v", d.registryName(), nsmlab.EndpointName(i), names)
		}
	}
	return nil
}

func (d *nsmDemo) showDomains() {
	if d.l.Domain != nil {
		dom := d.l.Domain
		d.say("NSM domain %s, in this process: registry %s, nsmgr %s,", dom.Name, dom.RegistryURL, dom.NSMgrURL)
		d.say("  forwarder %s (ours: it makes each vWire as a veth pair between client and endpoint)", dom.ForwarderName)
		return
	}
	id := d.l.Interdomain
	d.say("floating interdomain, three NSM domains in this process:")
	d.say("  %s (the mobile nodes'):  nsmgr %s, forwarder %s, nsmgr-proxy, registry proxy", id.Client.Name, id.Client.NSMgrURL, id.Client.ForwarderName)
	d.say("  %s (the Home Agents'): nsmgr %s, forwarder %s, nsmgr-proxy, registry proxy", id.Endpoint.Name, id.Endpoint.NSMgrURL, id.Endpoint.ForwarderName)
	d.say("  %s (floating): only a registry, %s, holding network service %s", id.Floating.Name, id.Floating.RegistryURL, nsmlab.ServiceName)
	d.say("  path: client, nsmgr, forwarder, nsmgr-proxy, nsmgr-proxy, nsmgr, forwarder (makes the vWire), endpoint")
}

// snapshot records every namespace's routing state and forwarding sysctl
// before any daemon runs, for the check at shutdown.
func (d *nsmDemo) snapshot() error {
	d.before, d.fwd = map[*netns.NS]netns.Snapshot{}, map[*netns.NS]string{}
	for _, ns := range d.namespaces() {
		s, err := ns.Snapshot()
		if err != nil {
			return err
		}
		fwd, err := ns.ReadSysctl("net.ipv6.conf.all.forwarding")
		if err != nil {
			return err
		}
		d.before[ns], d.fwd[ns] = s, fwd
	}
	return nil
}

// registryName names the registry registeredEndpoints asks.
func (d *nsmDemo) registryName() string {
	if d.l.Interdomain != nil {
		return "floating registry " + d.l.Interdomain.Floating.Name
	}
	return "NSM registry"
}

func (d *nsmDemo) endpointName(i int) string {
	if d.l.Interdomain != nil {
		return nsmlab.EndpointName(i) + "@" + d.l.Interdomain.Floating.Name
	}
	return nsmlab.EndpointName(i)
}

func (d *nsmDemo) startHomeAgent(ctx context.Context, i int) error {
	d.say("")
	d.say("ip netns exec %s env NSM_MODE=nsm NSM_NAME=%s NSM_SERVICE_NAMES=%s NSM_CIDR_PREFIX=%s",
		d.l.HA[i-1].Name(), d.endpointName(i), d.l.Service(), nsmlab.VWirePrefix(i))
	d.say("    NSM_HOME_PREFIX=%s NSM_HOME_AGENT_ADDRESS=%s NSM_HOME_LINK=%s %s",
		nsmlab.HomePrefix, nsmlab.HAAddr(i), nsmlab.HAHomeLink, lab.HomeAgentBinary)
	p, err := d.l.StartHomeAgent(ctx, i)
	if err != nil {
		return err
	}
	d.ha[i] = p
	d.say("%s up (pid %d): SPIFFE ID %s, vWires from %s, Home Agent address %s",
		nsmlab.EndpointName(i), p.Pid(), d.l.Identities.ID(nsmlab.HomeAgentWorkload(i)), nsmlab.VWirePrefix(i), nsmlab.HAAddr(i))
	return nil
}

// connect is step 2: mobile node 1 requests the service and registers.
func (d *nsmDemo) connect(ctx context.Context) error {
	d.heading("The mobile node requests kernel://" + d.l.Service() + "/" + nsmlab.VWire)
	st, err := d.startMobileNode(ctx, 1)
	if err != nil {
		return err
	}
	d.first = st
	if d.serving, err = homeAgentIndex(st.Connection.HomeAgent); err != nil {
		return err
	}
	if err := d.showConnection(st, 1); err != nil {
		return err
	}
	r := st.Registration
	d.say("registration: state %s, sequence %d, lifetime granted %v; Request to accepted BA: %.1f ms",
		r.State, r.Sequence, r.Granted, ms(st.Connection.RequestToAcceptedBA))
	d.say("  (the NSM Request through nsmgr and forwarder, the vWire, then BU and BA over it)")
	if err := showBindings(ctx, &d.story, nsmlab.EndpointName(d.serving), d.l.Runner, d.l.HA[d.serving-1]); err != nil {
		return err
	}
	return ipShow(ctx, &d.story, d.l.MN[0], "the vWire in the mobile node's namespace", "-6", "addr", "show", "dev", nsmlab.VWire)
}

// startMobileNode starts mobile node i and waits for its registration.
func (d *nsmDemo) startMobileNode(ctx context.Context, i int) (nsmlab.MobileStatus, error) {
	d.say("ip netns exec %s env NSM_MODE=nsm NSM_NAME=%s NSM_NETWORK_SERVICES=kernel://%s/%s %s",
		d.l.MN[i-1].Name(), nsmlab.ClientName(i), d.l.Service(), nsmlab.VWire, lab.MobileNodeBinary)
	p, err := d.l.StartMobileNode(ctx, i)
	if err != nil {
		return nsmlab.MobileStatus{}, err
	}
	d.mn[i] = p
	d.say("%s up (pid %d), SPIFFE ID %s", nsmlab.ClientName(i), p.Pid(), d.l.Identities.ID(nsmlab.MobileNodeWorkload(i)))
	waitCtx, cancel := context.WithTimeout(ctx, nsmRegisterWithin)
	defer cancel()
	return d.l.WaitRegistered(waitCtx, i)
}

// showConnection prints what mobile node i got from its NSM connection,
// and checks the home address against the derivation from its identity.
func (d *nsmDemo) showConnection(st nsmlab.MobileStatus, i int) error {
	c := st.Connection
	ha, err := homeAgentIndex(c.HomeAgent)
	if err != nil {
		return err
	}
	id := d.l.Identities.ID(nsmlab.MobileNodeWorkload(i))
	derived, err := derivedHomeAddress(id, c.HomeAgent)
	if err != nil {
		return err
	}
	if derived != c.HomeAddress {
		return fmt.Errorf("%s got home address %v; derived from %s it is %v", nsmlab.ClientName(i), c.HomeAddress, id, derived)
	}
	d.say("")
	d.say("connection %s of %s, served by %s:", c.ID, nsmlab.ClientName(i), nsmlab.EndpointName(ha))
	d.say("  interface     %s in %s (made by the forwarder)", c.Interface, d.l.MN[i-1].Name())
	d.say("  care-of       %-20s from %s's IPAM (%s)", c.CareOf, nsmlab.EndpointName(ha), nsmlab.VWirePrefix(ha))
	d.say("  home address  %-20s derived by the HA from %s (SHA-256 into %s)", c.HomeAddress, id, nsmlab.HomePrefix)
	d.say("  home agent    %-20s in the connection's context, with a route to it over the vWire", c.HomeAgent)
	return nil
}

// derivedHomeAddress is the home address the default policy gives id
// (internal/identity), as a Home Agent at ha computes it.
func derivedHomeAddress(id spiffeid.ID, ha netip.Addr) (netip.Addr, error) {
	policy, err := identity.NewDerived(nsmlab.HomePrefix, ha)
	if err != nil {
		return netip.Addr{}, err
	}
	return policy.HomeAddress(id)
}

// homeAgentIndex is i for the address of Home Agent i.
func homeAgentIndex(a netip.Addr) (int, error) {
	for i := 1; i <= 2; i++ {
		if nsmlab.HAAddr(i) == a {
			return i, nil
		}
	}
	return 0, fmt.Errorf("home agent address %v is neither %v nor %v", a, nsmlab.HAAddr(1), nsmlab.HAAddr(2))
}

// tunnel is step 3: the correspondent on the home link pings the home
// address; the packets on the vWire show the tunnel.
func (d *nsmDemo) tunnel(ctx context.Context) error {
	hoa := d.first.Connection.HomeAddress
	d.heading("The correspondent on the home link pings the home address")
	d.say("from %s (%s, on the home link %s) to %s, 5 requests 200 ms apart;", nsmlab.CNAddr, d.l.CN.Name(), nsmlab.HomeBridge, hoa)
	d.say("%s answers Neighbor Solicitations for it (proxy ND) and tunnels the packets over the vWire:", nsmlab.EndpointName(d.serving))
	series, err := d.l.CN.PingEvery(ctx, nsmlab.CNAddr, hoa, 200*time.Millisecond, 5)
	if err != nil {
		return err
	}
	if err := showPings(&d.story, series, hoa); err != nil {
		return err
	}
	d.say("(the first request waits for neighbor discovery of the home address on the home link; the")
	d.say(" Home Agent sets the link's proxy_delay to 0, so the kernel answers for it at once)")
	d.say("")
	d.say("the same ping once more, with a packet capture (AF_PACKET) on %s in %s:", nsmlab.VWire, d.l.MN[0].Name())
	capture, err := d.l.MN[0].Capture(nsmlab.VWire)
	if err != nil {
		return err
	}
	defer func() { _ = capture.Close() }()
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := d.l.CN.Ping(pingCtx, nsmlab.CNAddr, hoa); err != nil {
		return fmt.Errorf("ping %v from the CN: %w", hoa, err)
	}
	packets, err := capture.Packets()
	if err != nil {
		return err
	}
	return showTunnelled(&d.story, packets, nsmlab.VWire, hoa)
}

// handover is step 4: the serving Home Agent's pod is deleted under a
// 10 ms ping; NSM heals the connection onto the other instance.
func (d *nsmDemo) handover(ctx context.Context) error {
	from, to := d.serving, 3-d.serving
	hoa := d.first.Connection.HomeAddress
	d.heading(fmt.Sprintf("Handover: %s's pod is deleted while the CN pings every 10 ms", nsmlab.EndpointName(from)))
	d.say("%d echo requests from the CN to %s, %v apart; after %d of them %s is stopped (it unregisters)",
		nsmHandoverPings, hoa, handoverInterval, nsmHandoverAfter, nsmlab.EndpointName(from))
	d.say("and its namespace %s is deleted, with its end of the vWire, as deleting its pod does", d.l.HA[from-1].Name())
	type result struct {
		series netns.Series
		err    error
	}
	done := make(chan result, 1)
	go func() {
		s, err := d.l.CN.PingEvery(ctx, nsmlab.CNAddr, hoa, handoverInterval, nsmHandoverPings)
		done <- result{s, err}
	}()
	var after nsmlab.MobileStatus
	var regErr error
	var deleted time.Time
	var took, gone time.Duration
	select {
	case <-time.After(nsmHandoverAfter * handoverInterval):
		deleted = time.Now()
		regErr = d.l.DeleteHomeAgentPod(d.ha[from], from)
		gone = time.Since(deleted)
		delete(d.ha, from)
		d.deleted = d.l.HA[from-1]
		if regErr == nil {
			after, regErr = d.waitMoved(ctx)
			took = time.Since(deleted)
		}
	case <-ctx.Done():
		regErr = ctx.Err()
	}
	r := <-done
	if err := errors.Join(regErr, r.err); err != nil {
		return err
	}
	d.say("")
	d.say("%s stopped (SIGINT: it unregisters and removes its state) and its namespace deleted in %.0f ms;",
		nsmlab.EndpointName(from), ms(gone))
	d.say("%s healed onto %s and re-registered %.0f ms after the pod deletion began (seen by polling /status every 10 ms)",
		nsmlab.ClientName(1), nsmlab.EndpointName(to), ms(took))
	if err := d.checkMoved(after, to); err != nil {
		return err
	}
	d.serving = to
	if err := d.showConnection(after, 1); err != nil {
		return err
	}
	d.say("  = a new care-of address from %s's prefix, the same home address", nsmlab.EndpointName(to))
	d.say("")
	if err := reportSeries(&d.story, r.series, deleted); err != nil {
		return err
	}
	return showBindings(ctx, &d.story, nsmlab.EndpointName(to), d.l.Runner, d.l.HA[to-1])
}

// waitMoved waits until mobile node 1 is registered at a care-of address
// other than its first one.
func (d *nsmDemo) waitMoved(ctx context.Context) (nsmlab.MobileStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, nsmHealWithin)
	defer cancel()
	return d.l.WaitMobile(ctx, 1, func(s nsmlab.MobileStatus) bool {
		return s.Registered() && s.Connection.CareOf != d.first.Connection.CareOf
	})
}

func (d *nsmDemo) checkMoved(after nsmlab.MobileStatus, to int) error {
	c := after.Connection
	switch {
	case c.HomeAgent != nsmlab.HAAddr(to) || !nsmlab.VWirePrefix(to).Contains(c.CareOf):
		return fmt.Errorf("after the move: care-of %v, Home Agent %v; want from %v and %v", c.CareOf, c.HomeAgent, nsmlab.VWirePrefix(to), nsmlab.HAAddr(to))
	case c.HomeAddress != d.first.Connection.HomeAddress:
		return fmt.Errorf("home address changed with the Home Agent instance: %v -> %v", d.first.Connection.HomeAddress, c.HomeAddress)
	}
	return nil
}

// secondIdentity is step 5: another workload, another home address.
func (d *nsmDemo) secondIdentity(ctx context.Context) error {
	d.heading("Identity: a second mobile node, a home address of its own")
	st, err := d.startMobileNode(ctx, 2)
	if err != nil {
		return err
	}
	if err := d.showConnection(st, 2); err != nil {
		return err
	}
	first := d.first.Connection.HomeAddress
	if st.Connection.HomeAddress == first {
		return fmt.Errorf("two identities got the same home address %v", first)
	}
	d.say("")
	d.say("%s's home address is %s, %s's is %s: each follows from the workload's SPIFFE ID,",
		nsmlab.ClientName(1), first, nsmlab.ClientName(2), st.Connection.HomeAddress)
	d.say("wherever it connects from. The Home Agent ties each care-of address to one live NSM connection")
	d.say("and that connection's identity to one home address: a Binding Update from %s's vWire for", nsmlab.ClientName(2))
	d.say("%s is answered with status 133 (not home agent for this mobile node) and the binding cache", first)
	d.say("stays as it is (internal/e2ensm TestSecondIdentityCannotTakeTheFirstsHomeAddress sends it with scapy);")
	d.say("an identity a policy file does not list is refused at the NSM Request (PermissionDenied).")
	if s, ok := d.servedBy(st); ok {
		return showBindings(ctx, &d.story, nsmlab.EndpointName(s), d.l.Runner, d.l.HA[s-1])
	}
	return nil
}

// servedBy is the index of the Home Agent serving st, if it is running.
func (d *nsmDemo) servedBy(st nsmlab.MobileStatus) (int, bool) {
	i, err := homeAgentIndex(st.Connection.HomeAgent)
	return i, err == nil && d.ha[i] != nil
}

// metrics is step 6: a few of the serving Home Agent's metrics.
func (d *nsmDemo) metrics(ctx context.Context) error {
	d.heading(fmt.Sprintf("%s's metrics (GET /metrics, excerpt)", nsmlab.EndpointName(d.serving)))
	text, err := d.l.Metrics(ctx, d.serving)
	if err != nil {
		return err
	}
	return showMetrics(&d.story, text, "mip6_bindings", "mip6_nsm_connections", "mip6_binding_updates_total", "mip6_registration_latency_seconds")
}

// keepRunning prints how to look around and waits for Ctrl-C.
func (d *nsmDemo) keepRunning(ctx context.Context) {
	d.banner("--keep: the lab stays up; look around, then press Ctrl-C")
	cn, ha, mn := d.l.CN.Name(), d.l.HA[d.serving-1].Name(), d.l.MN[0].Name()
	hoa := d.first.Connection.HomeAddress
	d.commands([][2]string{
		{fmt.Sprintf("ip netns exec %s ping %s", cn, hoa), "needs iputils-ping"},
		{fmt.Sprintf("ip -n %s -6 route show table all", ha), ""},
		{fmt.Sprintf("ip -n %s -6 neigh show proxy", ha), "proxy ND for the home addresses"},
		{fmt.Sprintf("ip -n %s -6 rule", mn), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/bindings", ha, nsmlab.HAListen), "needs curl"},
		{fmt.Sprintf("ip netns exec %s curl -s %s/metrics", ha, nsmlab.HAListen), ""},
		{fmt.Sprintf("ip netns exec %s curl -s %s/status", mn, nsmlab.MNListen), "the mobile node, with its connection"},
		{fmt.Sprintf("ip netns exec %s tcpdump -ni %s", mn, nsmlab.VWire), "needs tcpdump"},
	})
	<-ctx.Done()
	d.printf("\n")
}

// shutdown is step 7: the mobile nodes deregister and close their
// connections, the Home Agent unregisters, nothing is left behind.
func (d *nsmDemo) shutdown(ctx context.Context) error {
	d.heading("Shutdown: SIGINT to every daemon, then delete the NSM domain and the namespaces")
	for i := 1; i <= 2; i++ {
		d.say("SIGINT to %s (pid %d): it deregisters (BU with lifetime 0) and closes its NSM connection",
			nsmlab.ClientName(i), d.mn[i].Pid())
		if err := d.mn[i].Stop(); err != nil {
			return err
		}
	}
	if err := d.checkNoBindings(ctx); err != nil {
		return err
	}
	d.say("SIGINT to %s (pid %d): it unregisters from the NSM registry and removes its state",
		nsmlab.EndpointName(d.serving), d.ha[d.serving].Pid())
	if err := d.ha[d.serving].Stop(); err != nil {
		return err
	}
	names, err := d.registeredEndpoints(ctx)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("the %s still lists %v for %s", d.registryName(), names, nsmlab.ServiceName)
	}
	d.say("home agent exited with status 0; the %s lists no endpoint for %s", d.registryName(), nsmlab.ServiceName)
	if err := d.checkKernelState(); err != nil {
		return err
	}
	nsNames := make([]string, 0, len(d.before))
	for ns := range d.before {
		nsNames = append(nsNames, ns.Name())
	}
	if err := d.l.Close(); err != nil {
		return err
	}
	left, err := listed(ctx, nsNames)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("namespaces still listed: %v", left)
	}
	d.say("NSM domain and development CA stopped; namespaces deleted, `ip netns list` shows none of them")
	d.say("")
	d.say("demo completed")
	return nil
}

// checkNoBindings: after both mobile nodes stopped, the serving Home
// Agent holds no binding and no NSM connection.
func (d *nsmDemo) checkNoBindings(ctx context.Context) error {
	bindings, err := d.l.Bindings(ctx, d.serving)
	if err != nil {
		return err
	}
	text, err := d.l.Metrics(ctx, d.serving)
	if err != nil {
		return err
	}
	conns, ok := gauge(text, "mip6_nsm_connections")
	if !ok {
		return errors.New("metrics: mip6_nsm_connections not found")
	}
	d.say("both exited with status 0; %s now holds %d binding(s) and %.0f NSM connection(s)",
		nsmlab.EndpointName(d.serving), len(bindings), conns)
	if len(bindings) != 0 || conns != 0 {
		return fmt.Errorf("the mobile nodes did not deregister: %d binding(s), %.0f connection(s) left", len(bindings), conns)
	}
	return nil
}

// checkKernelState compares every remaining namespace a daemon ran in
// with its state before the daemons started: routes, rules, addresses,
// nftables, and the forwarding sysctl. (The CN runs no daemon; the
// deletion of a Home Agent's pod took a port off its bridge.)
func (d *nsmDemo) checkKernelState() error {
	for _, ns := range d.namespaces() {
		if ns == d.l.CN {
			continue
		}
		now, err := ns.Snapshot()
		if err != nil {
			return err
		}
		if diff := now.Diff(d.before[ns]); diff != "" {
			return fmt.Errorf("%s not cleaned up:\n%s", ns.Name(), diff)
		}
		fwd, err := ns.ReadSysctl("net.ipv6.conf.all.forwarding")
		if err != nil {
			return err
		}
		if fwd != d.fwd[ns] {
			return fmt.Errorf("%s: net.ipv6.conf.all.forwarding is %s, was %s", ns.Name(), fwd, d.fwd[ns])
		}
		d.say("%-24s routes, rules, addresses, nftables and forwarding (%s) as before the daemons", ns.Name(), fwd)
	}
	return nil
}
