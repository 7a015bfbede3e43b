// Package labtest serves the test packages that run the real daemons: Main
// is their TestMain (it insists on root, builds nse-homeagent and
// nsc-mobile once into a temporary directory, runs the tests and fails the
// run if they left a goroutine behind); Snapshot and AssertSame compare a
// namespace's kernel state with a baseline; ScapyBU drives an independent
// mobile node built on scapy.
package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

// Main builds the daemons, sets *binDir to where they are, runs m and
// exits. Call it from TestMain. leak options are passed to the goroutine
// leak check, for goroutines a dependency leaves behind by design.
func Main(m *testing.M, binDir *string, leak ...goleak.Option) {
	os.Exit(run(m, binDir, leak))
}

func run(m *testing.M, binDir *string, leak []goleak.Option) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "these tests need root: they create network namespaces")
		return 1
	}
	dir, err := os.MkdirTemp("", "mip6-daemons-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	build := exec.Command("go", "build", "-o", dir+"/", //nolint:gosec // fixed arguments: builds this repository's daemons
		"github.com/mip6mesh/mip6mesh/cmd/nse-homeagent", "github.com/mip6mesh/mip6mesh/cmd/nsc-mobile")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the daemons: %v\n%s", err, out)
		return 1
	}
	*binDir = dir
	code := m.Run()
	if err := goleak.Find(leak...); err != nil {
		fmt.Fprintf(os.Stderr, "goroutines left behind: %v\n", err)
		code = 1
	}
	return code
}
