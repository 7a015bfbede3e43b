package access_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/access"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

var (
	home    = netip.MustParsePrefix("2001:db8:1::/64")
	coaA    = netip.MustParsePrefix("2001:db8:a::2/64")
	coaB    = netip.MustParsePrefix("2001:db8:b::2/64")
	routerA = netip.MustParseAddr("2001:db8:a::1")
)

// twoLinks builds a mobile node namespace with access interfaces acc1 and
// acc2 (veth to a router namespace), each with a care-of address.
func twoLinks(t *testing.T) (*netnstest.NS, *access.Watcher) {
	t.Helper()
	mn, rt := netnstest.New(t, "accmn"), netnstest.New(t, "accrt")
	netnstest.Veth(t, mn, rt, "acc1", "r1")
	netnstest.Veth(t, mn, rt, "acc2", "r2")
	for _, step := range []error{
		mn.AddAddr("acc1", coaA), mn.AddAddr("acc2", coaB),
		mn.AddAddr("acc1", netip.MustParsePrefix("2001:db8:1::99/128")), // a home-prefix address is never a CoA
		rt.AddAddr("r1", netip.MustParsePrefix("2001:db8:a::1/64")),
		mn.AddRoute(netip.MustParsePrefix("::/0"), routerA),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	return mn, &access.Watcher{Interfaces: []string{"acc1", "acc2"}, HomePrefix: home, NetNS: mn.Handle(),
		Logger: slog.New(slog.DiscardHandler)}
}

func TestCurrentPrefersTheFirstUsableInterface(t *testing.T) {
	mn, w := twoLinks(t)
	at, err := w.Current()
	if err != nil {
		t.Fatal(err)
	}
	want := dataplane.Attachment{CoA: coaA.Addr(), Interface: "acc1", Router: routerA}
	if at != want {
		t.Fatalf("attachment %+v, want %+v", at, want)
	}
	if err := mn.Netlink().LinkSetDown(mustLink(t, mn, "acc1")); err != nil {
		t.Fatal(err)
	}
	if at, _ = w.Current(); at.CoA != coaB.Addr() || at.Interface != "acc2" {
		t.Fatalf("with acc1 down: %+v, want acc2 with %v", at, coaB.Addr())
	}
}

func TestWatchReportsChanges(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	mn, w := twoLinks(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var seen []netip.Addr
	done := make(chan error)
	go func() {
		done <- w.Watch(ctx, func(at dataplane.Attachment) error {
			mu.Lock()
			seen = append(seen, at.CoA)
			mu.Unlock()
			return nil
		})
	}()
	waitFor(t, &mu, &seen, []netip.Addr{coaA.Addr()})
	if err := mn.Netlink().LinkSetDown(mustLink(t, mn, "acc1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &mu, &seen, []netip.Addr{coaA.Addr(), coaB.Addr()})
	if err := mn.Netlink().LinkSetDown(mustLink(t, mn, "acc2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &mu, &seen, []netip.Addr{coaA.Addr(), coaB.Addr(), {}})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWatchNeedsInterfaces(t *testing.T) {
	w := &access.Watcher{}
	if err := w.Watch(context.Background(), func(dataplane.Attachment) error { return nil }); !errors.Is(err, access.ErrNoInterfaces) {
		t.Errorf("Watch without interfaces: %v", err)
	}
}

// waitFor polls until seen equals want; the kernel's events arrive
// asynchronously, so this waits for a condition, it measures nothing.
func waitFor(t *testing.T, mu *sync.Mutex, seen *[]netip.Addr, want []netip.Addr) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := append([]netip.Addr(nil), (*seen)...)
		mu.Unlock()
		if equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("attachments seen %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equal(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustLink(t *testing.T, ns *netnstest.NS, name string) netlink.Link {
	t.Helper()
	link, err := ns.Netlink().LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// TestWatchRetriesAFailedAttachment: when the callback fails, the same
// attachment is offered again (here at the periodic resync).
func TestWatchRetriesAFailedAttachment(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	_, w := twoLinks(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var seen []netip.Addr
	done := make(chan error)
	go func() {
		done <- w.Watch(ctx, func(at dataplane.Attachment) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, at.CoA)
			if len(seen) == 1 {
				return errors.New("data plane busy")
			}
			return nil
		})
	}()
	waitFor(t, &mu, &seen, []netip.Addr{coaA.Addr(), coaA.Addr()})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
