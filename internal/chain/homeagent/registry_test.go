package homeagent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

// These tests drive the Registry directly, with its interface lookups
// counted and answered from a table; TestAuthorizeResolvesTheVWireInTheKernel
// runs the netlink lookup against real links.

// Two clients, each at its care-of address on its own vWire.
var (
	clientA = record{ConnID: "conn-a", Identity: spiffeid.RequireFromString("spiffe://example.org/a"),
		HomeAddress: netip.MustParseAddr("2001:db8:1::a"), CareOf: netip.MustParseAddr("2001:db8:ca::a")}
	clientB = record{ConnID: "conn-b", Identity: spiffeid.RequireFromString("spiffe://example.org/b"),
		HomeAddress: netip.MustParseAddr("2001:db8:1::b"), CareOf: netip.MustParseAddr("2001:db8:ca::b")}
)

// The Home Agent's ends of the two vWires, and their indexes.
const (
	vwireA, indexA = "nsm-aaaa", 10
	vwireB, indexB = "nsm-bbbb", 11
)

// links answers interface lookups from a table and counts them.
type links struct {
	mu      sync.Mutex
	byName  map[string]int
	lookups atomic.Int64
}

func (l *links) index(name string) (int, error) {
	l.lookups.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.byName[name]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("link %s not found", name)
}

func (l *links) remove(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byName, name)
}

// newTwoClients is a registry with clientA on vwireA and clientB on vwireB.
func newTwoClients(t *testing.T) (*Registry, *links) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	l := &links{byName: map[string]int{vwireA: indexA, vwireB: indexB}}
	r := NewRegistry(nil)
	r.linkIndex = l.index
	for _, c := range []struct {
		rec   record
		iface string
	}{{clientA, vwireA}, {clientB, vwireB}} {
		if err := r.swap(record{}, c.rec); err != nil {
			t.Fatal(err)
		}
		r.setInterface(c.rec.ConnID, c.iface)
	}
	return r, l
}

// bu is the Request for a BU sent from src, naming coa (as an Alternate
// Care-of Address when it differs), for hoa, received on ifindex.
func bu(src, coa, hoa netip.Addr, ifindex int, lifetime mh.Lifetime) homeagent.Request {
	return homeagent.Request{Source: src, CareOf: coa, HomeAddress: hoa, Interface: ifindex,
		Update: &mh.BindingUpdate{Sequence: 1, Flags: mh.FlagA | mh.FlagH, Lifetime: lifetime}}
}

// own is the BU a client sends for itself over its own vWire.
func own(c record, ifindex int) homeagent.Request {
	return bu(c.CareOf, c.CareOf, c.HomeAddress, ifindex, 60)
}

func wantStatus(t *testing.T, err error, want mh.Status) {
	t.Helper()
	var r *homeagent.RefusalError
	if !errors.As(err, &r) || r.Status != want {
		t.Errorf("Authorize = %v, want a refusal with status %v", err, want)
	}
}

func wantAllowed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("Authorize = %v, want allowed", err)
	}
}

func TestAuthorizeAllowsAClientOverItsOwnVWire(t *testing.T) {
	r, l := newTwoClients(t)
	wantAllowed(t, r.Authorize(context.Background(), own(clientA, indexA)))
	wantAllowed(t, r.Authorize(context.Background(), own(clientB, indexB)))
	if n := l.lookups.Load(); n != 2 {
		t.Errorf("%d interface lookups, want 2 (one per BU)", n)
	}
}

