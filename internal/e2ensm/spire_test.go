package e2ensm_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/spiretest"
)

// spireIdentities gives the lab's workloads SVIDs from a real SPIRE
// server and agent: every workload uses the agent's socket, and SPIRE
// tells them apart by the path of their binary (unix:path selectors).
type spireIdentities struct {
	spire  *spiretest.SPIRE
	ids    map[string]spiffeid.ID // workload name -> ID
	source *workloadapi.X509Source
}

func (s *spireIdentities) ID(name string) spiffeid.ID { return s.ids[name] }

func (s *spireIdentities) DomainSources(ctx context.Context) (x509svid.Source, x509bundle.Source, error) {
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(s.spire.Endpoint())))
	if err != nil {
		return nil, nil, err
	}
	s.source = src
	return src, src, nil
}

func (s *spireIdentities) WorkloadEndpoint(context.Context, string) (string, error) {
	return s.spire.Endpoint(), nil
}

func (s *spireIdentities) Close() error {
	if s.source != nil {
		return s.source.Close()
	}
	return nil
}

// TestRealSPIRE: SPIRE v1.13.3 (built by ci/spire.sh) issues the X.509
// SVIDs of the NSM domain, the Home Agent and the mobile node; they talk
// mTLS, the mobile node registers and the Home Agent derives its home
// address from the SPIFFE ID SPIRE issued. A second mobile node whose
// SVID comes from a CA SPIRE does not know is refused by the mesh: its
// Request fails, and the Home Agent's binding cache holds only the first.
func TestRealSPIRE(t *testing.T) {
	td := spiretest.DefaultTrustDomain
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]spiffeid.ID{
		"nsm":                        spiffeid.RequireFromSegments(td, "nsm"),
		nsmlab.HomeAgentWorkload(1):  spiffeid.RequireFromSegments(td, "home-agent"),
		nsmlab.MobileNodeWorkload(1): spiffeid.RequireFromSegments(td, "mobile-node"),
	}
	entry := func(name, binary string) spiretest.Entry {
		e, err := spiretest.PathEntry(ids[name], binary)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	started := time.Now()
	spire := spiretest.Run(t, spiretest.WithEntries(
		entry("nsm", self),
		entry(nsmlab.HomeAgentWorkload(1), filepath.Join(binDir, lab.HomeAgentBinary)),
		entry(nsmlab.MobileNodeWorkload(1), filepath.Join(binDir, lab.MobileNodeBinary)),
	))
	t.Logf("SPIRE up in %v", time.Since(started).Round(time.Millisecond))

	stranger, err := nsmlab.NewDevIdentities(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stranger.Close(); err != nil {
			t.Error(err)
		}
	}()
	l := newLab(t, nsmlab.Options{MobileNodes: 2, Identities: &spireIdentities{spire: spire, ids: ids}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mustStartHA(ctx, t, l, 1)
	st := mustRegister(ctx, t, l, 1)
	t.Logf("registered with SPIRE identities: %v; Request to accepted BA %v", st, st.Connection.RequestToAcceptedBA)

	strangerSocket, err := stranger.WorkloadEndpoint(ctx, nsmlab.MobileNodeWorkload(2))
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.StartMobileNode(ctx, 2, "SPIFFE_ENDPOINT_SOCKET="+strangerSocket, "NSM_REQUEST_TIMEOUT=5s")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("the mobile node with a foreign SVID is still running: its Request was not refused")
	}
	if err := p.Stop(); err == nil {
		t.Error("the mobile node with a foreign SVID exited cleanly; want its Request refused")
	} else {
		t.Logf("foreign workload refused: %v", err)
	}
	got := bindings(ctx, t, l)
	if len(got) != 1 || got[0] != st.Connection.HomeAddress.String()+" at "+st.Connection.CareOf.String() {
		t.Errorf("bindings %v; want only the SPIRE-issued mobile node's", got)
	}
}
