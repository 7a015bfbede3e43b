package e2ensm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// TestRegisterAndPingThroughNSM: the mobile node gets a vWire from NSM,
// learns its home address and Home Agent from the connection, registers
// over the vWire, and the correspondent on the home link reaches the home
// address through the Home Agent; in one domain and across floating
// interdomain.
func TestRegisterAndPingThroughNSM(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interdomain bool
	}{{"one domain", false}, {"floating interdomain", true}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, nsmlab.Options{Interdomain: tc.interdomain})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			haBase, mnBase := labtest.Snapshot(t, l.HA[0]), labtest.Snapshot(t, l.MN[0])
			ha, err := l.StartHomeAgent(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			mn, err := l.StartMobileNode(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			st, err := l.WaitRegistered(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("registered: %v; Request to accepted BA: %v", st, st.Connection.RequestToAcceptedBA)
			if st.Connection.Registrations != 1 || st.Connection.RequestToAcceptedBA <= 0 {
				t.Errorf("status counts %d registrations taking %v; want 1, measured", st.Connection.Registrations, st.Connection.RequestToAcceptedBA)
			}
			if !nsmlab.VWirePrefix(1).Contains(st.Connection.CareOf) {
				t.Errorf("care-of address %v is not from Home Agent 1's vWire prefix %v", st.Connection.CareOf, nsmlab.VWirePrefix(1))
			}
			if st.Connection.HomeAgent != nsmlab.HAAddr(1) {
				t.Errorf("home agent %v, want %v", st.Connection.HomeAgent, nsmlab.HAAddr(1))
			}
			metrics, err := l.MobileMetrics(ctx, 1)
			if err != nil || !strings.Contains(metrics, "mip6_mn_nsm_registrations_total 1\n") ||
				!strings.Contains(metrics, "mip6_mn_request_to_accepted_ba_seconds_count 1\n") {
				t.Errorf("mobile node metrics (%v) do not count the registration:\n%s", err, metrics)
			}
			rtt, err := l.CN.Ping(ctx, nsmlab.CNAddr, st.Connection.HomeAddress)
			if err != nil {
				t.Fatalf("CN ping to the home address %v: %v", st.Connection.HomeAddress, err)
			}
			t.Logf("CN -> HoA %v: %v", st.Connection.HomeAddress, rtt)

			// Shutdown: the client deregisters and closes its connection
			// (the forwarder removes the vWire), the endpoint unregisters;
			// both namespaces are as they were before.
			if err := mn.Stop(); err != nil {
				t.Errorf("stopping the mobile node: %v", err)
			}
			if bs, err := l.Bindings(ctx, 1); err != nil || len(bs) != 0 {
				t.Errorf("bindings after the mobile node left: %v, %v; want none", bs, err)
			}
			if err := ha.Stop(); err != nil {
				t.Errorf("stopping the Home Agent: %v", err)
			}
			labtest.AssertSame(t, "Home Agent", l.HA[0], haBase)
			labtest.AssertSame(t, "mobile node", l.MN[0], mnBase)
		})
	}
}
