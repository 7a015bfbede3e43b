package homeagent_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/clock"
	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

var (
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	hoa        = netip.MustParseAddr("2001:db8:1::100")
	coa1       = netip.MustParseAddr("2001:db8:a::2")
	coa2       = netip.MustParseAddr("2001:db8:b::2")
	t0         = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// recordingDataPlane stands in for the kernel in these state-machine
// tests: it records what the core asked for. The kernel drivers are tested
// in internal/dataplane and end to end.
type recordingDataPlane struct {
	mu      sync.Mutex
	routes  map[netip.Addr]netip.Addr
	binds   int
	unbinds int
	fail    error
}

func (d *recordingDataPlane) Bind(_ context.Context, h, c netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.binds++
	d.routes[h] = c
	return nil
}

func (d *recordingDataPlane) Unbind(_ context.Context, h netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unbinds++
	delete(d.routes, h)
	return nil
}

func (d *recordingDataPlane) route(h netip.Addr) (netip.Addr, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.routes[h]
	return c, ok
}

type fixture struct {
	ha    *homeagent.HomeAgent
	dp    *recordingDataPlane
	clock *clock.Fake
}

func newFixture(t *testing.T, edit ...func(*homeagent.Config)) *fixture {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	f := &fixture{dp: &recordingDataPlane{routes: map[netip.Addr]netip.Addr{}}, clock: clock.NewFake(t0)}
	cfg := homeagent.Config{HomePrefixes: []netip.Prefix{homePrefix}, MaxLifetime: 10 * time.Minute,
		DataPlane: f.dp, Clock: f.clock, Logger: slog.New(slog.DiscardHandler)}
	for _, e := range edit {
		e(&cfg)
	}
	ha, err := homeagent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.ha = ha
	return f
}

// bu sends a home registration BU with HAO hoa from src.
func (f *fixture) bu(src, home netip.Addr, seq uint16, lifetime mh.Lifetime, opts ...mh.Option) homeagent.Reply {
	return f.ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: src, HomeAddress: home,
		BU: &mh.BindingUpdate{Sequence: seq, Flags: mh.FlagA | mh.FlagH, Lifetime: lifetime, Options: opts}})
}

func wantAck(t *testing.T, r homeagent.Reply, status mh.Status, seq uint16, lifetime mh.Lifetime) {
	t.Helper()
	if !r.Send || r.Ack.Status != status || r.Ack.Sequence != seq || r.Ack.Lifetime != lifetime {
		t.Fatalf("reply send=%v status %v seq %d lifetime %d (err %v), want status %v seq %d lifetime %d",
			r.Send, r.Ack.Status, r.Ack.Sequence, r.Ack.Lifetime, r.Err, status, seq, lifetime)
	}
}

func TestFirstRegistrationProgramsTheDataPlaneAndAnswersTheCareOf(t *testing.T) {
	f := newFixture(t)
	r := f.bu(coa1, hoa, 10, 60)
	wantAck(t, r, mh.StatusAccepted, 10, 60)
	if r.To != coa1 || r.RoutingAddress != hoa {
		t.Errorf("BA to %v via routing header %v, want to %v via %v", r.To, r.RoutingAddress, coa1, hoa)
	}
	if c, ok := f.dp.route(hoa); !ok || c != coa1 {
		t.Errorf("data plane route %v %v, want %v", c, ok, coa1)
	}
	b, ok := f.ha.Lookup(hoa)
	if !ok || b.CareOf != coa1 || b.Sequence != 10 || !b.Expires.Equal(t0.Add(240*time.Second)) {
		t.Errorf("binding %+v", b)
	}
}

func TestLifetimeIsCappedByConfiguration(t *testing.T) {
	f := newFixture(t)
	wantAck(t, f.bu(coa1, hoa, 1, mh.MaxLifetime), mh.StatusAccepted, 1, mh.LifetimeOf(10*time.Minute))
}

func TestRefreshKeepsTheRouteAndMovesTheExpiry(t *testing.T) {
	f := newFixture(t)
	f.bu(coa1, hoa, 1, 60)
	f.clock.Advance(200 * time.Second)
	wantAck(t, f.bu(coa1, hoa, 2, 60), mh.StatusAccepted, 2, 60)
	f.clock.Advance(200 * time.Second) // past the first expiry, before the second
	if _, ok := f.ha.Lookup(hoa); !ok {
		t.Fatal("refreshed binding expired at its old expiry")
	}
	if f.dp.binds != 1 {
		t.Errorf("data plane programmed %d times for one care-of address", f.dp.binds)
	}
}

