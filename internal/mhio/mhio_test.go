package mhio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		// CI and the development machines run tests as root; say so
		// instead of silently skipping the real-kernel tests.
		_, _ = os.Stderr.WriteString("mhio: tests need root (network namespaces, raw sockets, nftables)\n")
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// The test topology:
//
//	MN ns                 HA ns                       CN ns
//	mn0 2001:db8:a::2 --- ha0 2001:db8:a::1
//	(care-of address)     ha1 2001:db8:b::1 --- cn0 2001:db8:b::3
//
// The mobile node's home address 2001:db8:100::2 is assigned nowhere: the
// kernel never sees it as a destination, only inside the extension headers.
var (
	careOf   = netip.MustParseAddr("2001:db8:a::2")
	haAddr   = netip.MustParseAddr("2001:db8:a::1")
	haAddrB  = netip.MustParseAddr("2001:db8:b::1")
	cnAddr   = netip.MustParseAddr("2001:db8:b::3")
	homeAddr = netip.MustParseAddr("2001:db8:100::2")
)

// Parameter Problem pointers the kernel uses for our packets: the Home
// Address option type octet (IPv6 header 40 + Next Header, Hdr Ext Len,
// PadN of 4), the routing header's Routing Type, and the IPv6 Next Header.
const (
	pointerHAO         = 46
	pointerRoutingType = 42
	pointerNextHeader  = 6
)

// icmpWindow is how long a test waits to be sure no ICMPv6 error comes.
const icmpWindow = 300 * time.Millisecond

type topology struct{ mn, ha, cn *testNS }

func twoNodes(t testing.TB) topology {
	t.Helper()
	tp := topology{mn: newNS(t, "mn"), ha: newNS(t, "ha")}
	veth(t, tp.mn, "mn0", tp.ha, "ha0")
	tp.mn.addAddr(t, "mn0", "2001:db8:a::2/64")
	tp.ha.addAddr(t, "ha0", "2001:db8:a::1/64")
	staticNeighbours(t, tp.mn, "mn0", careOf, tp.ha, "ha0", haAddr)
	return tp
}

// staticNeighbours spares the tests neighbour discovery: right after an
// address is added the kernel may not have joined its solicited-node group
// yet (a work queue does it), and the first solicitation is then lost and
// repeated only a second later.
func staticNeighbours(t testing.TB, a *testNS, ifA string, addrA netip.Addr, b *testNS, ifB string, addrB netip.Addr) {
	t.Helper()
	a.addNeighbour(t, ifA, addrB, b.linkAddr(t, ifB))
	b.addNeighbour(t, ifB, addrA, a.linkAddr(t, ifA))
}

func threeNodes(t testing.TB) topology {
	t.Helper()
	tp := twoNodes(t)
	tp.cn = newNS(t, "cn")
	veth(t, tp.ha, "ha1", tp.cn, "cn0")
	tp.ha.addAddr(t, "ha1", "2001:db8:b::1/64")
	tp.cn.addAddr(t, "cn0", "2001:db8:b::3/64")
	staticNeighbours(t, tp.ha, "ha1", haAddrB, tp.cn, "cn0", cnAddr)
	tp.ha.sysctl(t, "net.ipv6.conf.all.forwarding", "1")
	tp.mn.addRoute(t, "2001:db8:b::/64", "2001:db8:a::1")
	tp.cn.addRoute(t, "2001:db8:a::/64", "2001:db8:b::1")
	return tp
}

func build(t testing.TB, p mh.Packet, m mh.Message) []byte {
	t.Helper()
	b, err := mh.AppendPacket(nil, &p, m)
	if err != nil {
		t.Fatalf("build %v: %v", m.Type(), err)
	}
	return b
}

func bindingUpdate(t testing.TB, dst netip.Addr) []byte {
	return build(t, mh.Packet{Src: careOf, Dst: dst, HomeAddress: homeAddr},
		&mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 100})
}

func bindingAck(t testing.TB) []byte {
	return build(t, mh.Packet{Src: haAddr, Dst: careOf, RoutingAddress: homeAddr},
		&mh.BindingAck{Status: 0, Sequence: 7, Lifetime: 100})
}

// careOfTestInit is a plain Mobility Header packet: no extension header.
func careOfTestInit(t testing.TB, src, dst netip.Addr, cookie byte) []byte {
	return build(t, mh.Packet{Src: src, Dst: dst}, &mh.CareOfTestInit{Cookie: mh.Cookie{cookie}})
}

