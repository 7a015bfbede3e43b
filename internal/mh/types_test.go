package mh_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestSequenceNewer(t *testing.T) {
	cases := []struct {
		y, x uint16
		want bool
	}{
		{1, 0, true},
		{0, 0, false},
		{0, 1, false},
		{0, 65535, true},      // wraps
		{32767, 0, true},      // the last newer value
		{32768, 0, false},     // half way round is not newer
		{100, 32868, false},   // 32768 behind
		{65535, 32768, true},  // 32767 ahead
		{32768, 65535, false}, // 32767 behind
	}
	for _, c := range cases {
		if got := mh.SequenceNewer(c.y, c.x); got != c.want {
			t.Errorf("SequenceNewer(%d, %d) = %v, want %v", c.y, c.x, got, c.want)
		}
	}
}

func TestLifetime(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want mh.Lifetime
	}{
		{-time.Second, 0}, {0, 0}, {3 * time.Second, 0}, {4 * time.Second, 1},
		{7 * time.Second, 1}, {time.Hour, 900}, {100 * time.Hour, mh.MaxLifetime},
	}
	for _, c := range cases {
		if got := mh.LifetimeOf(c.d); got != c.want {
			t.Errorf("LifetimeOf(%v) = %d, want %d", c.d, got, c.want)
		}
	}
	if got := mh.Lifetime(900).Duration(); got != time.Hour {
		t.Errorf("Lifetime(900).Duration() = %v, want 1h", got)
	}
}

func TestStatusNames(t *testing.T) {
	cases := []struct {
		s        mh.Status
		want     string
		accepted bool
	}{
		{mh.StatusAccepted, "0 (binding update accepted)", true},
		{mh.StatusAcceptedPrefixDiscovery, "1 (accepted but prefix discovery necessary)", true},
		{mh.StatusSequenceOutOfWindow, "135 (sequence number out of window)", false},
		{mh.StatusNotHomeSubnet, "132 (not home subnet)", false},
		{200, "200 (unassigned)", false},
	}
	for _, c := range cases {
		if got := c.s.String(); got != c.want || c.s.Accepted() != c.accepted {
			t.Errorf("Status %d: %q accepted=%v, want %q accepted=%v", uint8(c.s), got, c.s.Accepted(), c.want, c.accepted)
		}
	}
	if got := mh.ErrorStatusUnknownType.String(); got != "2 (unrecognized MH type value)" {
		t.Errorf("ErrorStatusUnknownType = %q", got)
	}
}
