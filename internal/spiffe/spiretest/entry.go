package spiretest

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Entry is a registration entry: the identity a workload matching all the
// selectors gets.
type Entry struct {
	ID        spiffeid.ID
	Selectors []string
}

// PathEntry is the entry for the workload running the binary at path:
// selector unix:path (the agent reads it from /proc/<pid>/exe).
func PathEntry(id spiffeid.ID, binary string) (Entry, error) {
	abs, err := filepath.Abs(binary)
	if err != nil {
		return Entry{}, fmt.Errorf("spiretest: path of %q: %w", binary, err)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved // /proc/<pid>/exe shows the resolved path
	}
	return Entry{ID: id, Selectors: []string{"unix:path:" + abs}}, nil
}

func (e Entry) validate(td spiffeid.TrustDomain) error {
	if e.ID.IsZero() || e.ID.TrustDomain() != td {
		return fmt.Errorf("spiretest: entry ID %q is not in trust domain %s", e.ID.String(), td.Name())
	}
	if len(e.Selectors) == 0 {
		return fmt.Errorf("spiretest: entry %s has no selector", e.ID)
	}
	for _, s := range e.Selectors {
		if strings.Count(s, ":") < 2 {
			return fmt.Errorf("spiretest: entry %s: selector %q is not type:key:value", e.ID, s)
		}
	}
	return nil
}

// simple reports whether spire.WithEntry can carry the entry: one selector
// and no whitespace (its command line is split on spaces).
func (e Entry) simple() bool {
	return len(e.Selectors) == 1 && !strings.ContainsAny(e.Selectors[0], " \t\n'\"\\")
}

// createArgs are the spire-server arguments that create the entry under parent.
func (e Entry) createArgs(parent spiffeid.ID) []string {
	args := []string{"entry", "create", "-parentID", parent.String(), "-spiffeID", e.ID.String()}
	for _, s := range e.Selectors {
		args = append(args, "-selector", s)
	}
	return args
}
