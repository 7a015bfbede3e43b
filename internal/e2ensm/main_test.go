package e2ensm_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// binDir holds the daemons built once for all tests.
var binDir string

// The sdk's spire.Start copies the SPIRE processes' output into logrus
// writers whose goroutines it never ends (TestRealSPIRE).
func TestMain(m *testing.M) {
	labtest.Main(m, &binDir, goleak.IgnoreAnyFunction("github.com/sirupsen/logrus.(*Entry).writerScanner"))
}

// newLab builds an NSM lab for the test and closes it at cleanup. The
// daemons' output goes to the test log unless opts.Log is set.
func newLab(t testing.TB, opts nsmlab.Options) *nsmlab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts.Name, opts.BinDir = "m6e2n", binDir
	if opts.Log == nil {
		opts.Log = testWriter{t}
	}
	l, err := nsmlab.New(ctx, opts)
	if err != nil {
		t.Fatalf("building the NSM lab: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing the NSM lab: %v", err)
		}
	})
	return l
}

// testWriter sends daemon output to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}
