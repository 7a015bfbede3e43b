package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// binDir holds the daemons built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: these tests create network namespaces and need root")
		return 1
	}
	dir, err := os.MkdirTemp("", "mip6-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	build := exec.Command("go", "build", "-o", dir+"/", "../../cmd/nse-homeagent", "../../cmd/nsc-mobile")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the daemons:", err)
		return 1
	}
	binDir = dir
	return m.Run()
}