func send(t testing.TB, c *mhio.Conn, pkt []byte) {
	t.Helper()
	if err := c.Send(pkt); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// receive waits up to 2 s for the next packet on c.
func receive(t testing.TB, c *mhio.Conn) (mh.Packet, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var p mh.Packet
	buf := make([]byte, 65536)
	n, err := c.Receive(ctx, buf, &p)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("no packet received within 2s")
	}
	return p, buf[:n], err
}

func mustReceive(t testing.TB, c *mhio.Conn) (mh.Packet, []byte) {
	t.Helper()
	p, b, err := receive(t, c)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return p, b
}

// expectNothing asserts that c receives nothing within d.
func expectNothing(t testing.TB, c *mhio.Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var p mh.Packet
	n, err := c.Receive(ctx, make([]byte, 65536), &p)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("received %d octets from %s (err %v), want nothing", n, p.Src, err)
	}
}

func expectNoParamProblem(t testing.TB, w *icmpWatch) {
	t.Helper()
	if pps := w.paramProblems(t, icmpWindow, 0); len(pps) != 0 {
		t.Errorf("kernel answered with %v, want no ICMPv6 error", pps)
	}
}

// expectParamProblem asserts the control case: without mhio the kernel
// answers invoking with this Parameter Problem.
func expectParamProblem(t testing.TB, w *icmpWatch, from netip.Addr, code uint8, pointer uint32, invoking []byte) {
	t.Helper()
	pps := w.paramProblems(t, 2*time.Second, 1)
	if len(pps) != 1 {
		t.Fatalf("got %d parameter problems %v, want one", len(pps), pps)
	}
	got := pps[0]
	if got.from != from || got.code != code || got.pointer != pointer {
		t.Errorf("got %v, want from %s code %d pointer %d", got, from, code, pointer)
	}
	if !bytes.Equal(got.invoking, invoking) {
		t.Errorf("parameter problem quotes %x, want %x", got.invoking, invoking)
	}
}

func TestDetectModeOnThisKernel(t *testing.T) {
	mode, reason := mhio.DetectMode()
	t.Logf("DetectMode: %s: %s", mode, reason)
	if mode != mhio.ModeAFPacket {
		t.Errorf("mode %q, want %q: this kernel has no CONFIG_IPV6_MIP6", mode, mhio.ModeAFPacket)
	}
	if !bytes.Contains([]byte(reason), []byte("without CONFIG_IPV6_MIP6")) {
		t.Errorf("reason %q does not say the kernel lacks CONFIG_IPV6_MIP6", reason)
	}
}

// A Binding Update with a Home Address option reaches the Home Agent, and
// the kernel stays silent; with the Conn closed (no nftables table) the
// kernel answers Parameter Problem code 2 at the option.
func TestBindingUpdateWithHomeAddressOption(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	if ha.Mode() != mhio.ModeAFPacket {
		t.Fatalf("mode %q, want %q", ha.Mode(), mhio.ModeAFPacket)
	}
	icmp := tp.mn.watchICMP(t)
	bu := bindingUpdate(t, haAddr)

	send(t, mn, bu)
	p, b := mustReceive(t, ha)
	if p.Src != careOf || p.HomeAddress != homeAddr || p.Dst != haAddr || p.Header.Type != mh.TypeBindingUpdate {
		t.Errorf("got src %s home %s dst %s type %v, want %s %s %s BU",
			p.Src, p.HomeAddress, p.Dst, p.Header.Type, careOf, homeAddr, haAddr)
	}
	var m mh.BindingUpdate
	if err := m.Unmarshal(p.MH); err != nil || m.Sequence != 7 || m.Flags != mh.FlagA|mh.FlagH || m.Lifetime != 100 {
		t.Errorf("binding update %+v, %v", m, err)
	}
	if !bytes.Equal(b, bu) {
		t.Errorf("received\n%x\nwant\n%x", b, bu)
	}
	expectNoParamProblem(t, icmp)

	if err := ha.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	send(t, mn, bu)
	expectParamProblem(t, icmp, haAddr, mh.CodeUnrecognizedOption, pointerHAO, bu)
}

