package svidproof_test

import (
	"context"
	"errors"
	"testing"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/chain"
	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/checks/checkrequest"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/chain/svidproof"
	"github.com/mip6mesh/mip6mesh/internal/identity"
	"github.com/mip6mesh/mip6mesh/internal/spiffe/devca"
)

// rotatingSource hands out the SVIDs it holds one after the other.
type rotatingSource struct{ svids []*x509svid.SVID }

func (s *rotatingSource) GetX509SVID() (*x509svid.SVID, error) {
	if len(s.svids) == 0 {
		return nil, errors.New("no svid")
	}
	svid := s.svids[0]
	s.svids = s.svids[1:]
	return svid, nil
}

// TestEveryRequestCarriesTheCurrentSVID: the first Request and a refresh
// (carrying the connection as it came back) each send the SVID the
// source has at that moment.
func TestEveryRequestCarriesTheCurrentSVID(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("example.org"))
	if err != nil {
		t.Fatal(err)
	}
	id := spiffeid.RequireFromString("spiffe://example.org/mn-1")
	src := &rotatingSource{}
	for range 2 {
		svid, err := ca.Issue(id)
		if err != nil {
			t.Fatal(err)
		}
		src.svids = append(src.svids, svid)
	}
	want := []string{identity.EncodeProof(src.svids[0].Certificates), identity.EncodeProof(src.svids[1].Certificates)}
	var seen []string
	c := chain.NewNetworkServiceClient(svidproof.NewClient(src), checkrequest.NewClient(t, func(_ *testing.T, r *networkservice.NetworkServiceRequest) {
		seen = append(seen, r.GetConnection().GetContext().GetExtraContext()[identity.KeySVIDProof])
	}))
	conn, err := c.Request(context.Background(), &networkservice.NetworkServiceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(context.Background(), &networkservice.NetworkServiceRequest{Connection: conn}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != want[0] || seen[1] != want[1] || seen[0] == seen[1] {
		t.Errorf("proofs sent %d, want the first then the rotated SVID", len(seen))
	}
	if _, err := c.Request(context.Background(), &networkservice.NetworkServiceRequest{}); err == nil {
		t.Error("Request without an SVID succeeded")
	}
}
