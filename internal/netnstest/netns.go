package netnstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// Prefix starts the name of every namespace this package creates.
const Prefix = "m6t-"

var labelPattern = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// NS is a named network namespace owned by one test.
type NS struct {
	name   string
	handle netns.NsHandle
	nl     *netlink.Handle
}

// New creates a network namespace named Prefix+label+"-"+random suffix,
// brings its loopback up, turns IPv6 duplicate address detection off for
// interfaces created later, and deletes the namespace when the test ends.
// label is 1 to 12 lowercase letters or digits.
func New(t testing.TB, label string) *NS {
	t.Helper()
	if !labelPattern.MatchString(label) {
		t.Fatalf("netnstest: bad label %q: want %s", label, labelPattern)
	}
	name := Prefix + label + "-" + randomSuffix(t)
	handle, err := createNamed(name)
	if err != nil {
		t.Fatalf("netnstest: create netns %s: %v", name, err)
	}
	remember(name)
	ns := &NS{name: name, handle: handle}
	t.Cleanup(func() {
		if err := ns.delete(); err != nil {
			t.Errorf("netnstest: %v", err)
		}
	})
	if ns.nl, err = netlink.NewHandleAt(handle); err != nil {
		t.Fatalf("netnstest: netlink handle in %s: %v", name, err)
	}
	ns.mustPrepare(t)
	return ns
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("netnstest: random suffix: %v", err)
	}
	return hex.EncodeToString(b)
}

// createNamed creates the namespace on a throw-away thread: netns.NewNamed
// moves the calling thread into the new namespace.
func createNamed(name string) (netns.NsHandle, error) {
	handle := netns.None()
	err := nsexec.Locked(func() error {
		var err error
		handle, err = netns.NewNamed(name)
		return err
	})
	return handle, err
}

func (ns *NS) mustPrepare(t testing.TB) {
	t.Helper()
	lo, err := ns.nl.LinkByName("lo")
	if err == nil {
		err = ns.nl.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("netnstest: loopback up in %s: %v", ns.name, err)
	}
	for _, key := range []string{"net.ipv6.conf.all.accept_dad", "net.ipv6.conf.default.accept_dad"} {
		if err := ns.Sysctl(key, "0"); err != nil {
			t.Fatalf("netnstest: %v", err)
		}
	}
}

func (ns *NS) delete() error {
	if ns.nl != nil {
		ns.nl.Close()
	}
	closeErr := ns.handle.Close()
	if err := netns.DeleteNamed(ns.name); err != nil {
		return fmt.Errorf("delete netns %s: %w", ns.name, err)
	}
	if closeErr != nil {
		return fmt.Errorf("close netns %s: %w", ns.name, closeErr)
	}
	return nil
}

// Name is the namespace's name as `ip netns` shows it.
func (ns *NS) Name() string { return ns.name }

// Handle is the namespace's file descriptor; it stays valid until the test ends.
func (ns *NS) Handle() netns.NsHandle { return ns.handle }

// Netlink is a netlink handle bound to the namespace; closed when the test ends.
func (ns *NS) Netlink() *netlink.Handle { return ns.nl }

// Do runs fn with the current OS thread inside the namespace and always
// restores the thread's original namespace (see nsexec.Locked).
func (ns *NS) Do(fn func() error) error {
	return nsexec.Run(ns.handle, fn)
}

// Exec runs an external command inside the namespace (`ip netns exec`) and
// returns its combined output.
func (ns *NS) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append([]string{"netns", "exec", ns.name, name}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), ns.name, err, out)
	}
	return out, nil
}

// Sysctl writes value to the sysctl key ("net.ipv6.conf.all.forwarding")
// of this namespace.
func (ns *NS) Sysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	return ns.Do(func() error {
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s in %s: %w", key, value, ns.name, err)
		}
		return nil
	})
}

// EnableIPv6Forwarding sets net.ipv6.conf.all.forwarding=1.
func (ns *NS) EnableIPv6Forwarding() error {
	return ns.Sysctl("net.ipv6.conf.all.forwarding", "1")
}
