package mhio_test

// Minimal network namespace helpers. internal/netnstest names its
// namespaces "m6t-…"; these tests must name theirs "m6io-…", so they carry
// their own few helpers instead.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// nsPrefix starts the name of every namespace these tests create.
const nsPrefix = "m6io-"

type testNS struct {
	name string
	h    netns.NsHandle
	nl   *netlink.Handle
}

// locked runs fn on a throw-away goroutine locked to its OS thread and
// returns the thread to its namespace; a thread that cannot be restored
// stays locked and dies with the goroutine.
func locked(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer origin.Close()
		fnErr := fn()
		if err := netns.Set(origin); err != nil {
			errc <- errors.Join(fnErr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- fnErr
	}()
	return <-errc
}

// newNS creates the namespace m6io-<label>-<random>, deleted when the test
// ends, with loopback up, DAD off and ICMPv6 errors not rate limited.
func newNS(t testing.TB, label string) *testNS {
	t.Helper()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	ns := &testNS{name: nsPrefix + label + "-" + hex.EncodeToString(suffix), h: netns.None()}
	err := locked(func() error {
		var err error
		ns.h, err = netns.NewNamed(ns.name)
		return err
	})
	if err != nil {
		t.Fatalf("create netns %s: %v", ns.name, err)
	}
	t.Cleanup(func() {
		if ns.nl != nil {
			ns.nl.Close()
		}
		ns.h.Close()
		if err := netns.DeleteNamed(ns.name); err != nil {
			t.Errorf("delete netns %s: %v", ns.name, err)
		}
	})
	if ns.nl, err = netlink.NewHandleAt(ns.h); err != nil {
		t.Fatalf("netlink in %s: %v", ns.name, err)
	}
	ns.linkUp(t, "lo")
	ns.sysctl(t, "net.ipv6.conf.all.accept_dad", "0")
	ns.sysctl(t, "net.ipv6.conf.default.accept_dad", "0")
	ns.sysctl(t, "net.ipv6.icmp.ratelimit", "0")
	return ns
}

// do runs fn with the calling thread inside the namespace.
func (ns *testNS) do(fn func() error) error {
	return locked(func() error {
		if err := netns.Set(ns.h); err != nil {
			return fmt.Errorf("enter %s: %w", ns.name, err)
		}
		return fn()
	})
}

func (ns *testNS) sysctl(t testing.TB, key, value string) {
	t.Helper()
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := ns.do(func() error { return os.WriteFile(path, []byte(value), 0o644) }); err != nil {
		t.Fatalf("sysctl %s=%s in %s: %v", key, value, ns.name, err)
	}
}

func (ns *testNS) linkUp(t testing.TB, name string) {
	t.Helper()
	link, err := ns.nl.LinkByName(name)
	if err == nil {
		err = ns.nl.LinkSetUp(link)
	}
	if err != nil {
		t.Fatalf("link %s up in %s: %v", name, ns.name, err)
	}
}

// veth joins a (interface nameA) and b (nameB) and brings both ends up.
func veth(t testing.TB, a *testNS, nameA string, b *testNS, nameB string) {
	t.Helper()
	link := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(b.h)}
	if err := a.nl.LinkAdd(link); err != nil {
		t.Fatalf("veth %s/%s - %s/%s: %v", a.name, nameA, b.name, nameB, err)
	}
	a.linkUp(t, nameA)
	b.linkUp(t, nameB)
	a.waitOperUp(t, nameA)
	b.waitOperUp(t, nameB)
}

