package mobilenode_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*mobilenode.Config)
		want string // in the message
	}{
		{"home address unset", func(c *mobilenode.Config) { c.HomeAddress = netip.Addr{} }, "home address is not set"},
		{"home address ipv4", func(c *mobilenode.Config) { c.HomeAddress = netip.MustParseAddr("192.0.2.1") }, "home address 192.0.2.1"},
		{"home address link-local", func(c *mobilenode.Config) { c.HomeAddress = netip.MustParseAddr("fe80::1") }, "home address fe80::1"},
		{"home agent multicast", func(c *mobilenode.Config) { c.HomeAgent = netip.MustParseAddr("ff02::2") }, "home agent ff02::2"},
		{"home agent mapped ipv4", func(c *mobilenode.Config) { c.HomeAgent = netip.MustParseAddr("::ffff:192.0.2.1") }, "home agent ::ffff:192.0.2.1"},
		{"home address is the home agent", func(c *mobilenode.Config) { c.HomeAddress = homeAgent }, "home address 2001:db8:1::1 is the home agent"},
		{"no sender", func(c *mobilenode.Config) { c.Sender = nil }, "no sender"},
		{"negative lifetime", func(c *mobilenode.Config) { c.Lifetime = -time.Second }, "lifetime -1s"},
		{"lifetime under 4 s", func(c *mobilenode.Config) { c.Lifetime = 3 * time.Second }, "lifetime 3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mobilenode.Config{HomeAddress: homeAddr, HomeAgent: homeAgent, Sender: &recordingSender{}}
			tt.edit(&cfg)
			_, err := mobilenode.New(cfg)
			if !errors.Is(err, mobilenode.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want ErrInvalidConfig naming %q", err, tt.want)
			}
		})
	}
}

func TestNewLifetimeDefaultsAndCap(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		want     time.Duration
	}{
		{"default", 0, mobilenode.DefaultLifetime},
		{"rounded down to 4 s units", 10 * time.Second, 8 * time.Second},
		{"capped", 1000 * time.Hour, mh.MaxLifetime.Duration()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *mobilenode.Config) { c.Lifetime = tt.lifetime })
			if got := r.status().Requested; got != tt.want {
				t.Errorf("Requested %v, want %v", got, tt.want)
			}
			r.move(coaA)
			if got := r.last().Lifetime.Duration(); got != tt.want {
				t.Errorf("BU lifetime %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMoveRejectsBadCareOf(t *testing.T) {
	for _, coa := range []string{"fe80::2", "192.0.2.2", "ff05::1", "::1", homeAgent.String()} {
		t.Run(coa, func(t *testing.T) {
			r := newRig(t)
			err := r.reg.Move(netip.MustParseAddr(coa))
			if !errors.Is(err, mobilenode.ErrInvalidCareOf) || !strings.Contains(err.Error(), coa) {
				t.Fatalf("Move: %v, want ErrInvalidCareOf naming %s", err, coa)
			}
			r.wantNoneSentSince(0, "after a refused Move")
		})
	}
}
