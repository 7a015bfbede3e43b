package vwire

import (
	"fmt"
	"net/url"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsID identifies a network namespace by the device and inode of its nsfs
// file.
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

// openNetNS opens the network namespace a kernel mechanism's file:// NetNSURL
// names.
func openNetNS(rawURL string) (*nsRef, error) {
	path, err := netNSPath(rawURL)
	if err != nil {
		return nil, err
	}
	return openNetNSPath(path)
}

// netNSID returns the identity of the namespace a file:// netns URL names.
func netNSID(rawURL string) (nsID, error) {
	path, err := netNSPath(rawURL)
	if err != nil {
		return nsID{}, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, fmt.Errorf("stat netns %s: %w", path, err)
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

// netNSPath accepts only file:// URLs: an inode:// URL is never resolved
// (by scanning the machine's namespaces), since a mechanism could then name
// any namespace without holding it.
func netNSPath(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadNetNSURL, rawURL, err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("%w %q: want a file:// URL (a descriptor)", ErrBadNetNSURL, rawURL)
	}
	return u.Path, nil
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
