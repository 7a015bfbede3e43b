package nsexec_test

import (
	"errors"
	"testing"

	"github.com/vishvananda/netns"
	"go.uber.org/goleak"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func current(t *testing.T) netns.NsHandle {
	t.Helper()
	h, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// TestLockedRestoresAfterUnshare: fn moves its thread into a brand-new
// namespace; afterwards the caller's namespace is unchanged.
func TestLockedRestoresAfterUnshare(t *testing.T) {
	before := current(t)
	var inside netns.NsHandle
	err := nsexec.Locked(func() error {
		var err error
		inside, err = netns.New() // unshare(CLONE_NEWNET) on this thread
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inside.Close() })
	if inside.Equal(before) {
		t.Fatal("fn did not get a new namespace")
	}
	if after := current(t); !after.Equal(before) {
		t.Errorf("namespace after Locked is %s, want %s", after, before)
	}

	var seen netns.NsHandle
	if err := nsexec.Run(inside, func() error {
		var err error
		seen, err = netns.Get()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = seen.Close() })
	if !seen.Equal(inside) {
		t.Errorf("Run ran in %s, want %s", seen, inside)
	}
	if after := current(t); !after.Equal(before) {
		t.Errorf("namespace after Run is %s, want %s", after, before)
	}
}

func TestRunPassesErrorsAndRunsInPlaceForNone(t *testing.T) {
	sentinel := errors.New("from fn")
	if err := nsexec.Run(netns.None(), func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Run(None) = %v, want the error of fn", err)
	}
	if err := nsexec.Locked(func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Locked = %v, want the error of fn", err)
	}
}
