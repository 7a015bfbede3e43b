package e2e_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Make-before-break handover figures: the correspondent pings the home
// address every pingEvery while the mobile node moves.
const (
	pingEvery       = 2 * time.Millisecond
	pingsBefore     = 250 * pingEvery // pinging before link 1 comes up
	handoverPings   = 1500
	releaseLogLine  = "released care-of address"
	handoverTimeout = 20 * time.Second
	// slowHomeAgent is how long the Home Agent daemon is paused as link 1
	// comes up, standing for a far or busy Home Agent.
	slowHomeAgent = 100 * time.Millisecond
)

// TestMakeBeforeBreakHandover: the mobile node registers from access link
// 2 while its preferred link 1 is down; link 1 comes up while link 2 stays
// up, and the node moves to it. The Home Agent tunnels to CoA2 until it
// has processed the Binding Update from CoA1, and the mobile node still
// decapsulates those packets: no echo request of a ping every 2 ms from the
// correspondent is lost. CoA2 is released once the Home Agent has bound
// CoA1, and both namespaces are back at their baselines after a clean stop.
//
// Echo replies are another matter: the reverse tunnel leaves from CoA1 as
// soon as the data plane has attached it, and the Home Agent refuses
// tunnelled packets from a care-of address it has not bound (RFC 6275
// §10.4.5) until it has processed the Binding Update, which leaves well
// under a millisecond after the move (0 to 2 of 1500 pings lost on an
// idle machine, more under load; 2 to 10 while attaching took 14 ms). The
// test requires those refusals to be the only losses and each lost ping to
// have been sent before the Home Agent bound CoA1, and logs them.
func TestMakeBeforeBreakHandover(t *testing.T) {
	testHandover(t, 0)
}

// TestMakeBeforeBreakHandoverSlowHomeAgent is the same move with the Home
// Agent daemon paused (SIGSTOP) for 100 ms as link 1 comes up: its kernel
// goes on tunnelling to CoA2 for that long after the mobile node has
// attached CoA1, and every one of those packets must still arrive. (A
// mobile node that drops CoA2 at once loses about 50 requests here.)
func TestMakeBeforeBreakHandoverSlowHomeAgent(t *testing.T) {
	testHandover(t, slowHomeAgent)
}