// A Binding Acknowledgement with a type 2 routing header reaches the mobile
// node; with its Conn closed the kernel answers code 0 at the Routing Type.
func TestBindingAckWithRoutingHeader(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	icmp := tp.ha.watchICMP(t)
	ba := bindingAck(t)

	send(t, ha, ba)
	p, b := mustReceive(t, mn)
	if p.Src != haAddr || p.Dst != careOf || p.RoutingAddress != homeAddr || p.SegmentsLeft != 1 ||
		p.Header.Type != mh.TypeBindingAck {
		t.Errorf("got src %s dst %s routing %s left %d type %v, want %s %s %s 1 BA",
			p.Src, p.Dst, p.RoutingAddress, p.SegmentsLeft, p.Header.Type, haAddr, careOf, homeAddr)
	}
	var m mh.BindingAck
	if err := m.Unmarshal(p.MH); err != nil || m.Sequence != 7 || m.Lifetime != 100 {
		t.Errorf("binding ack %+v, %v", m, err)
	}
	if !bytes.Equal(b, ba) {
		t.Errorf("received\n%x\nwant\n%x", b, ba)
	}
	expectNoParamProblem(t, icmp)

	if err := mn.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	send(t, ha, ba)
	expectParamProblem(t, icmp, careOf, mh.CodeErroneousHeaderField, pointerRoutingType, ba)
}

// A plain Mobility Header packet reaches both the AF_PACKET sockets and the
// kernel's raw IPPROTO_MH delivery; Receive returns it once. Without the
// IPPROTO_MH socket the kernel answers "unrecognized next header".
func TestPlainMobilityHeaderDeliveredOnce(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	icmp := tp.mn.watchICMP(t)
	coti := careOfTestInit(t, careOf, haAddr, 1)

	send(t, mn, coti)
	p, b := mustReceive(t, ha)
	if p.Src != careOf || p.Dst != haAddr || p.Header.Type != mh.TypeCareOfTestInit || !bytes.Equal(b, coti) {
		t.Errorf("got %s > %s %v %x", p.Src, p.Dst, p.Header.Type, b)
	}
	expectNothing(t, ha, icmpWindow)
	expectNoParamProblem(t, icmp)

	if err := ha.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	send(t, mn, coti)
	expectParamProblem(t, icmp, haAddr, mh.CodeUnrecognizedNextHdr, pointerNextHeader, coti)
}

// The Home Agent forwards a Binding Update for a correspondent node, and
// answers a ping; Receive returns neither, only the packet sent to it next.
func TestForwardedAndNonMobilityTrafficIgnored(t *testing.T) {
	tp := threeNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	cn := tp.cn.open(t, mhio.Config{Instance: "cn"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})

	forwarded := bindingUpdate(t, cnAddr)
	send(t, mn, forwarded)
	want := bytes.Clone(forwarded)
	want[7]-- // the home agent decrements the hop limit
	if _, b := mustReceive(t, cn); !bytes.Equal(b, want) {
		t.Errorf("correspondent received %x, want the forwarded binding update %x", b, want)
	}
	if err := tp.mn.ping(haAddr); err != nil {
		t.Fatalf("ping the home agent: %v", err)
	}
	marker := careOfTestInit(t, careOf, haAddr, 0x42)
	send(t, mn, marker)
	if _, b := mustReceive(t, ha); !bytes.Equal(b, marker) {
		t.Errorf("home agent received %x, want only the marker %x", b, marker)
	}
	expectNothing(t, ha, icmpWindow)
}

// With Interfaces set, packets arriving on other interfaces are ignored.
func TestInterfacesRestrictReceive(t *testing.T) {
	tp := threeNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha", Interfaces: []string{"ha1"}})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	cn := tp.cn.open(t, mhio.Config{Instance: "cn"})

	send(t, mn, careOfTestInit(t, careOf, haAddr, 1)) // arrives on ha0
	fromCN := careOfTestInit(t, cnAddr, haAddrB, 2)   // arrives on ha1
	send(t, cn, fromCN)
	if _, b := mustReceive(t, ha); !bytes.Equal(b, fromCN) {
		t.Errorf("received %x, want only the packet that came in on ha1", b)
	}
	expectNothing(t, ha, icmpWindow)
}

