package vwire

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func statID(t *testing.T, path string) nsID {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return nsID{dev: st.Dev, ino: st.Ino}
}

func TestOpenNetNSByFileOnly(t *testing.T) {
	ns := netnstest.New(t, "ref")
	path := filepath.Join("/run/netns", ns.Name())
	want := statID(t, path)

	u := "file://" + path
	ref, err := openNetNS(u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	if ref.id != want {
		t.Errorf("open %s: id %s, want %s", u, ref.id, want)
	}
	ref.close()
	if ref.handle.IsOpen() {
		t.Errorf("close left the handle of %s open", u)
	}
	if id, err := netNSID(u); err != nil || id != want {
		t.Errorf("netNSID(%s) = %s, %v; want %s", u, id, err, want)
	}
	// An inode:// URL names a namespace without holding it: never resolved.
	if ref, err := openNetNS(want.String()); !errors.Is(err, ErrBadNetNSURL) {
		ref.close()
		t.Errorf("open %s: %v, want %v", want, err, ErrBadNetNSURL)
	}
}

func TestOpenNetNSErrors(t *testing.T) {
	notNS := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(notNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		url  string
		want error
	}{
		{"file://" + notNS, ErrNotNetNS},
		{fmt.Sprintf("inode://%d/%d", ^uint32(0), ^uint32(0)), ErrBadNetNSURL},
		{"unix:///run/nsm.sock", ErrBadNetNSURL},
	} {
		_, err := openNetNS(c.url)
		if !errors.Is(err, c.want) {
			t.Errorf("open %s: %v, want %v", c.url, err, c.want)
		}
	}
}

// boundClientEnd is the client end a forwarder reads from a client's own
// mechanism (its namespace as a file:// URL), with a handle issued for it;
// the handle is removed when the test ends.
func boundClientEnd(t *testing.T, m *networkservice.Mechanism) clientEnd {
	t.Helper()
	c, err := clientEndOf(&networkservice.NetworkServiceRequest{
		Connection:           &networkservice.Connection{Id: "c"},
		MechanismPreferences: []*networkservice.Mechanism{m},
	})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := c.bind(clientEnd{})
	if err != nil || !issued {
		t.Fatalf("bind: issued %v, %v", issued, err)
	}
	t.Cleanup(func() { c.unbind(true) })
	return c
}

func TestOnwardCarriesOnlyAHandle(t *testing.T) {
	path := "/run/netns/" + netnstest.New(t, "client").Name()
	m := kernel.New("file://" + path)
	kernel.ToMechanism(m).SetInterfaceName("nsm-1")
	client := boundClientEnd(t, m)
	if len(client.handle) != 32 {
		t.Errorf("handle %q, want 128 bits in hex", client.handle)
	}
	first := kernel.ToMechanism(onward(client, ""))
	if first.GetInterfaceName() != "" || first.GetNetNSURL() != "" {
		t.Errorf("onward mechanism keeps interface %q / netns %q; want both cleared", first.GetInterfaceName(), first.GetNetNSURL())
	}
	params := first.GetParameters()
	if params[ClientEndKey] != client.handle {
		t.Errorf("onward parameters %v lack the client end's handle %q", params, client.handle)
	}
	if kernel.ToMechanism(m).GetInterfaceName() != "nsm-1" || kernel.ToMechanism(m).GetParameters()[ClientEndKey] != "" {
		t.Error("onward changed the client's own mechanism")
	}

	// A second forwarder resolves the handle, and passes the same one on.
	forwarded := &networkservice.NetworkServiceRequest{
		Connection: &networkservice.Connection{Id: "c", Mechanism: onward(client, "home-age-1")},
	}
	next, err := clientEndOf(forwarded)
	if err != nil {
		t.Fatal(err)
	}
	if next.ifName != "nsm-1" || next.id != client.id || next.handle != client.handle || next.owned {
		t.Errorf("second hop sees client end %s in %s (handle %q, owned %v), want nsm-1 in %s, not owned",
			next.ifName, next.id, next.handle, next.owned, client.id)
	}
	if issued, err := next.bind(clientEnd{}); issued || err != nil {
		t.Errorf("second hop bind: issued %v, %v; want the forwarded handle kept", issued, err)
	}
	again := kernel.ToMechanism(onward(next, "home-age-1"))
	if again.GetInterfaceName() != "home-age-1" || again.GetParameters()[ClientEndKey] != client.handle {
		t.Errorf("refresh passes interface %q and handle %q, want home-age-1 and %q",
			again.GetInterfaceName(), again.GetParameters()[ClientEndKey], client.handle)
	}

	client.unbind(true)
	if _, err := clientEndOf(forwarded); !errors.Is(err, ErrUnknownClientEnd) {
		t.Errorf("removed handle: %v, want %v", err, ErrUnknownClientEnd)
	}
}

func TestRefreshReusesTheHandleOfTheSameEnd(t *testing.T) {
	path := "/run/netns/" + netnstest.New(t, "client").Name()
	m := kernel.New("file://" + path)
	kernel.ToMechanism(m).SetInterfaceName("nsm-1")
	first := boundClientEnd(t, m)
	c, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: m}})
	if err != nil {
		t.Fatal(err)
	}
	if issued, err := c.bind(first); issued || err != nil || c.handle != first.handle {
		t.Errorf("refresh bind: issued %v, handle %q, %v; want %q reused", issued, c.handle, err, first.handle)
	}

	kernel.ToMechanism(m).SetInterfaceName("nsm-2")
	other := boundClientEnd(t, m)
	if other.handle == first.handle {
		t.Errorf("another interface got the handle %q of the first", first.handle)
	}
}

