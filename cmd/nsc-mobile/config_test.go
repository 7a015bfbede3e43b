package main

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/cli/clitest"
)

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	if err := cli.CheckREADME("../../README.md", "nsc-mobile", &Config{}); err != nil {
		t.Error(err)
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
	for _, v := range append(vars, "NSM_NETWORK_SERVICES", "NSM_REQUEST_TIMEOUT", "NSM_LIVENESS_CHECK_ENABLED") {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not list %s", v)
		}
	}
}

func TestConfigCheckNamesTheBadValue(t *testing.T) {
	c := Config{Mode: "standalone", MHSocket: "af_packet", HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"),
		HomeAddress: netip.MustParseAddr("2001:db8:2::100"), HomeAgentAddress: netip.MustParseAddr("2001:db8:1::1"),
		AccessInterfaces: []string{"eth0"}}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "2001:db8:2::100") {
		t.Errorf("home address off the prefix: %v", err)
	}
	c.HomeAddress, c.Mode = netip.MustParseAddr("2001:db8:1::100"), "vpp"
	if err := c.check(); err == nil || !strings.Contains(err.Error(), `NSM_MODE "vpp"`) {
		t.Errorf("unknown mode: %v", err)
	}
	c.Mode, c.AccessInterfaces = "standalone", nil
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "NSM_ACCESS_INTERFACES is required in standalone mode") {
		t.Errorf("standalone without access interfaces: %v", err)
	}
}

// loadNSM loads the configuration with NSM_MODE=nsm and env on top of the
// defaults.
func loadNSM(t *testing.T, env map[string]string) Config {
	t.Helper()
	return clitest.Load[Config](t, map[string]string{"NSM_MODE": "nsm"}, env)
}

// TestNSMModeNeedsNoMoreThanTheMode: the defaults make a valid nsm-mode
// configuration, and the NSM variables are read.
func TestNSMModeNeedsNoMoreThanTheMode(t *testing.T) {
	if c := loadNSM(t, nil); c.check() != nil {
		t.Fatalf("nsm mode with the defaults: %v", c.check())
	}
	c := loadNSM(t, map[string]string{
		"NSM_NAME": "mn-7", "NSM_CONNECT_TO": "unix:///run/nsm/nsm.io.sock", "NSM_DIAL_TIMEOUT": "2s", "NSM_REQUEST_TIMEOUT": "40s",
		"NSM_MAX_TOKEN_LIFETIME": "1h", "NSM_LIVENESS_CHECK_ENABLED": "false", "NSM_LIVENESS_CHECK_INTERVAL": "1s",
		"NSM_LIVENESS_CHECK_TIMEOUT": "300ms", "NSM_LABELS": "app:mn,zone:b",
		"NSM_NETWORK_SERVICES": "kernel://home-agent@my.cluster3/nsm-7?zone=a&tier=gold",
	})
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "mn-7" || c.ConnectTo.String() != "unix:///run/nsm/nsm.io.sock" || c.DialTimeout != 2*time.Second ||
		c.RequestTimeout != 40*time.Second || c.MaxTokenLifetime != time.Hour || c.LivenessCheckEnabled ||
		c.LivenessCheckInterval != time.Second || c.LivenessCheckTimeout != 300*time.Millisecond {
		t.Errorf("loaded %+v", c)
	}
	svc, err := c.service()
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"app": "mn", "zone": "b", "tier": "gold"}
	if svc.Name != "home-agent@my.cluster3" || svc.Interface != "nsm-7" || !maps.Equal(svc.Labels, wantLabels) ||
		svc.Mechanism.GetType() != "KERNEL" {
		t.Errorf("service %+v, want home-agent@my.cluster3 on nsm-7 with labels %v (NSM_LABELS override the URL's)", svc, wantLabels)
	}
}

func TestNSMModeRefusesBadValues(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"NSM_NETWORK_SERVICES": "kernel://a/nsm-1,kernel://b/nsm-2"}, "want exactly one kernel:// URL"},
		{map[string]string{"NSM_NETWORK_SERVICES": "memif://home-agent/nsm-1"}, `NSM_NETWORK_SERVICES "memif://home-agent/nsm-1": mechanism "memif"`},
		{map[string]string{"NSM_NETWORK_SERVICES": "kernel://home-agent"}, `NSM_NETWORK_SERVICES "kernel://home-agent": interface name ""`},
		{map[string]string{"NSM_NETWORK_SERVICES": "kernel://home-agent/a-very-long-ifname"}, `interface name "a-very-long-ifname"`},
		{map[string]string{"NSM_NETWORK_SERVICES": "kernel:///nsm-1"}, "no network service name"},
		{map[string]string{"NSM_CONNECT_TO": "http://nsmgr:5001"}, `NSM_CONNECT_TO "http://nsmgr:5001"`},
		{map[string]string{"NSM_NAME": ""}, "NSM_NAME is empty"},
		{map[string]string{"NSM_DIAL_TIMEOUT": "0s"}, "NSM_DIAL_TIMEOUT 0s"},
		{map[string]string{"NSM_REQUEST_TIMEOUT": "-1s"}, "NSM_REQUEST_TIMEOUT -1s"},
		{map[string]string{"NSM_MAX_TOKEN_LIFETIME": "0s"}, "NSM_MAX_TOKEN_LIFETIME 0s"},
		{map[string]string{"NSM_LIVENESS_CHECK_INTERVAL": "0s"}, "NSM_LIVENESS_CHECK_INTERVAL 0s"},
		{map[string]string{"NSM_LIVENESS_CHECK_TIMEOUT": "0s"}, "NSM_LIVENESS_CHECK_TIMEOUT 0s"},
		{map[string]string{"NSM_HOME_ADDRESS": "2001:db8:1::100"}, "NSM_HOME_ADDRESS applies to standalone mode only"},
		{map[string]string{"NSM_ACCESS_INTERFACES": "eth0"}, "NSM_ACCESS_INTERFACES applies to standalone mode only"},
		{map[string]string{"NSM_MH_SOCKET": "xdp"}, `NSM_MH_SOCKET "xdp"`},
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
	for k, v := range map[string]string{"NSM_REQUEST_TIMEOUT": "soon", "NSM_LIVENESS_CHECK_ENABLED": "maybe", "NSM_LABELS": "novalue"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			err := cli.Load(&Config{}, "", nil, io.Discard)
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(k, "NSM_")) || !strings.Contains(err.Error(), v) {
				t.Errorf("%s=%s: error %v, want one naming both", k, v, err)
			}
		})
	}
}