func TestHandoverMovesTheRoute(t *testing.T) {
	f := newFixture(t)
	f.bu(coa1, hoa, 1, 60)
	r := f.bu(coa2, hoa, 2, 60)
	wantAck(t, r, mh.StatusAccepted, 2, 60)
	if c, _ := f.dp.route(hoa); c != coa2 || r.To != coa2 {
		t.Errorf("route to %v, BA to %v, want both %v", c, r.To, coa2)
	}
}

func TestAlternateCareOfAddressOverridesTheSource(t *testing.T) {
	f := newFixture(t)
	r := f.bu(coa1, hoa, 1, 60, mh.AlternateCareOf(coa2))
	if c, _ := f.dp.route(hoa); c != coa2 || r.To != coa2 {
		t.Errorf("route to %v, BA to %v, want both %v", c, r.To, coa2)
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *fixture)
		send   func(f *fixture) homeagent.Reply
		status mh.Status
		seq    uint16
	}{
		{"replayed sequence gets 135 with the last accepted one", nil,
			func(f *fixture) homeagent.Reply { return f.bu(coa2, hoa, 5, 60) }, mh.StatusSequenceOutOfWindow, 5},
		{"older sequence across the wrap gets 135", nil,
			func(f *fixture) homeagent.Reply { return f.bu(coa2, hoa, 65530, 60) }, mh.StatusSequenceOutOfWindow, 5},
		{"home address off the home prefix gets 132", nil,
			func(f *fixture) homeagent.Reply { return f.bu(coa2, mustAddr("2001:db8:99::1"), 6, 60) }, mh.StatusNotHomeSubnet, 6},
		{"mobile router flag change gets 139", nil, func(f *fixture) homeagent.Reply {
			return f.ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: coa2, HomeAddress: hoa,
				BU: &mh.BindingUpdate{Sequence: 6, Flags: mh.FlagA | mh.FlagH | mh.FlagR, Lifetime: 60}})
		}, mh.StatusRegistrationTypeChange, 6},
		{"nonce indices in a home registration get 129", nil,
			func(f *fixture) homeagent.Reply { return f.bu(coa2, hoa, 6, 60, mh.NonceIndices(1, 2)) }, mh.StatusAdministrativelyProhibited, 6},
		{"link-local care-of address gets 174", nil,
			func(f *fixture) homeagent.Reply { return f.bu(mustAddr("fe80::1"), hoa, 6, 60) }, mh.StatusInvalidCareOfAddress, 6},
		{"care-of address on the home prefix gets 174", nil,
			func(f *fixture) homeagent.Reply { return f.bu(mustAddr("2001:db8:1::5"), hoa, 6, 60) }, mh.StatusInvalidCareOfAddress, 6},
		{"data plane failure gets 130", func(f *fixture) { f.dp.fail = errors.New("ENOMEM") },
			func(f *fixture) homeagent.Reply { return f.bu(coa2, hoa, 6, 60) }, mh.StatusInsufficientResources, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.bu(coa1, hoa, 5, 60)
			before, _ := f.ha.Lookup(hoa)
			if c.setup != nil {
				c.setup(f)
			}
			r := c.send(f)
			wantAck(t, r, c.status, c.seq, 0)
			if r.Err == nil {
				t.Error("refusal without a reason")
			}
			after, _ := f.ha.Lookup(hoa)
			if after != before || f.ha.Len() != 1 {
				t.Errorf("binding changed: %+v -> %+v (%d bindings)", before, after, f.ha.Len())
			}
			if route, _ := f.dp.route(hoa); route != coa1 {
				t.Errorf("data plane route changed to %v", route)
			}
		})
	}
}

func TestAuthorizerDecides(t *testing.T) {
	f := newFixture(t, func(c *homeagent.Config) {
		c.Authorizer = homeagent.AuthorizerFunc(func(_ context.Context, req homeagent.Request) error {
			if req.HomeAddress != hoa {
				return homeagent.Refuse(mh.StatusNotHomeAgentForThisMobileNode, "%s is not allowed", req.HomeAddress)
			}
			return nil
		})
	})
	other := mustAddr("2001:db8:1::200")
	wantAck(t, f.bu(coa1, other, 1, 60), mh.StatusNotHomeAgentForThisMobileNode, 1, 0)
	wantAck(t, f.bu(coa1, hoa, 1, 60), mh.StatusAccepted, 1, 60)
	if _, ok := f.ha.Lookup(other); ok || f.ha.Len() != 1 {
		t.Errorf("refused home address got a binding")
	}
}

