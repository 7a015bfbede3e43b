package dataplane_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

func validConfig() dataplane.Config {
	return dataplane.Config{
		Instance:    "ha-1",
		HomeAgent:   netip.MustParseAddr("2001:db8:1::1"),
		HomePrefix:  netip.MustParsePrefix("2001:db8:1::/64"),
		HomeAddress: netip.MustParseAddr("2001:db8:1::100"),
	}.WithDefaults()
}

func TestWithDefaultsFillsZeroFieldsOnly(t *testing.T) {
	cfg := dataplane.Config{Kernel: dataplane.Kernel{Table: 500}}.WithDefaults()
	want := dataplane.Kernel{
		Protocol:     dataplane.DefaultProtocol,
		Table:        500,
		TunnelTable:  dataplane.DefaultTunnelTable,
		ForwardTable: dataplane.DefaultForwardTable,
		Priority:     dataplane.DefaultPriority,
		Mark:         dataplane.DefaultMark,
	}
	if cfg.Kernel != want {
		t.Errorf("Kernel = %+v, want %+v", cfg.Kernel, want)
	}
	if cfg.NetNS != netns.None() {
		t.Errorf("NetNS = %v, want netns.None() (current namespace)", cfg.NetNS)
	}
}

func TestValidConfigPassesBothRoles(t *testing.T) {
	cfg := validConfig()
	if err := cfg.CheckHomeAgent(); err != nil {
		t.Errorf("CheckHomeAgent: %v", err)
	}
	if err := cfg.CheckMobileNode(); err != nil {
		t.Errorf("CheckMobileNode: %v", err)
	}
}

func TestCheckNamesTheBadField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*dataplane.Config)
		field  string
	}{
		{"empty instance", func(c *dataplane.Config) { c.Instance = "" }, "Config.Instance"},
		{"instance with space", func(c *dataplane.Config) { c.Instance = "a b" }, "Config.Instance"},
		{"no home agent", func(c *dataplane.Config) { c.HomeAgent = netip.Addr{} }, "Config.HomeAgent"},
		{"ipv4 home agent", func(c *dataplane.Config) { c.HomeAgent = netip.MustParseAddr("192.0.2.1") }, "Config.HomeAgent"},
		{"link-local home agent", func(c *dataplane.Config) { c.HomeAgent = netip.MustParseAddr("fe80::1") }, "Config.HomeAgent"},
		{"prefix with host bits", func(c *dataplane.Config) { c.HomePrefix = netip.MustParsePrefix("2001:db8:1::1/64") }, "Config.HomePrefix"},
		{"no prefix", func(c *dataplane.Config) { c.HomePrefix = netip.Prefix{} }, "Config.HomePrefix"},
		{"local table", func(c *dataplane.Config) { c.Kernel.Table = 255 }, "Config.Kernel.Table"},
		{"main as decap table", func(c *dataplane.Config) { c.Kernel.Table = 254 }, "Config.Kernel.Table"},
		{"priority after main", func(c *dataplane.Config) { c.Kernel.Priority = 32765 }, "Config.Kernel.Priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			for role, check := range map[string]func() error{"home agent": cfg.CheckHomeAgent, "mobile node": cfg.CheckMobileNode} {
				var verr *dataplane.ValueError
				if err := check(); !errors.As(err, &verr) || verr.Field != tt.field {
					t.Errorf("%s: got %v, want a ValueError for %s", role, err, tt.field)
				}
			}
		})
	}
}

func TestCheckMobileNodeNeedsHomeAddressInPrefix(t *testing.T) {
	for _, hoa := range []string{"2001:db8:2::100", "2001:db8:1::1", "::"} {
		cfg := validConfig()
		cfg.HomeAddress = netip.MustParseAddr(hoa)
		var verr *dataplane.ValueError
		if err := cfg.CheckMobileNode(); !errors.As(err, &verr) || verr.Field != "home address" {
			t.Errorf("home address %s: got %v, want a ValueError for the home address", hoa, err)
		}
	}
}

func TestCheckTunnelTableMustBeOwn(t *testing.T) {
	cfg := validConfig()
	cfg.Kernel.TunnelTable = cfg.Kernel.Table
	var verr *dataplane.ValueError
	if err := cfg.CheckMobileNode(); !errors.As(err, &verr) || verr.Field != "Config.Kernel.TunnelTable" {
		t.Errorf("got %v, want a ValueError for Config.Kernel.TunnelTable", err)
	}
}

func TestCareOfAddressChecks(t *testing.T) {
	prefix := netip.MustParsePrefix("2001:db8:1::/64")
	if err := dataplane.CheckCareOfAddress(prefix, netip.MustParseAddr("2001:db8:a::2")); err != nil {
		t.Errorf("valid care-of address rejected: %v", err)
	}
	for _, coa := range []string{"2001:db8:1::5", "fe80::2", "ff02::1", "::ffff:192.0.2.1"} {
		if err := dataplane.CheckCareOfAddress(prefix, netip.MustParseAddr(coa)); err == nil {
			t.Errorf("care-of address %s accepted", coa)
		}
	}
}

func TestFeatureErrorIsErrUnsupported(t *testing.T) {
	cause := errors.New("operation not supported")
	err := error(&dataplane.FeatureError{Feature: "seg6", Err: cause})
	if !errors.Is(err, dataplane.ErrUnsupported) || !errors.Is(err, cause) {
		t.Errorf("%v does not match both ErrUnsupported and its cause", err)
	}
}

// TestCheckHomeLink: a home link, when set, must be a valid interface name
// for the Home Agent; the Mobile Node ignores the field.
func TestCheckHomeLink(t *testing.T) {
	for _, name := range []string{"", "eth0", "home.100", "a23456789012345"} {
		cfg := validConfig()
		cfg.HomeLink = name
		if err := cfg.CheckHomeAgent(); err != nil {
			t.Errorf("HomeLink %q: %v", name, err)
		}
	}
	for _, name := range []string{"..", "a/b", "eth0:1", "home link", "a234567890123456"} {
		cfg := validConfig()
		cfg.HomeLink = name
		var verr *dataplane.ValueError
		if err := cfg.CheckHomeAgent(); !errors.As(err, &verr) || verr.Field != "Config.HomeLink" {
			t.Errorf("HomeLink %q: got %v, want a ValueError for Config.HomeLink", name, err)
		}
		if err := cfg.CheckMobileNode(); err != nil {
			t.Errorf("mobile node with HomeLink %q: %v", name, err)
		}
	}
}
