package workload_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/cli/workload"
)

// TestX509SourceNamesTheSocket: without a Workload API the wait ends with
// ErrNoSVID naming SPIFFE_ENDPOINT_SOCKET and its value, and leaves no
// goroutine behind.
func TestX509SourceNamesTheSocket(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	missing := "unix://" + filepath.Join(t.TempDir(), "agent.sock")
	cases := []struct {
		name, socket string
		want         []string
	}{
		{"unset", "", []string{"SPIFFE_ENDPOINT_SOCKET is not set"}},
		{"not a socket address", "http://spire", []string{"SPIFFE_ENDPOINT_SOCKET", `"http://spire"`}},
		{"nobody listening", missing, []string{"SPIFFE_ENDPOINT_SOCKET=" + missing, "50ms"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SPIFFE_ENDPOINT_SOCKET", tc.socket)
			src, err := workload.X509Source(t.Context(), 50*time.Millisecond)
			if err == nil {
				_ = src.Close()
				t.Fatal("X509Source succeeded without a Workload API")
			}
			if !errors.Is(err, workload.ErrNoSVID) {
				t.Errorf("error %v is not ErrNoSVID", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
