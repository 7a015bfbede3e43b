package netnstest

import (
	"regexp"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netns"
)

// Prefix starts the name of every namespace this package creates.
const Prefix = "m6t-"

var labelPattern = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// NS is a named network namespace owned by one test. The methods of
// netns.NS (AddAddr, AddRoute, LinkUp, Sysctl, Exec, Snapshot, ...) are
// available on it; Capture and Ping are replaced by test-friendly forms.
type NS struct {
	*netns.NS
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
	name := netns.UniqueName(Prefix + label + "-")
	remember(name)
	ns, err := netns.Create(name)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Errorf("netnstest: %v", err)
		}
	})
	return &NS{NS: ns}
}

// Veth creates a veth pair with end nameA in a and end nameB in b and
// brings both ends up. The pair disappears with either namespace.
func Veth(t testing.TB, a, b *NS, nameA, nameB string) {
	t.Helper()
	if err := netns.Veth(a.NS, b.NS, nameA, nameB); err != nil {
		t.Fatalf("netnstest: %v", err)
	}
}
