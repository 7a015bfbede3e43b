package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/cli/clitest"
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
		{"unknown mode", func(c *Config) { c.Mode = "vpp" }, `NSM_MODE "vpp"`},
		{"policy file in standalone mode", func(c *Config) { c.HomeAddressPolicy = "/etc/homes.json" }, `NSM_HOME_ADDRESS_POLICY "/etc/homes.json" applies to nsm mode only`},
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
	for _, link := range []string{"", "eth1"} {
		c := clitest.Load[Config](t, map[string]string{"NSM_HOME_PREFIX": "2001:db8:1::/64",
			"NSM_HOME_AGENT_ADDRESS": "2001:db8:1::1", "NSM_HOME_LINK": link})
		want := dataplane.Config{Instance: "ha", HomeAgent: netip.MustParseAddr("2001:db8:1::1"),
			HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"), HomeLink: link}
		if got := c.dataPlane(); got != want {
			t.Errorf("NSM_HOME_LINK=%q: data plane config %+v, want %+v", link, got, want)
		}
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := cli.Load(&Config{}, about, []string{"--help"}, &out); !errors.Is(err, cli.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	vars, err := cli.Variables(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(vars, "NSM_CIDR_PREFIX", "NSM_HOME_ADDRESS_POLICY", "NSM_REGISTER_SERVICE") {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not list %s", v)
		}
	}
}

// loadNSM loads the configuration in nsm mode with the two required
// variables and env on top of the defaults.
func loadNSM(t *testing.T, env map[string]string) Config {
	t.Helper()
	return clitest.Load[Config](t, map[string]string{"NSM_MODE": "nsm", "NSM_HOME_PREFIX": "2001:db8:1::/64",
		"NSM_HOME_AGENT_ADDRESS": "2001:db8:1::1", "NSM_CIDR_PREFIX": "fd00:6d36::/64"}, env)
}

// TestNSMVariablesAreRead: the defaults with the vWire prefix make a
// valid nsm-mode configuration, and every NSM variable is read.
func TestNSMVariablesAreRead(t *testing.T) {
	if c := loadNSM(t, nil); c.check() != nil {
		t.Fatalf("nsm mode with the defaults: %v", c.check())
	}
	c := loadNSM(t, map[string]string{
		"NSM_NAME": "ha-1@my.cluster2", "NSM_CONNECT_TO": "tcp://127.0.0.1:5001", "NSM_SERVICE_NAMES": "home-agent@my.cluster3,ha2",
		"NSM_LABELS": "app:ha,zone:b", "NSM_REGISTER_SERVICE": "false", "NSM_MAX_TOKEN_LIFETIME": "1h",
		"NSM_HOME_ADDRESS_POLICY": "/etc/mip6mesh/homes.json",
	})
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "ha-1@my.cluster2" || c.ConnectTo.String() != "tcp://127.0.0.1:5001" || c.RegisterService ||
		c.MaxTokenLifetime != time.Hour || c.HomeAddressPolicy != "/etc/mip6mesh/homes.json" ||
		c.CidrPrefix != netip.MustParsePrefix("fd00:6d36::/64") {
		t.Errorf("loaded %+v", c)
	}
	nse := endpointRecord(c, c.ConnectTo.JoinPath("x"))
	if got := nse.GetNetworkServiceNames(); len(got) != 2 || got[0] != "home-agent@my.cluster3" || got[1] != "ha2" {
		t.Errorf("endpoint serves %v", got)
	}
	for _, svc := range nse.GetNetworkServiceNames() {
		if got := nse.GetNetworkServiceLabels()[svc].GetLabels(); !maps.Equal(got, map[string]string{"app": "ha", "zone": "b"}) {
			t.Errorf("labels for %s: %v", svc, got)
		}
	}
}

func TestNSMModeRefusesBadValues(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"NSM_CIDR_PREFIX": ""}, "NSM_CIDR_PREFIX is not set"},
		{map[string]string{"NSM_CIDR_PREFIX": "169.254.0.0/16"}, "NSM_CIDR_PREFIX 169.254.0.0/16 is not an IPv6 prefix"},
		{map[string]string{"NSM_CIDR_PREFIX": "fe80::/64"}, "NSM_CIDR_PREFIX fe80::/64 is not global unicast"},
		{map[string]string{"NSM_CIDR_PREFIX": "fd00:6d36::/127"}, "NSM_CIDR_PREFIX fd00:6d36::/127 is too small"},
		{map[string]string{"NSM_CIDR_PREFIX": "2001:db8:1:0:8000::/65"}, "overlaps NSM_HOME_PREFIX 2001:db8:1::/64"},
		{map[string]string{"NSM_CIDR_PREFIX": "2001:db8::/32"}, "overlaps NSM_HOME_PREFIX"},
		{map[string]string{"NSM_CONNECT_TO": "http://nsmgr:5001"}, `NSM_CONNECT_TO "http://nsmgr:5001"`},
		{map[string]string{"NSM_CONNECT_TO": "unix://"}, `NSM_CONNECT_TO "unix:"`},
		{map[string]string{"NSM_NAME": ""}, "NSM_NAME is empty"},
		{map[string]string{"NSM_SERVICE_NAMES": "home-agent,"}, `NSM_SERVICE_NAMES ["home-agent" ""]`},
		{map[string]string{"NSM_MAX_TOKEN_LIFETIME": "0s"}, "NSM_MAX_TOKEN_LIFETIME 0s"},
		{map[string]string{"NSM_ALLOWED_HOMES": "2001:db8:1::100"}, "NSM_ALLOWED_HOMES [2001:db8:1::100] applies to standalone mode only"},
		{map[string]string{"NSM_INTERFACES": "eth0"}, "NSM_INTERFACES [eth0] applies to standalone mode only"},
		{map[string]string{"NSM_DATAPLANE": "vpp"}, `NSM_DATAPLANE "vpp"`},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			c := loadNSM(t, tc.env)
			if err := c.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error %v, want one containing %q", tc.env, err, tc.want)
			}
		})
	}
}