func testHandover(t *testing.T, pauseHomeAgent time.Duration) {
	logs := &daemonLog{t: t}
	l := newLabLogging(t, logs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	haBase, mnBase := labtest.Snapshot(t, l.HA), labtest.Snapshot(t, l.MN)
	ha, mn := startOnLink2(ctx, t, l)

	haBefore, mnBefore := decapCounters(t, l, l.HA), decapCounters(t, l, l.MN)
	pings := make(chan pingResult, 1)
	go func() {
		s, err := l.CN.PingEvery(ctx, netip.Addr{}, lab.HoA, pingEvery, handoverPings)
		pings <- pingResult{s, err}
	}()
	time.Sleep(pingsBefore)
	linkUpWithoutAddress(t, l)
	linkUp := time.Now()
	if pauseHomeAgent > 0 {
		resume := pause(t, ha)
		must(t, l.SetLink(l.MN, lab.MNLink1, true))
		time.Sleep(pauseHomeAgent)
		resume()
	} else {
		must(t, l.SetLink(l.MN, lab.MNLink1, true))
	}
	regCtx, regCancel := context.WithTimeout(ctx, handoverTimeout)
	defer regCancel()
	must(t, l.WaitRegistered(regCtx, lab.CoA1))
	registered := time.Since(linkUp)
	release := logs.await(t, "[mn] ", releaseLogLine, "care_of="+lab.CoA2.String())
	res := <-pings
	must(t, res.err)
	toMN, fromMN := decapCounters(t, l, l.MN).Sub(mnBefore), decapCounters(t, l, l.HA).Sub(haBefore)

	t.Logf("link 1 up -> registered from CoA1 (as polled) %v; CoA2 released %v after link 1 came up: %s",
		registered.Round(time.Millisecond), logs.lineTime(release).Sub(linkUp).Round(time.Millisecond), release)
	checkHandover(t, res.series, linkUp, logs.lineTime(release), toMN, fromMN)
	if !strings.Contains(release, "home agent bound the new care-of address") {
		t.Errorf("CoA2 released for another reason than the new binding: %s", release)
	}

	must(t, mn.Stop())
	must(t, ha.Stop())
	labtest.AssertSame(t, "mobile node after stop", l.MN, mnBase)
	labtest.AssertSame(t, "home agent after stop", l.HA, haBase)
	for _, ns := range l.Namespaces()[1:] {
		state, err := l.KernelState(ns)
		must(t, err)
		if !state.Clean() {
			t.Errorf("%s after stop: %s", ns.Name(), state)
		}
	}
}

// startOnLink2 starts both daemons with link 1 down, so that the mobile
// node registers from CoA2, and checks the tunnel through link 2.
func startOnLink2(ctx context.Context, t *testing.T, l *lab.Lab) (ha, mn *lab.Process) {
	t.Helper()
	must(t, l.SetLink(l.MN, lab.MNLink1, false))
	ha, err := l.StartHomeAgent(ctx)
	must(t, err)
	mn, err = l.StartMobileNode(ctx)
	must(t, err)
	must(t, l.WaitRegistered(ctx, lab.CoA2))
	if _, err := l.Ping(ctx, l.CN, lab.HoA, 2*time.Second); err != nil {
		t.Fatalf("correspondent -> home address via link 2: %v", err)
	}
	return ha, mn
}

// linkUpWithoutAddress brings the mobile node's end of access link 1 up
// without its address, and waits until the Home Agent's end is up as well.
// The address (SetLink) then makes the link usable, as a mobile node meets
// a router that has been up for long. Both ends of the veth get their
// carrier at once, but the kernel activates the transmit queue of the far
// end later, from a work queue (linkwatch): a Binding Update handled in
// between makes the Home Agent's Neighbor Solicitation for CoA1 vanish
// (QDISC_DROP), and the neighbour cache tries again only after a second.
func linkUpWithoutAddress(t *testing.T, l *lab.Lab) {
	t.Helper()
	must(t, l.MN.LinkUp(lab.MNLink1))
	waitUntil(t, "the Home Agent's end of access link 1 is up", func() bool {
		link, err := l.HA.Netlink().LinkByName(lab.HALink1)
		return err == nil && link.Attrs().OperState == netlink.OperUp
	})
}

// pause stops p with SIGSTOP and returns the function that resumes it,
// which also runs at cleanup so a failed test does not leave it stopped.
func pause(t *testing.T, p *lab.Process) (resume func()) {
	t.Helper()
	must(t, syscall.Kill(p.Pid(), syscall.SIGSTOP))
	var once sync.Once
	resume = func() {
		once.Do(func() { must(t, syscall.Kill(p.Pid(), syscall.SIGCONT)) })
	}
	t.Cleanup(resume)
	return resume
}

// checkHandover logs the figures of a handover and checks them: the mobile
// node decapsulated every echo request, every lost ping is a reply the
// Home Agent refused, and every lost ping was sent before released, when
// the mobile node's release of CoA2 was logged: after the Home Agent had
// bound CoA1, so that the reply to any later ping comes from a bound
// care-of address.
func checkHandover(t *testing.T, series netns.Series, linkUp, released time.Time, toMN, fromMN lab.DecapCounters) {
	t.Helper()
	sent, lost := uint64(len(series)), uint64(series.Lost())
	lo, mean, hi := series.RTTs()
	t.Logf("make-before-break handover link 2 -> link 1 with both up: %d pings every %v, %d lost, longest outage %v; rtt min/mean/max %v/%v/%v",
		sent, pingEvery, lost, series.Outage(), lo, mean, hi)
	t.Logf("HA -> MN: %d requests decapsulated at the mobile node (%d refused); MN -> HA: %d replies decapsulated at the Home Agent, %d refused by its source check",
		toMN.Accepted, toMN.Dropped, fromMN.Accepted, fromMN.Dropped)
	for _, e := range series {
		if e.Replied {
			continue
		}
		t.Logf("lost: seq %d sent %v after link 1 came up (send error %v)", e.Seq, e.Sent.Sub(linkUp).Round(time.Microsecond), e.Err)
		if !e.Sent.Before(released) {
			t.Errorf("ping seq %d lost although sent after the Home Agent had bound CoA1", e.Seq)
		}
	}
	if toMN.Accepted != sent || toMN.Dropped != 0 {
		t.Errorf("HA -> MN: %d of %d echo requests decapsulated at the mobile node, %d refused; want all, none refused",
			toMN.Accepted, sent, toMN.Dropped)
	}
	if fromMN.Dropped != lost || fromMN.Accepted+fromMN.Dropped != sent {
		t.Errorf("%d pings lost, but the Home Agent refused %d replies and accepted %d of %d: losses elsewhere",
			lost, fromMN.Dropped, fromMN.Accepted, sent)
	}
}

type pingResult struct {
	series netns.Series
	err    error
}

func decapCounters(t *testing.T, l *lab.Lab, ns *netns.NS) lab.DecapCounters {
	t.Helper()
	c, err := l.DecapCounters(ns)
	must(t, err)
	return c
}

// newLabLogging is newLab with the daemons' output also kept in logs.
func newLabLogging(t *testing.T, logs *daemonLog) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := lab.New(ctx, lab.Options{Name: "m6e2e", BinDir: binDir, Log: logs})
	if err != nil {
		t.Fatalf("building the lab: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing the lab: %v", err)
		}
	})
	return l
}

// daemonLog passes the daemons' lines to the test log and keeps them with
// the time each arrived.
type daemonLog struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
	times []time.Time
}

func (d *daemonLog) Write(p []byte) (int, error) {
	d.t.Logf("%s", p)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		d.lines = append(d.lines, line)
		d.times = append(d.times, time.Now())
	}
	return len(p), nil
}

// await waits for a line that starts with prefix and holds every part.
func (d *daemonLog) await(t *testing.T, prefix string, parts ...string) string {
	t.Helper()
	var found string
	waitUntil(t, "a log line "+prefix+strings.Join(parts, " ... "), func() bool {
		found = d.find(prefix, parts)
		return found != ""
	})
	return found
}

func (d *daemonLog) find(prefix string, parts []string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, line := range d.lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return line
		}
	}
	return ""
}

// lineTime is when line arrived.
func (d *daemonLog) lineTime(line string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, l := range d.lines {
		if l == line {
			return d.times[i]
		}
	}
	return time.Time{}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
