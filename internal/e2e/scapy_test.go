package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
)

// scapyBU sends one BU from the mobile node's namespace with scapy, as an
// independent mobile node would, and returns the answer scapy decoded.
func scapyBU(t *testing.T, l *lab.Lab, args ...string) labtest.ScapyAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"--iface", lab.MNLink1, "--coa", lab.CoA1.String(), "--ha", lab.HAAddr.String()}
	return labtest.ScapyBU(ctx, t, l.MN.Name(), append(base, args...)...)
}

// TestIndependentMobileNode has scapy register and checks, with scapy's
// own decoder, the BA our Home Agent sends: type 2 routing header to the
// home address, status, sequence and lifetime; then the refusals.
func TestIndependentMobileNode(t *testing.T) { forEachDataPlane(t, testIndependentMobileNode) }

func testIndependentMobileNode(t *testing.T, driver string) {
	l := newLabWithHomeAgent(t, driver)
	hoa := "--hoa=" + lab.HoA.String()
	steps := []struct {
		name   string
		args   []string
		typ    string
		status int
		seq    int
	}{
		{"registration is accepted", []string{hoa, "--seq=7", "--lifetime=30"}, "BA", 0, 7},
		{"a replayed sequence gets 135 with the last accepted one", []string{hoa, "--seq=7", "--lifetime=30"}, "BA", 135, 7},
		{"an older sequence gets 135", []string{hoa, "--seq=3", "--lifetime=30"}, "BA", 135, 7},
		{"a home address off the home prefix gets 132", []string{"--hoa=2001:db8:99::1", "--seq=1"}, "BA", 132, 1},
		{"an unknown MH type gets binding error 2", []string{hoa, "--seq=9", "--mhtype=42"}, "BE", 2, 0},
		{"data with a home address option from another care-of address gets binding error 1",
			[]string{"--hoa=2001:db8:1::200", "--seq=0", "--hao-data"}, "BE", 1, 0},
		{"deregistration is accepted", []string{hoa, "--seq=8", "--lifetime=0"}, "BA", 0, 8},
	}
	for _, s := range steps {
		a := scapyBU(t, l, s.args...).Answer
		if a == nil {
			t.Fatalf("%s: no answer", s.name)
		}
		if a.Type != s.typ || a.Status != s.status || (s.typ == "BA" && a.Seq != s.seq) {
			t.Errorf("%s: got %s status %d seq %d, want %s status %d seq %d", s.name, a.Type, a.Status, a.Seq, s.typ, s.status, s.seq)
		}
		if a.Src != lab.HAAddr.String() || a.Dst != lab.CoA1.String() {
			t.Errorf("%s: answer from %s to %s, want from the home agent to the care-of address", s.name, a.Src, a.Dst)
		}
		if s.typ == "BA" && (a.RoutingType == nil || *a.RoutingType != 2 || *a.RoutingSegleft != 1 || a.RoutingAddress == "") {
			t.Errorf("%s: BA without a type 2 routing header (type %v segleft %v address %q)", s.name, a.RoutingType, a.RoutingSegleft, a.RoutingAddress)
		}
		if s.name == "registration is accepted" {
			if a.Lifetime != 30 || a.RoutingAddress != lab.HoA.String() || a.RefreshInterval == nil {
				t.Errorf("accepted BA: lifetime %d routing address %s refresh advice %v", a.Lifetime, a.RoutingAddress, a.RefreshInterval)
			}
			assertBinding(t, l, true)
		}
	}
	assertBinding(t, l, false)
}

// assertBinding checks whether the Home Agent holds a binding of the home
// address to the first care-of address.
func assertBinding(t *testing.T, l *lab.Lab, want bool) {
	t.Helper()
	bs, err := l.Bindings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := len(bs) == 1 && bs[0].HomeAddress == lab.HoA && bs[0].CareOf == lab.CoA1
	if got != want || (!want && len(bs) != 0) {
		t.Errorf("bindings %s, want binding=%v", fmt.Sprint(bs), want)
	}
}

// TestMalformedBindingUpdatesCreateNoState sends broken BUs from scapy:
// each is answered only as RFC 6275 §9.2 says, and none creates a binding.
func TestMalformedBindingUpdatesCreateNoState(t *testing.T) {
	forEachDataPlane(t, testMalformedBindingUpdates)
}

func testMalformedBindingUpdates(t *testing.T, driver string) {
	l := newLabWithHomeAgent(t, driver)
	hoa := "--hoa=" + lab.HoA.String()
	for _, c := range []struct {
		malform string
		answer  string // "" for none
	}{
		{"checksum", ""},                 // dropped silently
		{"option", ""},                   // misaligned option: dropped
		{"headerlen", "ParamProblem 65"}, // pointer at Header Len: 40 (IPv6) + 24 (dest opts) + 1
	} {
		a := scapyBU(t, l, hoa, "--seq=5", "--timeout=1.5", "--malform="+c.malform).Answer
		got := ""
		if a != nil {
			got = fmt.Sprintf("%s %d", a.Type, a.Pointer)
		}
		if got != c.answer {
			t.Errorf("malformed %s: answer %q, want %q", c.malform, got, c.answer)
		}
	}
	assertBinding(t, l, false)
}

// newLabWithHomeAgent builds the lab and starts only the Home Agent: the
// test plays the mobile node itself.
func newLabWithHomeAgent(t *testing.T, haEnv ...string) *lab.Lab {
	t.Helper()
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.StartHomeAgent(ctx, haEnv...); err != nil {
		t.Fatal(err)
	}
	return l
}