func TestUnparsableNSMValuesAreNamed(t *testing.T) {
	for k, v := range map[string]string{"NSM_CIDR_PREFIX": "fd00::/129", "NSM_REGISTER_SERVICE": "maybe",
		"NSM_MAX_TOKEN_LIFETIME": "forever", "NSM_LABELS": "novalue"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv("NSM_HOME_PREFIX", "2001:db8:1::/64")
			t.Setenv("NSM_HOME_AGENT_ADDRESS", "2001:db8:1::1")
			t.Setenv(k, v)
			err := cli.Load(&Config{}, "", nil, io.Discard)
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(k, "NSM_")) || !strings.Contains(err.Error(), v) {
				t.Errorf("%s=%s: error %v, want one naming both", k, v, err)
			}
		})
	}
}

// TestHomeAddressPolicyFileErrorsNameTheVariable: a policy file that
// cannot be used stops the start with an error naming
// NSM_HOME_ADDRESS_POLICY and the file.
func TestHomeAddressPolicyFileErrorsNameTheVariable(t *testing.T) {
	c := loadNSM(t, nil)
	dir := t.TempDir()
	offPrefix := filepath.Join(dir, "off.json")
	if err := os.WriteFile(offPrefix, []byte(`{"spiffe://example.org/ns/a/sa/b": "2001:db8:2::100"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.json"), offPrefix} {
		c.HomeAddressPolicy = path
		if _, err := homeAddressPolicy(c, slog.New(slog.DiscardHandler)); err == nil ||
			!strings.Contains(err.Error(), `NSM_HOME_ADDRESS_POLICY "`+path+`"`) {
			t.Errorf("policy file %s: error %v, want one naming NSM_HOME_ADDRESS_POLICY and the file", path, err)
		}
	}
	c.HomeAddressPolicy = ""
	if p, err := homeAddressPolicy(c, slog.New(slog.DiscardHandler)); err != nil || p == nil {
		t.Errorf("derived policy: %v, %v", p, err)
	}
}

func TestPrefixToIPNet(t *testing.T) {
	if got := prefixToIPNet(netip.MustParsePrefix("fd00:6d36::5/64")).String(); got != "fd00:6d36::/64" {
		t.Errorf("prefixToIPNet = %s, want fd00:6d36::/64", got)
	}
}
