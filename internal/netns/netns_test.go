package netns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "tests need root: they create network namespaces")
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// create makes a namespace for one test and deletes it afterwards.
func create(t *testing.T, label string) *netns.NS {
	t.Helper()
	ns, err := netns.Create(netns.UniqueName("m6ns-" + label + "-"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Error(err)
		}
	})
	return ns
}

// pair is two namespaces joined by a veth pair, va 2001:db8:7::1 - vb 2001:db8:7::2.
func pair(t *testing.T) (a, b *netns.NS) {
	t.Helper()
	a, b = create(t, "a"), create(t, "b")
	must(t, netns.Veth(a, b, "va", "vb"))
	must(t, a.AddAddr("va", netip.MustParsePrefix("2001:db8:7::1/64")))
	must(t, b.AddAddr("vb", netip.MustParsePrefix("2001:db8:7::2/64")))
	return a, b
}

var addrA, addrB = netip.MustParseAddr("2001:db8:7::1"), netip.MustParseAddr("2001:db8:7::2")

func listed(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func TestCreateDeleteIsIdempotentAndKeepsOthersNamespaces(t *testing.T) {
	ns, err := netns.Create(netns.UniqueName("m6ns-life-"))
	must(t, err)
	if !slices.Contains(listed(t), ns.Name()) {
		t.Fatalf("ip netns list does not show %s", ns.Name())
	}
	// A second Create of the same name fails and leaves the first alone.
	if _, err := netns.Create(ns.Name()); err == nil {
		t.Error("creating an existing namespace succeeded")
	}
	if !slices.Contains(listed(t), ns.Name()) {
		t.Error("a failed Create deleted the existing namespace")
	}
	must(t, ns.Delete())
	must(t, ns.Delete())
	if slices.Contains(listed(t), ns.Name()) {
		t.Errorf("%s still listed after Delete", ns.Name())
	}
	if err := ns.Do(func() error { return nil }); !errors.Is(err, netns.ErrDeleted) {
		t.Errorf("Do after Delete = %v, want ErrDeleted", err)
	}
}

func TestCreateRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "a/b", "..", "."} {
		if ns, err := netns.Create(name); err == nil {
			_ = ns.Delete()
			t.Errorf("Create(%q) succeeded", name)
		}
	}
}

func TestSysctlRoundTrip(t *testing.T) {
	ns := create(t, "sysctl")
	must(t, ns.EnableIPv6Forwarding())
	got, err := ns.ReadSysctl("net.ipv6.conf.all.forwarding")
	must(t, err)
	if got != "1" {
		t.Errorf("forwarding = %q, want 1", got)
	}
	if got, _ := ns.ReadSysctl("net.ipv6.conf.default.accept_dad"); got != "0" {
		t.Errorf("accept_dad = %q, want 0 (set by Create)", got)
	}
}

func TestPingReturnsRTTAndHonoursCancel(t *testing.T) {
	a, _ := pair(t)
	rtt, err := a.Ping(t.Context(), addrA, addrB)
	must(t, err)
	if rtt <= 0 || rtt > time.Second {
		t.Errorf("rtt %v", rtt)
	}

	// Nobody has 2001:db8:7::99: neighbour discovery fails, no reply comes.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = a.Ping(ctx, addrA, netip.MustParseAddr("2001:db8:7::99"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ping = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled ping took %v", took)
	}
}

func TestPingEverySeesALinkOutage(t *testing.T) {
	a, b := pair(t)
	const interval, count = 5 * time.Millisecond, 60
	go func() {
		time.Sleep(20 * interval)
		_ = b.LinkDown("vb") // flushes 2001:db8:7::2 as well
		time.Sleep(10 * interval)
		_ = b.LinkUp("vb")
		_ = b.AddAddr("vb", netip.MustParsePrefix("2001:db8:7::2/64"))
	}()
	series, err := a.PingEvery(t.Context(), addrA, addrB, interval, count)
	must(t, err)
	if len(series) != count {
		t.Fatalf("%d echoes, want %d", len(series), count)
	}
	lost, outage := series.Lost(), series.Outage()
	t.Logf("lost %d, outage %v", lost, outage)
	if lost == 0 || outage < 5*interval {
		t.Errorf("lost %d, outage %v: the link was down for %v", lost, outage, 10*interval)
	}
	for _, e := range series {
		if e.Err != nil {
			t.Logf("request %d not sent: %v", e.Seq, e.Err)
		}
	}
	if !series[0].Replied || !series[count-1].Replied {
		t.Errorf("first or last request unanswered: %+v ... %+v", series[0], series[count-1])
	}
}

