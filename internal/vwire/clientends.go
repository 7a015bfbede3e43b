package vwire

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// forwardedEnd is a client's end as the forwarder that received the
// client's descriptor resolved it. Its namespace stays open while the
// entry lives, so that the handle always names the namespace the client
// proved it holds, never one that later reused its inode.
type forwardedEnd struct {
	ns     *nsRef
	ifName string
}

// endTable maps handles to forwarded client ends. It is process-wide
// because the forwarders of all our NSM domains run in one process: a
// handle is a capability only the forwarders can resolve, and a random
// 128-bit one cannot be guessed by a client that makes up a mechanism.
type endTable struct {
	mu   sync.Mutex
	ends map[string]forwardedEnd
}

var clientEnds = &endTable{ends: map[string]forwardedEnd{}}

// add takes ownership of ns and returns the new entry's handle.
func (t *endTable) add(ns *nsRef, ifName string) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("client end handle: %w", err)
	}
	handle := hex.EncodeToString(raw[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ends[handle] = forwardedEnd{ns: ns, ifName: ifName}
	return handle, nil
}

// lookup returns the namespace identity and interface name of handle.
func (t *endTable) lookup(handle string) (nsID, string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.ends[handle]
	if !ok {
		return nsID{}, "", unknownClientEnd(handle)
	}
	return e.ns.id, e.ifName, nil
}

// openNS returns a namespace reference of its own (a duplicate of the
// entry's descriptor) for handle, which the caller closes.
func (t *endTable) openNS(handle string) (*nsRef, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.ends[handle]
	if !ok {
		return nil, unknownClientEnd(handle)
	}
	fd, err := unix.FcntlInt(uintptr(e.ns.handle), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate netns %s of client end %q: %w", e.ns.id, handle, err)
	}
	return &nsRef{handle: vnetns.NsHandle(fd), id: e.ns.id}, nil
}

// remove deletes handle's entry and closes its namespace; an unknown
// handle is left alone.
func (t *endTable) remove(handle string) {
	t.mu.Lock()
	e, ok := t.ends[handle]
	delete(t.ends, handle)
	t.mu.Unlock()
	if ok {
		e.ns.close()
	}
}

func unknownClientEnd(handle string) error {
	return fmt.Errorf("%w %q", ErrUnknownClientEnd, handle)
}
