package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	if err := cli.CheckREADME("../../README.md", "nse-homeagent", &Config{}); err != nil {
		t.Error(err)
	}
}

func TestConfigCheckNamesTheBadValue(t *testing.T) {
	good := func() Config {
		return Config{Mode: "standalone", MHSocket: "af_packet", HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"),
			HomeAgentAddress: netip.MustParseAddr("2001:db8:1::1")}
	}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"nsm mode is not there yet", func(c *Config) { c.Mode = "nsm" }, `NSM_MODE "nsm"`},
		{"link-local agent address", func(c *Config) { c.HomeAgentAddress = netip.MustParseAddr("fe80::1") }, `"fe80::1"`},
		{"allowed home off the prefix", func(c *Config) { c.AllowedHomes = []netip.Addr{netip.MustParseAddr("2001:db8:2::1")} }, "2001:db8:2::1"},
	}
	if c := good(); c.check() != nil {
		t.Fatalf("good config refused: %v", c.check())
	}
	for _, tc := range cases {
		c := good()
		tc.edit(&c)
		if err := c.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
}