// waitOperUp waits until the kernel's link watch has run for the interface:
// until then it has no queueing discipline and drops what is sent.
func (ns *testNS) waitOperUp(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		link, err := ns.nl.LinkByName(name)
		if err != nil {
			t.Fatalf("link %s in %s: %v", name, ns.name, err)
		}
		if link.Attrs().OperState == netlink.OperUp {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s in %s still %v after 5s", name, ns.name, link.Attrs().OperState)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// addAddr adds prefix to the interface, usable at once (IFA_F_NODAD).
func (ns *testNS) addAddr(t testing.TB, ifname, prefix string) {
	t.Helper()
	p := netip.MustParsePrefix(prefix)
	link, err := ns.nl.LinkByName(ifname)
	if err == nil {
		err = ns.nl.AddrAdd(link, &netlink.Addr{IPNet: ipNet(p), Flags: unix.IFA_F_NODAD})
	}
	if err != nil {
		t.Fatalf("add %s to %s in %s: %v", prefix, ifname, ns.name, err)
	}
	ns.waitLocal(t, p.Addr())
}

// waitLocal waits for the local route of an address just added: the kernel
// lists the address at once but routes it as local only once its DAD work
// (immediate with IFA_F_NODAD, yet on a work queue) has run.
func (ns *testNS) waitLocal(t testing.TB, addr netip.Addr) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		routes, err := ns.nl.RouteGet(net.IP(addr.AsSlice()))
		if err == nil && len(routes) > 0 && routes[0].Type == unix.RTN_LOCAL {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s not routed as local after 5s (%v, %v)", addr, ns.name, routes, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (ns *testNS) delAddr(t testing.TB, ifname, prefix string) {
	t.Helper()
	p := netip.MustParsePrefix(prefix)
	link, err := ns.nl.LinkByName(ifname)
	if err == nil {
		err = ns.nl.AddrDel(link, &netlink.Addr{IPNet: ipNet(p)})
	}
	if err != nil {
		t.Fatalf("delete %s from %s in %s: %v", prefix, ifname, ns.name, err)
	}
}

func (ns *testNS) addRoute(t testing.TB, dst, via string) {
	t.Helper()
	route := &netlink.Route{Dst: ipNet(netip.MustParsePrefix(dst)), Gw: net.IP(netip.MustParseAddr(via).AsSlice())}
	if err := ns.nl.RouteAdd(route); err != nil {
		t.Fatalf("route %s via %s in %s: %v", dst, via, ns.name, err)
	}
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// open opens a Conn inside the namespace, closed when the test ends.
func (ns *testNS) open(t testing.TB, cfg mhio.Config) *mhio.Conn {
	t.Helper()
	if cfg.Instance == "" {
		cfg.Instance = "test"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var c *mhio.Conn
	err := ns.do(func() error {
		var err error
		c, err = mhio.Open(context.Background(), cfg)
		return err
	})
	if err != nil {
		t.Fatalf("open conn in %s: %v", ns.name, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close conn in %s: %v", ns.name, err)
		}
	})
	return c
}

// paramProblem is an ICMPv6 Parameter Problem seen by an icmpWatch.
type paramProblem struct {
	from     netip.Addr
	code     uint8
	pointer  uint32
	invoking []byte
}

func (p paramProblem) String() string {
	return fmt.Sprintf("parameter problem from %s code %d pointer %d", p.from, p.code, p.pointer)
}

// icmpWatch is a raw ICMPv6 socket in a namespace: it sees every ICMPv6
// message addressed to the namespace.
type icmpWatch struct{ fd int }

func (ns *testNS) watchICMP(t testing.TB) *icmpWatch {
	t.Helper()
	w := &icmpWatch{fd: -1}
	err := ns.do(func() error {
		var err error
		w.fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMPV6)
		return err
	})
	if err != nil {
		t.Fatalf("icmpv6 socket in %s: %v", ns.name, err)
	}
	t.Cleanup(func() { unix.Close(w.fd) })
	return w
}

// paramProblems returns the Parameter Problems that arrive within window;
// once enough (> 0) have come, it waits only 100 ms more for extra ones.
func (w *icmpWatch) paramProblems(t testing.TB, window time.Duration, enough int) []paramProblem {
	t.Helper()
	var out []paramProblem
	buf := make([]byte, 2048)
	deadline := time.Now().Add(window)
	extra := false
	for {
		if enough > 0 && len(out) >= enough && !extra {
			extra, deadline = true, time.Now().Add(100*time.Millisecond)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return out
		}
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatalf("poll icmpv6 socket: %v", err)
		}
		for {
			n, from, err := unix.Recvfrom(w.fd, buf, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			sa, ok := from.(*unix.SockaddrInet6)
			if !ok || n < 8 || buf[0] != 4 {
				continue
			}
			out = append(out, paramProblem{
				from:     netip.AddrFrom16(sa.Addr),
				code:     buf[1],
				pointer:  binary.BigEndian.Uint32(buf[4:8]),
				invoking: append([]byte(nil), buf[8:n]...),
			})
		}
	}
}

// nftTables lists the ip6 nftables tables of the namespace.
func (ns *testNS) nftTables(t testing.TB) map[string]bool {
	t.Helper()
	nc, err := nftables.New(nftables.WithNetNSFd(int(ns.h)))
	if err != nil {
		t.Fatalf("nftables in %s: %v", ns.name, err)
	}
	tables, err := nc.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		t.Fatalf("list nft tables in %s: %v", ns.name, err)
	}
	out := map[string]bool{}
	for _, tb := range tables {
		out[tb.Name] = true
	}
	return out
}

// ping sends an ICMPv6 echo request from the namespace to dst and waits
// up to a second for the reply.
func (ns *testNS) ping(dst netip.Addr) error {
	var fd int
	err := ns.do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMPV6)
		return err
	})
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// Echo Request, checksum filled in by the kernel, id 0x6d36, seq 1.
	echo := []byte{128, 0, 0, 0, 0x6d, 0x36, 0, 1, 'm', 'h', 'i', 'o'}
	if err := unix.Sendto(fd, echo, 0, &unix.SockaddrInet6{Addr: dst.As16()}); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, _ = unix.Poll(fds, 100)
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err == nil && n >= 8 && buf[0] == 129 && buf[4] == 0x6d && buf[5] == 0x36 {
			return nil
		}
	}
	return errors.New("no echo reply within 1s")
}

func (ns *testNS) linkAddr(t testing.TB, ifname string) net.HardwareAddr {
	t.Helper()
	link, err := ns.nl.LinkByName(ifname)
	if err != nil {
		t.Fatalf("link %s in %s: %v", ifname, ns.name, err)
	}
	return link.Attrs().HardwareAddr
}

// addNeighbour adds a permanent neighbour entry for ip on ifname.
func (ns *testNS) addNeighbour(t testing.TB, ifname string, ip netip.Addr, mac net.HardwareAddr) {
	t.Helper()
	link, err := ns.nl.LinkByName(ifname)
	if err == nil {
		err = ns.nl.NeighAdd(&netlink.Neigh{LinkIndex: link.Attrs().Index, Family: unix.AF_INET6,
			State: netlink.NUD_PERMANENT, IP: net.IP(ip.AsSlice()), HardwareAddr: mac})
	}
	if err != nil {
		t.Fatalf("neighbour %s on %s in %s: %v", ip, ifname, ns.name, err)
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