// An address added after Open is recognised as local at once.
func TestAddressAddedAfterOpen(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	added := netip.MustParseAddr("2001:db8:a::99")
	// The kernel joins the new address's solicited-node group from a work
	// queue; a static neighbour entry spares the test a 1 s NS retransmit.
	tp.mn.addNeighbour(t, "mn0", added, tp.ha.linkAddr(t, "ha0"))
	tp.ha.addAddr(t, "ha0", "2001:db8:a::99/64")

	coti := careOfTestInit(t, careOf, added, 1)
	send(t, mn, coti)
	if p, _ := mustReceive(t, ha); p.Dst != added {
		t.Errorf("received a packet to %s, want %s", p.Dst, added)
	}
	tp.ha.delAddr(t, "ha0", "2001:db8:a::99/64")
}

// A bad checksum is dropped (the caller's loop goes on); an unknown MH Type
// asks for a Binding Error and comes with the fields to send it.
func TestMalformedMobilityHeader(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})

	bad := careOfTestInit(t, careOf, haAddr, 1)
	bad[40+4] ^= 0xff // the MH checksum
	send(t, mn, bad)
	p, b, err := receive(t, ha)
	if mh.ActionOf(err) != mh.ActionDrop || !errors.Is(err, mh.ErrChecksum) {
		t.Errorf("bad checksum: error %v, want a drop for %v", err, mh.ErrChecksum)
	}
	if !bytes.Equal(b, bad) || p.Src != careOf {
		t.Errorf("bad checksum: got %d octets from %s, want the packet", len(b), p.Src)
	}

	good := careOfTestInit(t, careOf, haAddr, 2)
	send(t, mn, good)
	if _, b := mustReceive(t, ha); !bytes.Equal(b, good) {
		t.Errorf("after a drop: received %x, want %x", b, good)
	}

	unknown := build(t, mh.Packet{Src: careOf, Dst: haAddr, HomeAddress: homeAddr},
		&mh.Unknown{MHType: 42, Data: make([]byte, 10)})
	send(t, mn, unknown)
	p, b, err = receive(t, ha)
	var e *mh.Error
	if !errors.As(err, &e) || e.Action != mh.ActionBindingError || e.Status != mh.ErrorStatusUnknownType {
		t.Fatalf("unknown type: error %v, want a binding error with status %v", err, mh.ErrorStatusUnknownType)
	}
	if p.Src != careOf || p.HomeAddress != homeAddr || p.Dst != haAddr || p.Header.Type != 42 || len(p.MH) != 16 ||
		!bytes.Equal(b, unknown) {
		t.Errorf("unknown type: src %s home %s dst %s type %v mh %d octets", p.Src, p.HomeAddress, p.Dst, p.Header.Type, len(p.MH))
	}
}

// The Home Agent answers a bad Payload Proto with the Parameter Problem
// the decoder asks for, and quotes a long packet only up to 1280 octets.
func TestSendParameterProblem(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	icmp := tp.mn.watchICMP(t)

	pkt := careOfTestInit(t, careOf, haAddr, 1)
	pkt[40] = 17 // Payload Proto must be 59
	fixChecksum(t, pkt)
	send(t, mn, pkt)
	_, b, err := receive(t, ha)
	var e *mh.Error
	if !errors.As(err, &e) || e.Action != mh.ActionParameterProblem {
		t.Fatalf("error %v, want a parameter problem", err)
	}
	if err := ha.SendParameterProblem(b, e.Code, uint32(e.Pointer)); err != nil {
		t.Fatalf("send parameter problem: %v", err)
	}
	expectParamProblem(t, icmp, haAddr, mh.CodeErroneousHeaderField, 40, pkt)

	long := build(t, mh.Packet{Src: careOf, Dst: haAddr}, &mh.Unknown{MHType: 42, Data: make([]byte, 1400)})
	send(t, mn, long)
	_, b, _ = receive(t, ha)
	if err := ha.SendParameterProblem(b, mh.CodeUnrecognizedNextHdr, 6); err != nil {
		t.Fatalf("send parameter problem: %v", err)
	}
	expectParamProblem(t, icmp, haAddr, mh.CodeUnrecognizedNextHdr, 6, long[:1280-48])
}

// fixChecksum recomputes the checksum of the plain Mobility Header at 40.
func fixChecksum(t testing.TB, pkt []byte) {
	t.Helper()
	m := pkt[40:]
	m[4], m[5] = 0, 0
	sum := mh.Checksum(m, careOf, haAddr)
	m[4], m[5] = byte(sum>>8), byte(sum)
}