func TestSeriesArithmetic(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Millisecond) }
	ok := func(i int, rtt time.Duration) netns.Echo {
		return netns.Echo{Seq: i, Sent: at(i), Replied: true, RTT: rtt}
	}
	lost := func(i int) netns.Echo { return netns.Echo{Seq: i, Sent: at(i)} }
	for _, tc := range []struct {
		name         string
		s            netns.Series
		lost         int
		outage       time.Duration
		lo, mean, hi time.Duration
	}{
		{"none lost", netns.Series{ok(0, 1*time.Millisecond), ok(1, 3*time.Millisecond)}, 0, 0,
			time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
		{"two runs, the longer counts", netns.Series{ok(0, time.Millisecond), lost(1), ok(2, time.Millisecond),
			lost(3), lost(4), lost(5), ok(6, time.Millisecond)}, 4, 30 * time.Millisecond,
			time.Millisecond, time.Millisecond, time.Millisecond},
		{"lost to the end", netns.Series{ok(0, time.Millisecond), lost(1), lost(2)}, 2, 10 * time.Millisecond,
			time.Millisecond, time.Millisecond, time.Millisecond},
		{"all lost", netns.Series{lost(0), lost(1)}, 2, 10 * time.Millisecond, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Lost(); got != tc.lost {
				t.Errorf("Lost = %d, want %d", got, tc.lost)
			}
			if got := tc.s.Outage(); got != tc.outage {
				t.Errorf("Outage = %v, want %v", got, tc.outage)
			}
			if lo, mean, hi := tc.s.RTTs(); lo != tc.lo || mean != tc.mean || hi != tc.hi {
				t.Errorf("RTTs = %v/%v/%v, want %v/%v/%v", lo, mean, hi, tc.lo, tc.mean, tc.hi)
			}
		})
	}
}

func TestPingEveryRejectsBadArguments(t *testing.T) {
	ns := create(t, "args")
	for _, c := range []struct {
		interval time.Duration
		count    int
	}{{time.Millisecond, 0}, {0, 1}, {time.Millisecond, 0x10001}} {
		if _, err := ns.PingEvery(t.Context(), netip.Addr{}, addrB, c.interval, c.count); err == nil {
			t.Errorf("PingEvery(%v, %d) succeeded", c.interval, c.count)
		}
	}
}

func TestLinkDownFlushesAddressesAndHasAddrSaysSo(t *testing.T) {
	_, b := pair(t)
	have, err := b.HasAddr("vb", addrB)
	must(t, err)
	if !have {
		t.Fatal("HasAddr: address missing after AddAddr")
	}
	must(t, b.LinkDown("vb"))
	if have, _ := b.HasAddr("vb", addrB); have {
		t.Error("address still there after LinkDown (keep_addr_on_down?)")
	}
	must(t, b.LinkUp("vb"))
}

func TestAddRouteMetricKeepsBothDefaults(t *testing.T) {
	a, _ := pair(t)
	def := netip.MustParsePrefix("::/0")
	must(t, a.AddRouteMetric(def, addrB, 100))
	must(t, a.AddRouteMetric(def, addrB, 200))
	out, err := a.Exec(t.Context(), "ip", "-6", "route", "show", "default")
	must(t, err)
	if !strings.Contains(string(out), "metric 100") || !strings.Contains(string(out), "metric 200") {
		t.Errorf("default routes:\n%s", out)
	}
}

func TestHTTPClientReachesLocalhostInsideTheNamespace(t *testing.T) {
	ns := create(t, "http")
	var ln net.Listener
	must(t, ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "localhost:0")
		return err
	}))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "inside")
	}), ReadHeaderTimeout: time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	defer func() {
		_ = srv.Close()
		<-done
	}()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	must(t, err)
	resp, err := ns.HTTPClient().Get("http://localhost:" + port + "/")
	must(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	must(t, err)
	if string(body) != "inside" {
		t.Errorf("body %q", body)
	}
}

func TestCaptureSeesPingAndClosesTwice(t *testing.T) {
	a, b := pair(t)
	c, err := b.Capture("vb")
	must(t, err)
	_, err = a.Ping(t.Context(), addrA, addrB)
	must(t, err)
	packets, err := c.Packets()
	must(t, err)
	var request, reply bool
	for _, p := range packets {
		if p.NextHeader == netns.NextHeaderICMPv6 && len(p.Payload) > 0 {
			request = request || (!p.Outgoing && p.Payload[0] == 128)
			reply = reply || (p.Outgoing && p.Payload[0] == 129)
		}
	}
	if !request || !reply {
		t.Errorf("request %v reply %v in %v", request, reply, packets)
	}
	must(t, c.Close())
	must(t, c.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
