package spiretest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"go.uber.org/goleak"
	"google.golang.org/grpc/status"

	"github.com/mip6mesh/mip6mesh/internal/spiffe/spiretest"
)

// helperEnv makes the test binary act as a workload that fetches an SVID
// once and prints the outcome (see TestMain).
const helperEnv = "MIP6MESH_SPIRETEST_FETCH"

// fetchTimeout bounds every Workload API wait in this test.
const fetchTimeout = time.Minute

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		fetchOnce()
		return
	}
	os.Exit(m.Run())
}

// fetchOnce prints "code=<gRPC code>" (OK when an SVID came, with its ID).
func fetchOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	svid, err := workloadapi.FetchX509SVID(ctx) // address from SPIFFE_ENDPOINT_SOCKET
	if err != nil {
		fmt.Printf("code=%s err=%v\n", status.Code(err), err)
		return
	}
	fmt.Printf("code=OK id=%s\n", svid.ID)
}

func TestSPIREIssuesSVIDsOnlyToRegisteredWorkloads(t *testing.T) {
	t.Cleanup(func() {
		// The sdk's spire.Start logs through logrus pipe writers it never
		// closes; their scanner goroutines end only when GC finalizes them.
		goleak.VerifyNone(t, goleak.IgnoreAnyFunction("github.com/sirupsen/logrus.(*Entry).writerScanner"))
	})
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id := spiffeid.RequireFromPath(spiretest.DefaultTrustDomain, "/spiretest")
	entry, err := spiretest.PathEntry(id, self)
	if err != nil {
		t.Fatal(err)
	}

	begin := time.Now()
	s := spiretest.Run(t, spiretest.WithEntries(entry))
	up := time.Since(begin)
	src := x509Source(t, s)
	firstSVID := time.Since(begin)
	t.Logf("SPIRE v%s: server and agent healthy after %v, first X.509-SVID after %v", spiretest.Version, up.Round(time.Millisecond), firstSVID.Round(time.Millisecond))

	svid, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	if svid.ID != id {
		t.Errorf("registered workload got %s, want %s", svid.ID, id)
	}

	out := runUnregisteredWorkload(t, s, self)
	if !strings.HasPrefix(out, "code=PermissionDenied") || !strings.Contains(out, "no identity issued") {
		t.Errorf("workload with no entry: got %q, want PermissionDenied \"no identity issued\"", out)
	}
}

func TestStartWithoutBinariesNamesTheFix(t *testing.T) {
	t.Setenv(spiretest.DirEnv, t.TempDir())
	_, err := spiretest.Start(context.Background())
	if !errors.Is(err, spiretest.ErrNotInstalled) || !strings.Contains(err.Error(), "ci/spire.sh") {
		t.Errorf("Start with no binaries: got %v, want an error telling to run ci/spire.sh", err)
	}
}

func x509Source(t *testing.T, s *spiretest.SPIRE) *workloadapi.X509Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(
		workloadapi.WithAddr(s.Endpoint()), workloadapi.WithBackoffStrategy(constantBackoff(100*time.Millisecond))))
	if err != nil {
		t.Fatalf("no SVID from %s within %v: %v", s.Endpoint(), fetchTimeout, err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// constantBackoff retries the Workload API quickly, so the measured time to
// the first SVID is SPIRE's and not go-spiffe's default linear backoff
// (1 s, 2 s, 3 s, ... between attempts while the agent has no SVID yet).
type constantBackoff time.Duration

func (b constantBackoff) NewBackoff() workloadapi.Backoff { return b }
func (b constantBackoff) Next() time.Duration             { return time.Duration(b) }
func (constantBackoff) Reset()                            {}

// runUnregisteredWorkload runs a copy of the test binary from another path,
// which no entry selects, and returns what its Workload API fetch printed.
func runUnregisteredWorkload(t *testing.T, s *spiretest.SPIRE, self string) string {
	t.Helper()
	unregistered := filepath.Join(t.TempDir(), "unregistered.test")
	copyFile(t, self, unregistered)
	ctx, cancel := context.WithTimeout(context.Background(), 2*fetchTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, unregistered)
	cmd.Env = append(os.Environ(), helperEnv+"=1", s.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unregistered workload: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
