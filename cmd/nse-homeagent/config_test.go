package main

import (
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	if err := cli.CheckREADME("../../README.md", "nse-homeagent", &Config{}); err != nil {
		t.Error(err)
	}
}

func TestConfigCheckNamesTheBadValue(t *testing.T) {
	good := func() Config {
		return Config{Mode: "standalone", MHSocket: "af_packet", DataPlane: "seg6", HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"),
			HomeAgentAddress: netip.MustParseAddr("2001:db8:1::1")}
	}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"nsm mode is not there yet", func(c *Config) { c.Mode = "nsm" }, `NSM_MODE "nsm"`},
		{"unknown data plane", func(c *Config) { c.DataPlane = "ip6tnl" }, `NSM_DATAPLANE "ip6tnl"`},
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

// TestHomeLinkReachesTheDataPlane: NSM_HOME_LINK is read and handed to the
// data plane; unset, the data plane gets a virtual home network.
func TestHomeLinkReachesTheDataPlane(t *testing.T) {
	t.Setenv("NSM_HOME_PREFIX", "2001:db8:1::/64")
	t.Setenv("NSM_HOME_AGENT_ADDRESS", "2001:db8:1::1")
	for _, link := range []string{"", "eth1"} {
		t.Setenv("NSM_HOME_LINK", link)
		var c Config
		if err := cli.Load(&c, "", nil, io.Discard); err != nil {
			t.Fatal(err)
		}
		want := dataplane.Config{Instance: "ha", HomeAgent: netip.MustParseAddr("2001:db8:1::1"),
			HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"), HomeLink: link}
		if got := c.dataPlane(); got != want {
			t.Errorf("NSM_HOME_LINK=%q: data plane config %+v, want %+v", link, got, want)
		}
	}
}
