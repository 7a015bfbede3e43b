// Package nsexec runs code inside a network namespace on a dedicated,
// locked OS thread, and guarantees that no other goroutine ever runs on a
// thread left in a foreign namespace.
package nsexec

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Locked runs fn on a fresh goroutine locked to its OS thread, waits for it,
// and then returns the thread to the network namespace it started in. fn may
// switch namespaces (setns, unshare) freely. If the thread cannot be
// restored, it stays locked and the Go runtime discards it when the
// goroutine exits, so a foreign namespace never leaks to other goroutines.
//
// Goroutines started by fn do not inherit its namespace.
func Locked(fn func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- runLocked(fn) }()
	return <-errc
}

func runLocked(fn func() error) error {
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get current netns: %w", err)
	}
	defer func() { _ = origin.Close() }()

	fnErr := fn()
	if err := netns.Set(origin); err != nil {
		// Keep the thread locked: it dies with this goroutine.
		return errors.Join(fnErr, fmt.Errorf("restore netns: %w", err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

// Run runs fn inside the namespace target (see Locked). A closed handle
// (netns.None()) means the caller's own namespace: fn then runs directly.
func Run(target netns.NsHandle, fn func() error) error {
	if !target.IsOpen() {
		return fn()
	}
	return Locked(func() error {
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("enter netns %s: %w", target, err)
		}
		return fn()
	})
}
