package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	if err := cli.CheckREADME("../../README.md", "nsc-mobile", &Config{}); err != nil {
		t.Error(err)
	}
}

func TestConfigCheckNamesTheBadValue(t *testing.T) {
	c := Config{Mode: "standalone", MHSocket: "af_packet", HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"),
		HomeAddress: netip.MustParseAddr("2001:db8:2::100")}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "2001:db8:2::100") {
		t.Errorf("home address off the prefix: %v", err)
	}
	c.HomeAddress, c.Mode = netip.MustParseAddr("2001:db8:1::100"), "nsm"
	if err := c.check(); err == nil || !strings.Contains(err.Error(), `"nsm"`) {
		t.Errorf("nsm mode: %v", err)
	}
}
