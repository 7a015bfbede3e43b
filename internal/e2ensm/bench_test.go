package e2ensm_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// BenchmarkRequestToAcceptedBA measures the time from the mobile node's
// NSM Request reaching its chain element to the Home Agent's accepted
// Binding Acknowledgement: the NSM path (nsmgr, forwarder, endpoint chain
// with authorization and IPAM), the vWire the forwarder makes, the mobile
// node's start and the BU/BA over the vWire. Each iteration starts a
// fresh nsc-mobile, waits for its registration and stops it (which
// deregisters and closes). It reports the median and the 90th percentile:
//
//	sudo go test -run '^$' -bench RequestToAcceptedBA -benchtime 20x ./internal/e2ensm/
func BenchmarkRequestToAcceptedBA(b *testing.B) {
	for _, tc := range []struct {
		name        string
		interdomain bool
	}{{"one_domain", false}, {"floating_interdomain", true}} {
		b.Run(tc.name, func(b *testing.B) {
			l := newLab(b, nsmlab.Options{Interdomain: tc.interdomain, Log: io.Discard})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if _, err := l.StartHomeAgent(ctx, 1); err != nil {
				b.Fatal(err)
			}
			var took []time.Duration
			for b.Loop() {
				took = append(took, registerOnce(ctx, b, l))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "p90-ms")
		})
	}
}

// registerOnce starts mobile node 1, waits for its registration, stops it
// and returns its Request-to-accepted-BA time.
func registerOnce(ctx context.Context, b *testing.B, l *nsmlab.Lab) time.Duration {
	p, err := l.StartMobileNode(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	st, err := l.WaitRegistered(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		b.Fatal(err)
	}
	return st.Connection.RequestToAcceptedBA
}
