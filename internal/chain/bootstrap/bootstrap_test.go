package bootstrap_test

import (
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
)

var want = bootstrap.Bootstrap{
	HomeAddress: netip.MustParseAddr("2001:db8:1::100"),
	HomeAgent:   netip.MustParseAddr("2001:db8:1::1"),
	HomePrefix:  netip.MustParsePrefix("2001:db8:1::/64"),
}

func TestPutGetRoundTrip(t *testing.T) {
	extra := map[string]string{"other": "kept", bootstrap.KeyHomeAddress: "2001:db8:1::999"}
	want.Put(extra)
	if extra["other"] != "kept" || extra[bootstrap.KeyHomeAddress] != "2001:db8:1::100" {
		t.Errorf("Put left %v", extra)
	}
	got, err := bootstrap.Get(extra)
	if err != nil || got != want {
		t.Errorf("Get = %+v, %v; want %+v", got, err, want)
	}
}

func TestGetNamesTheMissingOrBadKey(t *testing.T) {
	good := map[string]string{}
	want.Put(good)
	for _, tc := range []struct {
		name      string
		key, val  string // val "" deletes key
		wantInErr string
	}{
		{"no home address", bootstrap.KeyHomeAddress, "", `no "mip6mesh.io/home-address"`},
		{"no home agent", bootstrap.KeyHomeAgent, "", `no "mip6mesh.io/home-agent"`},
		{"no home prefix", bootstrap.KeyHomePrefix, "", `no "mip6mesh.io/home-prefix"`},
		{"bad home address", bootstrap.KeyHomeAddress, "home", `"mip6mesh.io/home-address" is "home", not an IPv6 address`},
		{"IPv4 home agent", bootstrap.KeyHomeAgent, "192.0.2.1", `"mip6mesh.io/home-agent" is "192.0.2.1"`},
		{"unmasked prefix", bootstrap.KeyHomePrefix, "2001:db8:1::1/64", `"mip6mesh.io/home-prefix" is "2001:db8:1::1/64"`},
		{"home address off prefix", bootstrap.KeyHomePrefix, "2001:db8:2::/64", `2001:db8:1::100 is outside mip6mesh.io/home-prefix 2001:db8:2::/64`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := maps.Clone(good)
			if tc.val == "" {
				delete(extra, tc.key)
			} else {
				extra[tc.key] = tc.val
			}
			_, err := bootstrap.Get(extra)
			if !errors.Is(err, bootstrap.ErrBootstrap) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("error %v, want ErrBootstrap mentioning %q", err, tc.wantInErr)
			}
		})
	}
	if _, err := bootstrap.Get(nil); !errors.Is(err, bootstrap.ErrBootstrap) {
		t.Errorf("Get(nil) error %v", err)
	}
}