// Rule 1: the care-of address is the source. Client B names client A's
// care-of address in an Alternate Care-of Address option, over its own
// vWire and from its own source: refused before anything is looked up.
func TestAuthorizeRefusesAnAlternateCareOfAddress(t *testing.T) {
	r, l := newTwoClients(t)
	wantStatus(t, r.Authorize(context.Background(), bu(clientB.CareOf, clientA.CareOf, clientA.HomeAddress, indexB, 0)),
		mh.StatusAdministrativelyProhibited)
	// Even its own care-of address, named in the option, is refused: a
	// client has no other care-of address to name.
	wantStatus(t, r.Authorize(context.Background(), bu(netip.MustParseAddr("2001:db8:ff::1"), clientB.CareOf, clientB.HomeAddress, indexB, 60)),
		mh.StatusAdministrativelyProhibited)
	if n := l.lookups.Load(); n != 0 {
		t.Errorf("%d interface lookups for refused BUs, want none", n)
	}
}

// Rule 2: the care-of address is a live connection's.
func TestAuthorizeRefusesACareOfAddressOfNoLiveConnection(t *testing.T) {
	r, l := newTwoClients(t)
	gone := netip.MustParseAddr("2001:db8:ca::99")
	wantStatus(t, r.Authorize(context.Background(), bu(gone, gone, clientA.HomeAddress, indexA, 60)),
		mh.StatusAdministrativelyProhibited)
	if n := l.lookups.Load(); n != 0 {
		t.Errorf("%d interface lookups for a refused BU, want none", n)
	}
}

// Rule 3: the BU arrived on its connection's vWire. Client B sends, on its
// own vWire, a BU from client A's care-of address for client A's home
// address with lifetime 0 — everything the addresses can say is A's.
func TestAuthorizeRefusesABindingUpdateFromAnotherVWire(t *testing.T) {
	r, _ := newTwoClients(t)
	spoofed := bu(clientA.CareOf, clientA.CareOf, clientA.HomeAddress, indexB, 0)
	wantStatus(t, r.Authorize(context.Background(), spoofed), mh.StatusAdministrativelyProhibited)
	// The interface is checked before the home address: a BU over the
	// wrong vWire learns nothing about whose home address is whose.
	wrongHome := bu(clientA.CareOf, clientA.CareOf, clientB.HomeAddress, indexB, 60)
	wantStatus(t, r.Authorize(context.Background(), wrongHome), mh.StatusAdministrativelyProhibited)
}

// The check fails closed: a BU whose ingress is unknown, or whose
// connection has no recorded vWire (a BU racing the connection's set-up,
// or a mechanism without a kernel interface), is refused without a lookup;
// WithoutIngressCheck (for chain tests without interfaces) skips it.
func TestAuthorizeRefusesWhenTheInterfaceIsUnknown(t *testing.T) {
	r, l := newTwoClients(t)
	wantStatus(t, r.Authorize(context.Background(), own(clientA, 0)), mh.StatusAdministrativelyProhibited)
	r.setInterface(clientA.ConnID, "")
	wantStatus(t, r.Authorize(context.Background(), own(clientA, indexA)), mh.StatusAdministrativelyProhibited)
	if n := l.lookups.Load(); n != 0 {
		t.Errorf("%d interface lookups, want none", n)
	}
	r.noIngressCheck = true
	wantAllowed(t, r.Authorize(context.Background(), own(clientA, 0)))
}

// A vWire whose name no longer resolves (deleted, as at shutdown or when
// the forwarder tore it down) refuses its connection's BUs.
func TestAuthorizeRefusesWhenTheVWireIsGone(t *testing.T) {
	r, l := newTwoClients(t)
	l.remove(vwireA)
	wantStatus(t, r.Authorize(context.Background(), own(clientA, indexA)), mh.StatusAdministrativelyProhibited)
}

// Rule 4 (the existing one): over the right vWire, from the right care-of
// address, only the connection's own home address.
func TestAuthorizeRefusesAnotherHomeAddressOverTheRightVWire(t *testing.T) {
	r, _ := newTwoClients(t)
	wantStatus(t, r.Authorize(context.Background(), bu(clientA.CareOf, clientA.CareOf, clientB.HomeAddress, indexA, 60)),
		mh.StatusNotHomeAgentForThisMobileNode)
}

