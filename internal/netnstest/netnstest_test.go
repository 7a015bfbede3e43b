package netnstest_test

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

func listNetns(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	return string(out)
}

func TestNewCreatesNamedNamespaceAndDeletesIt(t *testing.T) {
	var name string
	t.Run("owner", func(t *testing.T) {
		ns := netnstest.New(t, "life")
		name = ns.Name()
		if !strings.HasPrefix(name, netnstest.Prefix+"life-") {
			t.Errorf("name %q lacks prefix %q", name, netnstest.Prefix+"life-")
		}
		if !strings.Contains(listNetns(t), name) {
			t.Errorf("ip netns list does not show %s", name)
		}
	})
	if strings.Contains(listNetns(t), name) {
		t.Errorf("%s still listed after its test ended", name)
	}
}

func TestNewGivesDistinctNames(t *testing.T) {
	a, b := netnstest.New(t, "same"), netnstest.New(t, "same")
	if a.Name() == b.Name() {
		t.Fatalf("two namespaces share the name %s", a.Name())
	}
}

func TestDoEntersNamespaceAndRestores(t *testing.T) {
	ns := netnstest.New(t, "do")
	before := currentNetns(t)
	var inside netns.NsHandle
	err := ns.Do(func() error {
		var err error
		inside, err = netns.Get()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if !inside.Equal(ns.Handle()) {
		t.Errorf("Do ran in %s, want %s", inside, ns.Handle())
	}
	if after := currentNetns(t); !after.Equal(before) {
		t.Errorf("netns after Do is %s, want %s", after, before)
	}
}

func currentNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	h, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestVethAddrPingAndCapture(t *testing.T) {
	a, b := netnstest.New(t, "a"), netnstest.New(t, "b")
	netnstest.Veth(t, a, b, "va", "vb")
	addrA, addrB := netip.MustParseAddr("2001:db8:7::1"), netip.MustParseAddr("2001:db8:7::2")
	mustOK(t, a.AddAddr("va", netip.PrefixFrom(addrA, 64)))
	mustOK(t, b.AddAddr("vb", netip.PrefixFrom(addrB, 64)))
	capture := b.Capture(t, "vb")

	// No sleep: with nodad the addresses are usable at once.
	mustOK(t, a.Ping(context.Background(), addrA, addrB))

	packets, err := capture.Packets()
	mustOK(t, err)
	var sawRequest, sawReply bool
	for _, p := range packets {
		if p.NextHeader != netnstest.NextHeaderICMPv6 {
			continue
		}
		sawRequest = sawRequest || (!p.Outgoing && p.Src == addrA && p.Dst == addrB && p.Payload[0] == 128)
		sawReply = sawReply || (p.Outgoing && p.Src == addrB && p.Dst == addrA && p.Payload[0] == 129)
	}
	if !sawRequest || !sawReply {
		t.Errorf("capture saw request=%v reply=%v in %v", sawRequest, sawReply, packets)
	}
}

func TestPingFailsWithoutRoute(t *testing.T) {
	ns := netnstest.New(t, "lonely")
	err := ns.Ping(context.Background(), netip.Addr{}, netip.MustParseAddr("2001:db8:dead::1"))
	if err == nil {
		t.Fatal("ping to an unroutable address succeeded")
	}
}

func TestSysctlAndSnapshotDiff(t *testing.T) {
	ns := netnstest.New(t, "snap")
	mustOK(t, ns.EnableIPv6Forwarding())
	out, err := ns.Exec(context.Background(), "cat", "/proc/sys/net/ipv6/conf/all/forwarding")
	mustOK(t, err)
	if strings.TrimSpace(string(out)) != "1" {
		t.Errorf("forwarding = %q, want 1", out)
	}

	base, err := ns.Snapshot()
	mustOK(t, err)
	mustOK(t, ns.AddAddr("lo", netip.MustParsePrefix("2001:db8:9::1/128")))
	changed, err := ns.Snapshot()
	mustOK(t, err)
	if diff := changed.Diff(base); !strings.Contains(diff, "+ addr 2001:db8:9::1/128") {
		t.Errorf("diff does not show the new address:\n%s", diff)
	}
	if diff := base.Diff(base); diff != "" {
		t.Errorf("snapshot differs from itself:\n%s", diff)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
