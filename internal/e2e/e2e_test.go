package e2e_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// newLab builds the lab topology for one test and removes it afterwards.
func newLab(t *testing.T) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := lab.New(ctx, lab.Options{Name: "m6e2e", BinDir: binDir, Log: testWriter{t}})
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

// dataPlanes are the Home Agent data-plane drivers every test runs with.
var dataPlanes = []string{"seg6", "bpf"}

// forEachDataPlane runs test once per driver, with the NSM_DATAPLANE
// setting for the Home Agent.
func forEachDataPlane(t *testing.T, test func(t *testing.T, driver string)) {
	for _, dp := range dataPlanes {
		t.Run(dp, func(t *testing.T) { test(t, "NSM_DATAPLANE="+dp) })
	}
}

// startBoth starts the Home Agent (with haEnv) and the mobile node and
// waits for the registration from the first access link.
func startBoth(t *testing.T, l *lab.Lab, haEnv ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.StartRegistered(ctx, haEnv...); err != nil {
		t.Fatalf("starting the daemons and registering: %v", err)
	}
}

// testWriter sends daemon output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

func TestTCPStreamSurvivesHandover(t *testing.T) { forEachDataPlane(t, testTCPStreamSurvivesHandover) }

func testTCPStreamSurvivesHandover(t *testing.T, driver string) {
	l := newLab(t)
	startBoth(t, l, driver)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var ln net.Listener
	if err := l.MN.Do(func() error {
		var err error
		ln, err = net.Listen("tcp6", tcpAddr(lab.HoA, 7000))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conn net.Conn
	if err := l.CN.Do(func() error {
		var err error
		conn, err = (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp6", tcpAddr(lab.HoA, 7000))
		return err
	}); err != nil {
		t.Fatalf("correspondent cannot reach the home address: %v", err)
	}
	s, err := startStream(ctx, ln, conn, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "stream flowing", func() bool { return s.received() > 200 })

	handover := time.Now()
	if err := l.SetLink(l.MN, lab.MNLink1, false); err != nil {
		t.Fatal(err)
	}
	regCtx, regCancel := context.WithTimeout(ctx, 10*time.Second)
	defer regCancel()
	if err := l.WaitRegistered(regCtx, lab.CoA2); err != nil {
		t.Fatalf("re-registration after handover: %v", err)
	}
	before := s.received()
	waitUntil(t, "stream flowing after the handover", func() bool { return s.received() > before+500 })
	cancel()
	n, gap, err := s.result(handover)
	if err != nil {
		t.Fatalf("the stream broke across the handover: %v", err)
	}
	t.Logf("handover: TCP stream of %d messages (1 ms apart) survived; longest interruption %v", n, gap.Round(time.Microsecond))
}

// waitUntil polls cond until it holds (a condition, not a timing: the
// deadline only bounds a broken run).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
