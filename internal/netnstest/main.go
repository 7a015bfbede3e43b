package netnstest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// created lists the namespaces this process made, for Leftovers.
var created struct {
	sync.Mutex
	names []string
}

func remember(name string) {
	created.Lock()
	defer created.Unlock()
	created.names = append(created.names, name)
}

// Leftovers returns the namespaces this process created that still exist.
func Leftovers() []string {
	created.Lock()
	defer created.Unlock()
	var left []string
	for _, name := range created.names {
		if _, err := os.Stat(filepath.Join("/run/netns", name)); err == nil {
			left = append(left, name)
		}
	}
	return slices.Clip(left)
}

// Main is a TestMain for packages that use real namespaces: it refuses to
// run without root (rather than skipping the kernel tests), runs the tests,
// and fails the run if a namespace or a goroutine outlived them.
func Main(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "tests need root: they create network namespaces")
		os.Exit(1)
	}
	code := m.Run()
	if left := Leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "network namespaces left behind: %v\n", left)
		code = 1
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "goroutines left behind: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
