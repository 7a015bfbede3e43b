package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// ErrDeleted is returned by methods of a namespace that was deleted.
var ErrDeleted = errors.New("network namespace deleted")

// NS is a named network namespace, visible to `ip netns`, until Delete.
type NS struct {
	name   string
	handle vnetns.NsHandle
	nl     *netlink.Handle

	mu      sync.Mutex
	deleted bool
}

// UniqueName returns prefix followed by six random hex digits.
func UniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b)
}

// Create creates the network namespace name (as `ip netns add` would),
// brings its loopback up and turns IPv6 duplicate address detection off
// for interfaces created later. If a step fails, the namespace is deleted
// again. The caller must Delete it.
func Create(name string) (*NS, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("create netns %q: bad name", name)
	}
	handle, err := createNamed(name)
	if err != nil {
		return nil, fmt.Errorf("create netns %s: %w", name, err)
	}
	ns := &NS{name: name, handle: handle}
	if ns.nl, err = netlink.NewHandleAt(handle); err != nil {
		return nil, errors.Join(fmt.Errorf("netlink handle in %s: %w", name, err), ns.Delete())
	}
	if err := ns.prepare(); err != nil {
		return nil, errors.Join(err, ns.Delete())
	}
	return ns, nil
}

// createNamed creates the namespace on a throw-away thread: netns.NewNamed
// moves the calling thread into the new namespace.
func createNamed(name string) (vnetns.NsHandle, error) {
	handle := vnetns.None()
	err := nsexec.Locked(func() error {
		var err error
		handle, err = vnetns.NewNamed(name)
		return err
	})
	return handle, err
}

func (ns *NS) prepare() error {
	if err := ns.LinkUp("lo"); err != nil {
		return err
	}
	for _, key := range []string{"net.ipv6.conf.all.accept_dad", "net.ipv6.conf.default.accept_dad"} {
		if err := ns.Sysctl(key, "0"); err != nil {
			return err
		}
	}
	return nil
}

// Delete closes the namespace's handles and removes its name; interfaces
// in it (and the other ends of their veth pairs) disappear once no process
// remains inside. Calling Delete again does nothing.
func (ns *NS) Delete() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.deleted {
		return nil
	}
	ns.deleted = true
	if ns.nl != nil {
		ns.nl.Close()
	}
	closeErr := ns.handle.Close()
	if err := vnetns.DeleteNamed(ns.name); err != nil {
		return fmt.Errorf("delete netns %s: %w", ns.name, err)
	}
	if closeErr != nil {
		return fmt.Errorf("close netns %s: %w", ns.name, closeErr)
	}
	return nil
}

// Name is the namespace's name as `ip netns` shows it.
func (ns *NS) Name() string { return ns.name }

// Handle is the namespace's file descriptor; it stays valid until Delete.
func (ns *NS) Handle() vnetns.NsHandle { return ns.handle }

// Netlink is a netlink handle bound to the namespace; closed by Delete.
func (ns *NS) Netlink() *netlink.Handle { return ns.nl }

// Do runs fn with the current OS thread inside the namespace and always
// restores the thread's original namespace (see nsexec.Locked).
func (ns *NS) Do(fn func() error) error {
	ns.mu.Lock()
	deleted := ns.deleted
	ns.mu.Unlock()
	if deleted {
		return fmt.Errorf("%s: %w", ns.name, ErrDeleted)
	}
	return nsexec.Run(ns.handle, fn)
}

// Command returns a command that runs name inside the namespace through
// `ip netns exec`, which execs it: the started process is name itself.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", ns.execArgs(name, args)...) //nolint:gosec // G204: running the caller's command is the point
}

// Exec runs an external command inside the namespace (`ip netns exec`) and
// returns its combined output.
func (ns *NS) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "ip", ns.execArgs(name, args)...).CombinedOutput() //nolint:gosec // G204: as Command
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), ns.name, err, out)
	}
	return out, nil
}

func (ns *NS) execArgs(name string, args []string) []string {
	return append([]string{"netns", "exec", ns.name, name}, args...)
}

// Sysctl writes value to the sysctl key ("net.ipv6.conf.all.forwarding")
// of this namespace.
func (ns *NS) Sysctl(key, value string) error {
	return ns.Do(func() error {
		// The file exists: the mode is never used.
		if err := os.WriteFile(sysctlPath(key), []byte(value), 0o600); err != nil {
			return fmt.Errorf("sysctl %s=%s in %s: %w", key, value, ns.name, err)
		}
		return nil
	})
}

// ReadSysctl reads the sysctl key of this namespace, without the newline.
func (ns *NS) ReadSysctl(key string) (string, error) {
	var value []byte
	err := ns.Do(func() error {
		var err error
		value, err = os.ReadFile(sysctlPath(key))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sysctl %s in %s: %w", key, ns.name, err)
	}
	return strings.TrimSpace(string(value)), nil
}

// sysctlPath maps a key to its file. /proc/sys/net shows the namespace of
// the thread that opens it, which Do arranges.
func sysctlPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// EnableIPv6Forwarding sets net.ipv6.conf.all.forwarding=1.
func (ns *NS) EnableIPv6Forwarding() error {
	return ns.Sysctl("net.ipv6.conf.all.forwarding", "1")
}
