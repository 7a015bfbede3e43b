package vwire

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/edwarnicke/grpcfd"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsID identifies a network namespace by the device and inode of its nsfs
// file, as grpcfd's inode:// URLs do.
type nsID struct{ dev, ino uint64 }

func (id nsID) String() string { return fmt.Sprintf("inode://%d/%d", id.dev, id.ino) }

// nsRef is an open network namespace. Holding the descriptor keeps the
// namespace (and so the identity of its inode) alive until close: a vWire
// is never deleted from an unrelated namespace that reused the inode.
type nsRef struct {
	handle vnetns.NsHandle
	id     nsID
}

func (r *nsRef) close() {
	if r != nil && r.handle.IsOpen() {
		_ = r.handle.Close() // nothing useful to do if closing a namespace descriptor fails
		r.handle = vnetns.None()
	}
}

// openNetNS opens the network namespace a kernel mechanism's NetNSURL names.
func openNetNS(rawURL string) (*nsRef, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadNetNSURL, rawURL, err)
	}
	switch u.Scheme {
	case "file":
		return openNetNSPath(u.Path)
	case "inode":
		dev, ino, err := grpcfd.URLToDevIno(u)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrBadNetNSURL, rawURL, err)
		}
		return findNetNS(nsID{dev: dev, ino: ino})
	default:
		return nil, fmt.Errorf("%w %q: want file:// or inode://", ErrBadNetNSURL, rawURL)
	}
}

// netNSID returns the identity of the namespace a netns URL names, without
// searching for it when the URL is an inode:// URL.
func netNSID(rawURL string) (nsID, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nsID{}, fmt.Errorf("%w %q: %w", ErrBadNetNSURL, rawURL, err)
	}
	switch u.Scheme {
	case "file":
		var st unix.Stat_t
		if err := unix.Stat(u.Path, &st); err != nil {
			return nsID{}, fmt.Errorf("stat netns %s: %w", u.Path, err)
		}
		return nsID{dev: st.Dev, ino: st.Ino}, nil
	case "inode":
		dev, ino, err := grpcfd.URLToDevIno(u)
		if err != nil {
			return nsID{}, fmt.Errorf("%w %q: %w", ErrBadNetNSURL, rawURL, err)
		}
		return nsID{dev: dev, ino: ino}, nil
	default:
		return nsID{}, fmt.Errorf("%w %q: want file:// or inode://", ErrBadNetNSURL, rawURL)
	}
}

func openNetNSPath(path string) (*nsRef, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", path, err)
	}
	ref := &nsRef{handle: vnetns.NsHandle(fd)}
	nsType, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil || nsType != unix.CLONE_NEWNET {
		ref.close()
		return nil, fmt.Errorf("%w: %s", ErrNotNetNS, path)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		ref.close()
		return nil, fmt.Errorf("stat netns %s: %w", path, err)
	}
	ref.id = nsID{dev: st.Dev, ino: st.Ino}
	return ref, nil
}

// findNetNS looks for a network namespace with the given identity among
// the descriptors of this process, the named namespaces and the namespaces
// of every process. All of these are on this machine: an inode:// URL from
// another machine is never found.
func findNetNS(id nsID) (*nsRef, error) {
	for _, path := range netNSCandidates() {
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil || st.Dev != id.dev || st.Ino != id.ino {
			continue
		}
		ref, err := openNetNSPath(path)
		if err == nil && ref.id == id {
			return ref, nil
		}
		ref.close()
	}
	return nil, fmt.Errorf("%w: %s", ErrNetNSNotFound, id)
}

func netNSCandidates() []string {
	var paths []string
	paths = append(paths, ownNetNSDescriptors()...)
	named, _ := filepath.Glob("/run/netns/*") // a bad pattern is the only error
	paths = append(paths, named...)
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	return append(paths, procs...)
}

// ownNetNSDescriptors lists the namespace descriptors this process holds,
// such as those grpcfd received: the cheapest place to find a namespace.
func ownNetNSDescriptors() []string {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var paths []string
	for _, e := range entries {
		path := filepath.Join("/proc/self/fd", e.Name())
		target, err := os.Readlink(path)
		if err == nil && strings.HasPrefix(target, "net:[") {
			paths = append(paths, path)
		}
	}
	return paths
}

// notOwnNetNS refuses id when it is this process's own network namespace:
// a mechanism naming it (a client that sent /proc/1/ns/net, say) would
// have the forwarder put interfaces, addresses and routes into the host.
func notOwnNetNS(id nsID) error {
	own, err := netNSID("file:///proc/self/ns/net")
	if err != nil {
		return err
	}
	if id == own {
		return fmt.Errorf("%w (%s)", ErrOwnNetNS, id)
	}
	return nil
}