// A refresh that moves a connection to a new care-of address keeps its
// vWire recorded, and so does the rollback of a refresh that failed; only
// forgetting the connection drops it.
func TestSwapKeepsTheVWireAndRemoveForgetsIt(t *testing.T) {
	r, _ := newTwoClients(t)
	moved := clientA
	moved.CareOf = netip.MustParseAddr("2001:db8:ca::aa")
	if err := r.swap(clientA, moved); err != nil {
		t.Fatal(err)
	}
	wantInterfaces(t, r, vwireA, vwireB)
	wantAllowed(t, r.Authorize(context.Background(), own(moved, indexA)))
	wantStatus(t, r.Authorize(context.Background(), own(moved, indexB)), mh.StatusAdministrativelyProhibited)

	if err := r.swap(moved, clientA); err != nil { // rollback
		t.Fatal(err)
	}
	wantInterfaces(t, r, vwireA, vwireB)
	wantStatus(t, r.Authorize(context.Background(), own(clientA, indexB)), mh.StatusAdministrativelyProhibited)
	wantAllowed(t, r.Authorize(context.Background(), own(clientA, indexA)))

	r.remove(clientA)
	wantInterfaces(t, r, vwireB)
	wantStatus(t, r.Authorize(context.Background(), own(clientA, indexA)), mh.StatusAdministrativelyProhibited)
}

func wantInterfaces(t *testing.T, r *Registry, want ...string) {
	t.Helper()
	got := r.Interfaces()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Interfaces() = %q, want %q", got, want)
	}
}

// Authorize runs on the Home Agent's receive path while NSM Requests and
// Closes change the registry (run with -race).
func TestAuthorizeIsSafeForConcurrentUse(t *testing.T) {
	r, _ := newTwoClients(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 200 {
			r.remove(clientB)
			if err := r.swap(record{}, clientB); err != nil {
				t.Error(err)
				return
			}
			r.setInterface(clientB.ConnID, vwireB)
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 200 {
				_ = r.Authorize(context.Background(), own(clientB, indexB))
				if err := r.Authorize(context.Background(), bu(clientA.CareOf, clientA.CareOf, clientA.HomeAddress, indexB, 0)); err == nil {
					t.Error("a BU from client A's care-of address over client B's vWire was allowed")
					return
				}
			}
		})
	}
	wg.Wait()
}

// The default lookup asks the kernel, in the network namespace of the
// calling thread: the Home Agent's (a veth pair per client here).
func TestAuthorizeResolvesTheVWireInTheKernel(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ha, peer := netnstest.New(t, "ha"), netnstest.New(t, "peer")
	netnstest.Veth(t, ha, peer, "nsm-a", "mn-a")
	netnstest.Veth(t, ha, peer, "nsm-b", "mn-b")
	a, errA := ha.LinkIndex("nsm-a")
	b, errB := ha.LinkIndex("nsm-b")
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(nil)
	for _, c := range []struct {
		rec   record
		iface string
	}{{clientA, "nsm-a"}, {clientB, "nsm-b"}} {
		if err := r.swap(record{}, c.rec); err != nil {
			t.Fatal(err)
		}
		r.setInterface(c.rec.ConnID, c.iface)
	}
	authorize := func(req homeagent.Request) (err error) {
		if nsErr := ha.Do(func() error { err = r.Authorize(context.Background(), req); return nil }); nsErr != nil {
			t.Fatal(nsErr)
		}
		return err
	}

	wantAllowed(t, authorize(own(clientA, a)))
	wantAllowed(t, authorize(own(clientB, b)))
	wantStatus(t, authorize(bu(clientA.CareOf, clientA.CareOf, clientA.HomeAddress, b, 0)), mh.StatusAdministrativelyProhibited)

	link, err := ha.Netlink().LinkByName("nsm-a")
	if err == nil {
		err = ha.Netlink().LinkDel(link)
	}
	if err != nil {
		t.Fatalf("deleting nsm-a: %v", err)
	}
	wantStatus(t, authorize(own(clientA, a)), mh.StatusAdministrativelyProhibited)
}
