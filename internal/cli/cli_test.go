package cli_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

type spec struct {
	HomePrefix  netip.Prefix  `split_words:"true" default:"2001:db8:1::/64" desc:"the home prefix"`
	MaxLifetime time.Duration `split_words:"true" default:"5m" desc:"longest lifetime granted"`
}

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	err := cli.Load(&spec{}, "test daemon", []string{"--help"}, &out)
	if !errors.Is(err, cli.ErrHelp) {
		t.Fatalf("Load(--help) = %v, want ErrHelp", err)
	}
	for _, want := range []string{"test daemon", "NSM_HOME_PREFIX", "2001:db8:1::/64", "the home prefix", "NSM_MAX_LIFETIME", "5m"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadValueIsNamed(t *testing.T) {
	t.Setenv("NSM_HOME_PREFIX", "2001:db8::1::/64")
	err := cli.Load(&spec{}, "", nil, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "HOME_PREFIX") || !strings.Contains(err.Error(), "2001:db8::1::/64") {
		t.Errorf("error %v should name the variable and the value", err)
	}
}

func TestValuesAreRead(t *testing.T) {
	t.Setenv("NSM_MAX_LIFETIME", "90s")
	var s spec
	if err := cli.Load(&s, "", nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if s.MaxLifetime != 90*time.Second || s.HomePrefix != netip.MustParsePrefix("2001:db8:1::/64") {
		t.Errorf("loaded %+v", s)
	}
}

func TestUnknownArgumentAndBadLevel(t *testing.T) {
	if err := cli.Load(&spec{}, "", []string{"--home-prefix"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"--home-prefix"`) {
		t.Errorf("unknown argument: %v", err)
	}
	if _, err := cli.Logger("LOUD", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"LOUD"`) {
		t.Errorf("bad level: %v", err)
	}
}