// The Authorizer is asked with the packet's addresses, the care-of address
// the BU names (here an Alternate Care-of Address option) and the
// interface the BU arrived on, as the Update carried them.
func TestAuthorizerIsToldWhereTheUpdateCameFrom(t *testing.T) {
	var got homeagent.Request
	f := newFixture(t, func(c *homeagent.Config) {
		c.Authorizer = homeagent.AuthorizerFunc(func(_ context.Context, req homeagent.Request) error {
			got = req
			return nil
		})
	})
	bu := &mh.BindingUpdate{Sequence: 1, Flags: mh.FlagA | mh.FlagH, Lifetime: 60,
		Options: mh.Options{{Type: mh.OptAlternateCareOf, Addr: coa2}}}
	r := f.ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: coa1, HomeAddress: hoa, Interface: 7, BU: bu})
	wantAck(t, r, mh.StatusAccepted, 1, 60)
	want := homeagent.Request{HomeAddress: hoa, CareOf: coa2, Source: coa1, Interface: 7, Update: bu}
	if got != want {
		t.Errorf("Authorizer asked %+v, want %+v", got, want)
	}
}

func TestDeregistration(t *testing.T) {
	t.Run("lifetime zero", func(t *testing.T) {
		f := newFixture(t)
		f.bu(coa1, hoa, 1, 60)
		r := f.bu(coa1, hoa, 2, 0)
		wantAck(t, r, mh.StatusAccepted, 2, 0)
		assertGone(t, f)
	})
	t.Run("from home, care-of address equal to home address", func(t *testing.T) {
		f := newFixture(t)
		f.bu(coa1, hoa, 1, 60)
		r := f.bu(hoa, netip.Addr{}, 2, 60) // no Home Address option
		wantAck(t, r, mh.StatusAccepted, 2, 0)
		if r.To != hoa || r.RoutingAddress.IsValid() {
			t.Errorf("BA to %v with routing header %v, want to the home address without one", r.To, r.RoutingAddress)
		}
		assertGone(t, f)
	})
	t.Run("without a binding gets 133", func(t *testing.T) {
		f := newFixture(t)
		wantAck(t, f.bu(coa1, hoa, 1, 0), mh.StatusNotHomeAgentForThisMobileNode, 1, 0)
	})
}

func TestExpiryRemovesTheBinding(t *testing.T) {
	f := newFixture(t)
	f.bu(coa1, hoa, 1, 60)
	f.clock.Advance(239 * time.Second)
	if _, ok := f.ha.Lookup(hoa); !ok {
		t.Fatal("binding expired early")
	}
	f.clock.Advance(time.Second)
	assertGone(t, f)
	if f.clock.Pending() != 0 {
		t.Errorf("%d timers left", f.clock.Pending())
	}
}

func TestCorrespondentRegistrationIsDiscarded(t *testing.T) {
	f := newFixture(t)
	r := f.ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: coa1, HomeAddress: hoa,
		BU: &mh.BindingUpdate{Sequence: 1, Flags: mh.FlagA, Lifetime: 60}})
	if r.Send || !errors.Is(r.Err, homeagent.ErrNotHomeRegistration) || f.ha.Len() != 0 {
		t.Errorf("reply %+v, %d bindings", r, f.ha.Len())
	}
}

func TestRefreshAdvice(t *testing.T) {
	f := newFixture(t, func(c *homeagent.Config) { c.RefreshFraction = 0.5 })
	r := f.bu(coa1, hoa, 1, 60)
	if got, ok := r.Ack.RefreshInterval(); !ok || got != 30 {
		t.Errorf("refresh advice %d %v, want 30 units", got, ok)
	}
}

func TestAckFlagClearAcceptsSilently(t *testing.T) {
	f := newFixture(t)
	r := f.ha.HandleBindingUpdate(context.Background(), homeagent.Update{Source: coa1, HomeAddress: hoa,
		BU: &mh.BindingUpdate{Sequence: 1, Flags: mh.FlagH, Lifetime: 60}})
	if r.Send || r.Err != nil || f.ha.Len() != 1 {
		t.Errorf("reply %+v, %d bindings: want a binding and no BA", r, f.ha.Len())
	}
}

func TestCloseRemovesEveryBinding(t *testing.T) {
	f := newFixture(t)
	for i := range 10 {
		wantAck(t, f.bu(coa1, nthHome(i), 1, 60), mh.StatusAccepted, 1, 60)
	}
	if err := f.ha.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.ha.Len() != 0 || len(f.dp.routes) != 0 || f.dp.unbinds != 10 || f.clock.Pending() != 0 {
		t.Errorf("after Close: %d bindings, %d routes, %d unbinds, %d timers", f.ha.Len(), len(f.dp.routes), f.dp.unbinds, f.clock.Pending())
	}
	wantAck(t, f.bu(coa1, hoa, 1, 60), mh.StatusInsufficientResources, 1, 0)
}

