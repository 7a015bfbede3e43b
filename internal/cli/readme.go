package cli

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

var readmeVariable = regexp.MustCompile("^\\| `(NSM_[A-Z_]+)` \\|")

// CheckREADME reports where the table of variables under the heading
// "### <section>" of the README at path differs from spec's variables.
func CheckREADME(path, section string, spec any) error {
	text, err := os.ReadFile(path) //nolint:gosec // the repository's README, named by a test
	if err != nil {
		return err
	}
	_, after, ok := strings.Cut(string(text), "\n### "+section+"\n")
	if !ok {
		return fmt.Errorf("%s has no section %q", path, section)
	}
	after, _, _ = strings.Cut(after, "\n#")
	var documented []string
	for line := range strings.SplitSeq(after, "\n") {
		if m := readmeVariable.FindStringSubmatch(line); m != nil {
			documented = append(documented, m[1])
		}
	}
	want, err := Variables(spec)
	if err != nil {
		return err
	}
	if !slices.Equal(documented, want) {
		return fmt.Errorf("README section %q documents %v, the code has %v", section, documented, want)
	}
	return nil
}
