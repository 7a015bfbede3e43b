package labtest

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ScapyAnswer is what testdata/scapy_mn.py, an independent mobile node
// built on scapy, prints: the answer to the one packet it sent, as scapy
// decoded it, or a nil Answer when nothing came back in time.
type ScapyAnswer struct {
	Answer *struct {
		Src, Dst        string
		Type            string
		Status          int
		Seq             int
		Lifetime        int
		RoutingType     *int   `json:"routing_type"`
		RoutingSegleft  *int   `json:"routing_segleft"`
		RoutingAddress  string `json:"routing_address"`
		RefreshInterval *int   `json:"refresh_interval"`
		HomeAddress     string `json:"home_address"`
		Pointer         int
	}
}

// ScapyBU runs testdata/scapy_mn.py with args inside the network
// namespace ns (by name) and returns its answer; see the script for the
// arguments (--iface, --coa, --hoa, --ha, --seq, --lifetime, ...).
func ScapyBU(ctx context.Context, t testing.TB, ns string, args ...string) ScapyAnswer {
	t.Helper()
	script := filepath.Join(sourceDir(), "testdata", "scapy_mn.py")
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "/usr/bin/python3", script}, args...)...) //nolint:gosec // test code: the script of this package, arguments from the test
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		stderr := ""
		if errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("scapy mobile node (install python3-scapy; ci/test.sh does): %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var a ScapyAnswer
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &a); err != nil {
		t.Fatalf("scapy output %q: %v", out, err)
	}
	return a
}

// sourceDir is this package's directory: the tests that call ScapyBU run
// in their own packages' directories.
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}