func TestClientEndsHoldTheirNamespace(t *testing.T) {
	ns := netnstest.New(t, "held")
	ref, err := openNetNS("file:///run/netns/" + ns.Name())
	if err != nil {
		t.Fatal(err)
	}
	handle, err := clientEnds.add(ref, "nsm-1")
	if err != nil {
		t.Fatal(err)
	}
	dup, err := clientEnds.openNS(handle)
	if err != nil {
		t.Fatal(err)
	}
	clientEnds.remove(handle)
	if ref.handle.IsOpen() {
		t.Error("remove left the entry's namespace open")
	}
	if !dup.handle.IsOpen() || dup.id != ref.id {
		t.Errorf("the duplicate (%s) did not outlive the entry (%s)", dup.id, ref.id)
	}
	dup.close()
	if _, err := clientEnds.openNS(handle); !errors.Is(err, ErrUnknownClientEnd) {
		t.Errorf("open a removed handle: %v, want %v", err, ErrUnknownClientEnd)
	}
}

func TestClientEndRejectsBadInterfaceName(t *testing.T) {
	m := kernel.New("file:///run/netns/" + netnstest.New(t, "client").Name())
	kernel.ToMechanism(m).SetInterfaceName("much-too-long-name0")
	_, err := clientEndOf(&networkservice.NetworkServiceRequest{
		Connection: &networkservice.Connection{Id: "c", Mechanism: m},
	})
	if !errors.Is(err, ErrBadInterfaceName) {
		t.Errorf("error %v, want %v", err, ErrBadInterfaceName)
	}
}

func TestClientEndRequiresKernelMechanism(t *testing.T) {
	_, err := clientEndOf(&networkservice.NetworkServiceRequest{
		Connection: &networkservice.Connection{Id: "c", Mechanism: &networkservice.Mechanism{Type: "MEMIF"}},
	})
	if !errors.Is(err, ErrNoKernelMechanism) {
		t.Errorf("error %v, want %v", err, ErrNoKernelMechanism)
	}
}

// TestClientCannotNameAnotherNamespace: a client's own mechanism carries
// its namespace (its descriptor), so the forwarded-end parameters it may
// add are ignored; a mechanism without a namespace names a forwarded end
// only by a handle a forwarder issued; and no end may be the forwarder's
// own namespace.
func TestClientCannotNameAnotherNamespace(t *testing.T) {
	own := netnstest.New(t, "client")
	victim := netnstest.New(t, "victim")
	victimID := statID(t, "/run/netns/"+victim.Name())
	m := kernel.New("file:///run/netns/" + own.Name())
	kernel.ToMechanism(m).SetInterfaceName("nsm-1")
	params := kernel.ToMechanism(m).GetParameters()
	params[legacyClientNetNSKey] = victimID.String()
	params[legacyClientInterfaceKey] = "evil0"
	params[ClientEndKey] = "00112233445566778899aabbccddeeff"
	c, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: m}})
	if err != nil {
		t.Fatal(err)
	}
	if c.id != statID(t, "/run/netns/"+own.Name()) || c.ifName != "nsm-1" || c.handle != "" {
		t.Errorf("client end %s in %s (handle %q); want nsm-1 in the client's own namespace, the parameters ignored", c.ifName, c.id, c.handle)
	}

	for name, forged := range map[string]map[string]string{
		"made-up handle":      {ClientEndKey: "00112233445566778899aabbccddeeff"},
		"no handle":           {},
		"old inode":           {legacyClientNetNSKey: victimID.String(), legacyClientInterfaceKey: "nsm-1"},
		"old file":            {legacyClientNetNSKey: "file:///run/netns/" + victim.Name(), legacyClientInterfaceKey: "nsm-1"},
		"namespace as handle": {ClientEndKey: victimID.String()},
	} {
		fm := kernel.New("")
		for k, v := range forged {
			kernel.ToMechanism(fm).GetParameters()[k] = v
		}
		_, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: fm}})
		if !errors.Is(err, ErrUnknownClientEnd) {
			t.Errorf("forwarded end with %s: %v, want %v", name, err, ErrUnknownClientEnd)
		}
	}

	host := kernel.New("file:///proc/self/ns/net")
	kernel.ToMechanism(host).SetInterfaceName("nsm-1")
	if _, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: host}}); !errors.Is(err, ErrOwnNetNS) {
		t.Errorf("client naming the forwarder's own namespace: %v, want %v", err, ErrOwnNetNS)
	}
}

// The parameters that named a forwarded client end before handles.
const (
	legacyClientInterfaceKey = "mip6mesh.io/client-interface"
	legacyClientNetNSKey     = "mip6mesh.io/client-netns"
)