// TestConcurrentUpdates runs BUs for many home addresses in parallel, and
// competing BUs for one: every home address ends with its newest sequence
// and the data plane agrees with the cache (run with -race).
func TestConcurrentUpdates(t *testing.T) {
	f := newFixture(t)
	const homes, perHome = 50, 20
	var wg sync.WaitGroup
	for h := range homes {
		for seq := range perHome {
			wg.Go(func() {
				coa := coa1
				if seq%2 == 1 {
					coa = coa2
				}
				f.bu(coa, nthHome(h), uint16(seq+1), 60)
			})
		}
	}
	wg.Wait()
	if f.ha.Len() != homes {
		t.Fatalf("%d bindings, want %d", f.ha.Len(), homes)
	}
	for _, b := range f.ha.Bindings() {
		route, _ := f.dp.route(b.HomeAddress)
		if route != b.CareOf {
			t.Errorf("%v: cache says %v, data plane %v", b.HomeAddress, b.CareOf, route)
		}
		if r := f.bu(coa1, b.HomeAddress, b.Sequence, 60); r.Ack.Status != mh.StatusSequenceOutOfWindow {
			t.Errorf("%v: sequence %d accepted twice", b.HomeAddress, b.Sequence)
		}
	}
	if err := f.ha.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrorsNameTheBadValue(t *testing.T) {
	dp := &recordingDataPlane{}
	cases := []struct {
		name string
		cfg  homeagent.Config
		want string
	}{
		{"no prefix", homeagent.Config{MaxLifetime: time.Minute, DataPlane: dp}, "no home prefix"},
		{"unmasked prefix", homeagent.Config{HomePrefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::1/64")}, MaxLifetime: time.Minute, DataPlane: dp}, `"2001:db8:1::1/64"`},
		{"IPv4 prefix", homeagent.Config{HomePrefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, MaxLifetime: time.Minute, DataPlane: dp}, `"192.0.2.0/24"`},
		{"lifetime too long", homeagent.Config{HomePrefixes: []netip.Prefix{homePrefix}, MaxLifetime: 100 * time.Hour, DataPlane: dp}, "100h0m0s"},
		{"refresh fraction", homeagent.Config{HomePrefixes: []netip.Prefix{homePrefix}, MaxLifetime: time.Minute, RefreshFraction: 1.5, DataPlane: dp}, "1.5"},
		{"no data plane", homeagent.Config{HomePrefixes: []netip.Prefix{homePrefix}, MaxLifetime: time.Minute}, "no data plane"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := homeagent.New(c.cfg)
			if !errors.Is(err, homeagent.ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrConfig naming %s", err, c.want)
			}
		})
	}
}

func nthHome(i int) netip.Addr {
	a := homePrefix.Addr().As16()
	a[14], a[15] = byte(i>>8), byte(i)+1
	return netip.AddrFrom16(a)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func assertGone(t *testing.T, f *fixture) {
	t.Helper()
	if _, ok := f.ha.Lookup(hoa); ok || f.ha.Len() != 0 {
		t.Errorf("binding still cached")
	}
	if _, ok := f.dp.route(hoa); ok {
		t.Errorf("data plane route still present")
	}
}

// TestExpiryOrderWithManyBindings expires bindings of different lifetimes,
// refreshed and not, in one shard's heap and checks each goes at its time.
func TestExpiryOrderWithManyBindings(t *testing.T) {
	f := newFixture(t)
	for i := range 40 {
		f.bu(coa1, nthHome(i), 1, mh.Lifetime(10+i)) // expires at (10+i)*4 s
	}
	for i := 0; i < 40; i += 2 {
		f.bu(coa1, nthHome(i), 2, 60) // even ones refreshed: now expire at 240 s
	}
	for step := range 40 {
		f.clock.Advance(4 * time.Second)
		now := 4 * (step + 1)
		for i := range 40 {
			want := i%2 == 0 && now < 240 || i%2 == 1 && now < 4*(10+i)
			if _, ok := f.ha.Lookup(nthHome(i)); ok != want {
				t.Fatalf("at %d s binding %d present=%v, want %v", now, i, ok, want)
			}
		}
	}
	f.clock.Advance(100 * time.Second)
	if f.ha.Len() != 0 || f.clock.Pending() != 0 {
		t.Errorf("after all expiries: %d bindings, %d timers", f.ha.Len(), f.clock.Pending())
	}
}
