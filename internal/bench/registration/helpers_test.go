package registration_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/bench/registration"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	line := []byte("4242 (nse (home)agent) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 12345 1000000 5000 18446744073709551615\n")
	got, err := registration.ParseStatCPU(line)
	if err != nil || got != 3 {
		t.Errorf("got %v, %v; want 3 s", got, err)
	}
	if _, err := registration.ParseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Error("a short line parsed")
	}
}

func TestParseMetrics(t *testing.T) {
	body := []byte(`# HELP mip6_bindings Bindings in the binding cache.
# TYPE mip6_bindings gauge
mip6_bindings 1000
mip6_binding_updates_total{status="0"} 1999
mip6_binding_updates_total{status="130"} 6
mip6_registration_latency_seconds_sum 0.5
`)
	n, by := registration.ParseMetrics(body)
	if n != 1000 || by["0"] != 1999 || by["130"] != 6 {
		t.Errorf("bindings %d, by status %v", n, by)
	}
}

func TestLogValue(t *testing.T) {
	line := `time=2026-11-21T19:28:48.821Z level=INFO msg="binding update refused" status="130 (insufficient resources)" reason="data plane: add route: cannot allocate memory" driver=seg6`
	for key, want := range map[string]string{
		"reason": "data plane: add route: cannot allocate memory",
		"driver": "seg6",
		"level":  "INFO",
		"absent": "",
	} {
		if got := registration.LogValue(line, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func TestKmsgText(t *testing.T) {
	rec := []byte("4,1234,3459439399,-;percpu: allocation failed, size=40 align=8 atomic=1\n SUBSYSTEM=x\n")
	if got := registration.KmsgText(rec); got != "percpu: allocation failed, size=40 align=8 atomic=1" {
		t.Errorf("got %q", got)
	}
}

func TestAddressesStayInTheirPrefixes(t *testing.T) {
	home := netip.MustParsePrefix("2001:db8:1::/64")
	seen := map[netip.Addr]bool{}
	for _, i := range []uint64{0, 1, 1<<48 - 1} {
		for _, r := range []uint16{registration.FilledRange, registration.SampledRange} {
			a := registration.HomeAddress(r, i)
			if !home.Contains(a) || seen[a] || a == netip.MustParseAddr("2001:db8:1::1") {
				t.Errorf("home address %d/%d = %s: outside %s, repeated or the Home Agent's", r, i, a, home)
			}
			seen[a] = true
		}
		for gen := range uint16(3) {
			c := registration.CareOfAddress(registration.CareOfPrefix, gen, i)
			if !registration.CareOfPrefix.Contains(c) || seen[c] {
				t.Errorf("care-of address %d/%d = %s: outside %s or repeated", gen, i, c, registration.CareOfPrefix)
			}
			seen[c] = true
		}
	}
	if registration.CareOfPrefix.Overlaps(registration.UnroutedPrefix) {
		t.Error("the unrouted prefix overlaps the care-of prefix")
	}
}

func TestSummarize(t *testing.T) {
	us := []float64{300, 100, 200, 400, 1000}
	l := registration.Summarize(registration.KindMove, us)
	if l.Samples != 5 || l.Min != 100 || l.P50 != 300 || l.P90 != 1000 || l.Max != 1000 || l.Mean != 400 {
		t.Errorf("summary %+v", l)
	}
	if len(l.CDF.Micros) == 0 || l.CDF.Fraction[len(l.CDF.Fraction)-1] != 1 {
		t.Errorf("cdf %+v", l.CDF)
	}
	if empty := registration.Summarize(registration.KindMove, nil); empty.Samples != 0 || empty.P50 != 0 {
		t.Errorf("empty summary %+v", empty)
	}
}

func TestStopText(t *testing.T) {
	s := &registration.Stop{Live: 23456, Status: 130, What: "registration 23,457",
		Reason: "data plane: add route: cannot allocate memory", KernelLog: []string{"percpu: allocation failed (6×)"}}
	want := "seg6: the Home Agent refused registration 23,457 with status 130 (insufficient resources) at 23,456 live bindings: " +
		"data plane: add route: cannot allocate memory. Kernel log during the run: percpu: allocation failed (6×)."
	if got := s.Text("seg6"); got != want {
		t.Errorf("Text:\n got %s\nwant %s", got, want)
	}
	if got := s.Short("seg6"); !strings.HasPrefix(got, "seg6 stopped at 23,456 live bindings: status 130") {
		t.Errorf("Short: %s", got)
	}
}
