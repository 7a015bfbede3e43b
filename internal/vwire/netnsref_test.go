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

func TestOpenNetNSByFileAndByInode(t *testing.T) {
	ns := netnstest.New(t, "ref")
	path := filepath.Join("/run/netns", ns.Name())
	want := statID(t, path)

	for _, u := range []string{"file://" + path, want.String()} {
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
	}
}

func TestOpenNetNSFindsProcessNamespaces(t *testing.T) {
	// The test process's own namespace has no name in /run/netns: it is
	// found through /proc.
	want := statID(t, "/proc/self/ns/net")
	ref, err := openNetNS(want.String())
	if err != nil {
		t.Fatalf("open %s: %v", want, err)
	}
	defer ref.close()
	if ref.id != want {
		t.Errorf("id %s, want %s", ref.id, want)
	}
}

func TestOpenNetNSErrors(t *testing.T) {
	notNS := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(notNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := fmt.Sprintf("inode://%d/%d", ^uint32(0), ^uint32(0))
	for _, c := range []struct {
		url  string
		want error
	}{
		{"file://" + notNS, ErrNotNetNS},
		{missing, ErrNetNSNotFound},
		{"inode://x/y", ErrBadNetNSURL},
		{"unix:///run/nsm.sock", ErrBadNetNSURL},
	} {
		_, err := openNetNS(c.url)
		if !errors.Is(err, c.want) {
			t.Errorf("open %s: %v, want %v", c.url, err, c.want)
		}
	}
}

func TestOnwardMovesClientEndToItsOwnParameters(t *testing.T) {
	path := "/run/netns/" + netnstest.New(t, "client").Name()
	m := kernel.New("file://" + path)
	kernel.ToMechanism(m).SetInterfaceName("nsm-1")
	request := &networkservice.NetworkServiceRequest{
		Connection:           &networkservice.Connection{Id: "c"},
		MechanismPreferences: []*networkservice.Mechanism{m},
	}
	client, err := clientEndOf(request)
	if err != nil {
		t.Fatal(err)
	}
	first := kernel.ToMechanism(onward(client, ""))
	if first.GetInterfaceName() != "" || first.GetNetNSURL() != "" {
		t.Errorf("onward mechanism keeps interface %q / netns %q; want both cleared", first.GetInterfaceName(), first.GetNetNSURL())
	}
	params := first.GetParameters()
	if params[ClientInterfaceKey] != "nsm-1" || params[ClientNetNSKey] != statID(t, path).String() {
		t.Errorf("onward parameters %v lack the client's end", params)
	}
	if kernel.ToMechanism(m).GetInterfaceName() != "nsm-1" {
		t.Error("onward changed the client's own mechanism")
	}

	// A second forwarder reads the client's end from the parameters.
	next, err := clientEndOf(&networkservice.NetworkServiceRequest{
		Connection: &networkservice.Connection{Id: "c", Mechanism: onward(client, "home-age-1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.ifName != "nsm-1" || next.id != client.id {
		t.Errorf("second hop sees client end %s in %s, want nsm-1 in %s", next.ifName, next.id, client.id)
	}
	if got := kernel.ToMechanism(onward(next, "home-age-1")).GetInterfaceName(); got != "home-age-1" {
		t.Errorf("refresh passes endpoint interface %q, want home-age-1", got)
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
// add are ignored; a mechanism without a namespace must name a forwarded
// end by inode; and no end may be the forwarder's own namespace.
func TestClientCannotNameAnotherNamespace(t *testing.T) {
	own := netnstest.New(t, "client")
	victim := netnstest.New(t, "victim")
	m := kernel.New("file:///run/netns/" + own.Name())
	kernel.ToMechanism(m).SetInterfaceName("nsm-1")
	params := kernel.ToMechanism(m).GetParameters()
	params[ClientNetNSKey] = statID(t, "/run/netns/"+victim.Name()).String()
	params[ClientInterfaceKey] = "evil0"
	c, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: m}})
	if err != nil {
		t.Fatal(err)
	}
	if c.id != statID(t, "/run/netns/"+own.Name()) || c.ifName != "nsm-1" {
		t.Errorf("client end %s in %s; want nsm-1 in the client's own namespace, the parameters ignored", c.ifName, c.id)
	}

	forwarded := kernel.New("")
	kernel.ToMechanism(forwarded).GetParameters()[ClientNetNSKey] = "file:///run/netns/" + victim.Name()
	kernel.ToMechanism(forwarded).GetParameters()[ClientInterfaceKey] = "nsm-1"
	if _, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: forwarded}}); !errors.Is(err, ErrBadNetNSURL) {
		t.Errorf("forwarded end as a file:// URL: %v, want %v", err, ErrBadNetNSURL)
	}

	host := kernel.New("file:///proc/self/ns/net")
	kernel.ToMechanism(host).SetInterfaceName("nsm-1")
	if _, err := clientEndOf(&networkservice.NetworkServiceRequest{Connection: &networkservice.Connection{Id: "c", Mechanism: host}}); !errors.Is(err, ErrOwnNetNS) {
		t.Errorf("client naming the forwarder's own namespace: %v, want %v", err, ErrOwnNetNS)
	}
}