// Close removes the nftables table, ends a blocked Receive and leaves no
// goroutine; the Conn then refuses everything.
func TestCloseLeavesNothing(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "close"})
	if got := tp.ha.nftTables(t); !got["mip6mesh-close"] {
		t.Fatalf("tables %v lack ip6 mip6mesh-close", got)
	}
	done := make(chan error, 1)
	go func() {
		var p mh.Packet
		_, err := ha.Receive(context.Background(), make([]byte, 2048), &p)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Receive block
	if err := ha.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Receive returned %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a blocked Receive")
	}
	if got := tp.ha.nftTables(t); len(got) != 0 {
		t.Errorf("tables %v left after Close", got)
	}
	if err := ha.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := ha.Send(careOfTestInit(t, haAddr, careOf, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("send after close: %v, want net.ErrClosed", err)
	}
	var p mh.Packet
	if _, err := ha.Receive(context.Background(), make([]byte, 2048), &p); !errors.Is(err, net.ErrClosed) {
		t.Errorf("receive after close: %v, want net.ErrClosed", err)
	}
	goleak.VerifyNone(t)
}

// Cancelling the context ends a blocked Receive; the next one works.
func TestReceiveContextCancel(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha"})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var p mh.Packet
		_, err := ha.Receive(ctx, make([]byte, 2048), &p)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Receive returned %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("cancel did not end a blocked Receive")
	}
	coti := careOfTestInit(t, careOf, haAddr, 1)
	send(t, mn, coti)
	if _, b := mustReceive(t, ha); !bytes.Equal(b, coti) {
		t.Errorf("after cancel: received %x, want %x", b, coti)
	}
	var p mh.Packet
	if _, err := ha.Receive(context.Background(), make([]byte, 100), &p); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("receive into 100 octets: %v, want io.ErrShortBuffer", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	for _, cfg := range []mhio.Config{
		{Instance: ""},
		{Instance: "Upper"},
		{Instance: "with space"},
		{Instance: "a-very-long-instance-name-over-32-chars"},
		{Instance: "ok", Mode: "ebpf"},
		{Instance: "ok", Interfaces: []string{"no-such-if0"}},
	} {
		if c, err := mhio.Open(context.Background(), cfg); !errors.Is(err, mhio.ErrInvalidConfig) {
			t.Errorf("Open(%+v) = %v, want ErrInvalidConfig", cfg, err)
			if c != nil {
				c.Close()
			}
		}
	}
}

// raw_mh mode on this kernel: plain packets reach the raw IPPROTO_MH
// socket, so the recvmsg, ancillary data and rebuild path runs for real.
// Packets with a Home Address option or a type 2 routing header need a
// kernel with CONFIG_IPV6_MIP6 (the qemu test); rawmh_test.go checks their
// rebuilding from hand-built control messages.
func TestRawMHModePlainPacket(t *testing.T) {
	tp := twoNodes(t)
	ha := tp.ha.open(t, mhio.Config{Instance: "ha", Mode: mhio.ModeRawMH})
	mn := tp.mn.open(t, mhio.Config{Instance: "mn"})
	if ha.Mode() != mhio.ModeRawMH {
		t.Fatalf("mode %q, want %q", ha.Mode(), mhio.ModeRawMH)
	}
	if got := tp.ha.nftTables(t); len(got) != 0 {
		t.Errorf("raw_mh mode installed nftables tables %v", got)
	}
	pkt := build(t, mh.Packet{Src: careOf, Dst: haAddr, TrafficClass: 0xb8, FlowLabel: 0xabcde, HopLimit: 200},
		&mh.CareOfTestInit{Cookie: mh.Cookie{7}})
	send(t, mn, pkt)
	p, b := mustReceive(t, ha)
	if !bytes.Equal(b, pkt) {
		t.Errorf("rebuilt\n%x\nwant the packet sent\n%x", b, pkt)
	}
	if p.Src != careOf || p.Dst != haAddr || p.Header.Type != mh.TypeCareOfTestInit {
		t.Errorf("got %s > %s %v", p.Src, p.Dst, p.Header.Type)
	}
	// The kernel checks the checksum itself in this mode: Receive never
	// sees the bad packet, only the good one after it.
	bad := bytes.Clone(pkt)
	bad[40+4] ^= 0xff
	send(t, mn, bad)
	send(t, mn, careOfTestInit(t, careOf, haAddr, 8))
	if p, _ := mustReceive(t, ha); p.Header.Checksum == mh.Checksum(pkt[40:], careOf, haAddr) {
		t.Errorf("received the packet with the bad checksum")
	}
}
