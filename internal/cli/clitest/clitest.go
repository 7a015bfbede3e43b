// Package clitest helps the daemons' configuration tests: it loads a
// configuration from environment variables set for one test.
package clitest

import (
	"io"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/cli"
)

// Load sets the variables of each env in turn (a later map overrides an
// earlier one) for the test's duration, then loads a C from the
// environment as the daemon would, failing t if it cannot.
func Load[C any](t testing.TB, env ...map[string]string) C {
	t.Helper()
	for _, vars := range env {
		for k, v := range vars {
			t.Setenv(k, v)
		}
	}
	var c C
	if err := cli.Load(&c, "", nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	return c
}
