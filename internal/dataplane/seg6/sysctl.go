package seg6

import (
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netns"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// readSysctl reads /proc/sys/<key> in namespace ns ("net/ipv6/conf/all/
// forwarding"; keys are paths, so interface names with dots need no
// escaping). /proc/sys/net shows the namespace of the thread that opens it.
func readSysctl(ns netns.NsHandle, key string) (string, error) {
	var value []byte
	err := nsexec.Run(ns, func() error {
		var err error
		value, err = os.ReadFile("/proc/sys/" + key) //nolint:gosec // G304: a /proc/sys path of our own making
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(value)), nil
}

// writeSysctl writes value to /proc/sys/<key> in namespace ns.
func writeSysctl(ns netns.NsHandle, key, value string) error {
	err := nsexec.Run(ns, func() error {
		f, err := os.OpenFile("/proc/sys/"+key, os.O_WRONLY, 0) //nolint:gosec // G304: as readSysctl
		if err != nil {
			return err
		}
		_, err = f.WriteString(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("write sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// sysctlGuard sets a sysctl of a namespace and puts back the value it
// found. A value that already was what set wants is left alone, and then
// restore does nothing either.
type sysctlGuard struct {
	ns    netns.NsHandle
	key   string
	saved string // the value found, while set's value is in place
}

func (g *sysctlGuard) set(value string) error {
	found, err := readSysctl(g.ns, g.key)
	if err != nil || found == value {
		return err
	}
	if err := writeSysctl(g.ns, g.key, value); err != nil {
		return err
	}
	g.saved = found
	return nil
}

// restore writes the value found back; a key that disappeared (its
// interface was deleted) needs nothing.
func (g *sysctlGuard) restore() error {
	if g.saved == "" {
		return nil
	}
	if err := writeSysctl(g.ns, g.key, g.saved); err != nil && !kernel.IsGone(err) {
		return err
	}
	g.saved = ""
	return nil
}
