package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mip6mesh/mip6mesh/internal/bench/registration"
)

// options are the command's flags.
type options struct {
	renderOnly bool
	suites     []string
	dataplane  string
	binDir     string
	out        string
	docs       bool
	json       bool

	// registration
	steps      []int
	samples    int
	window     int
	haLogLevel string
}

const usageText = `mip6bench runs the benchmark suites against the real nse-homeagent in network
namespaces (root needed), prints the figures, writes them to
<out>/performance/results.json and regenerates <out>/performance.md and its
plots. Run it through bench.sh, which builds the binaries first:

  sudo ./bench.sh                                   every suite, default steps
  sudo ./bench.sh --suites registration --steps 1,1000,10000

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mip6bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(stderr, usageText)
		fs.PrintDefaults()
	}
	suites := fs.String("suites", strings.Join(suiteNames(), ","), "suites to run, comma separated: "+strings.Join(suiteNames(), ", "))
	steps := fs.String("steps", joinInts(registration.DefaultSteps), "registration: live-binding counts to measure at, ascending (k and m suffixes: 10k, 1m)")
	fs.StringVar(&o.dataplane, "dataplane", "seg6", "the Home Agent's data-plane driver, passed as NSM_DATAPLANE: "+strings.Join(registration.Dataplanes, " or "))
	fs.StringVar(&o.binDir, "bin", "bin", "directory holding nse-homeagent and nsc-mobile")
	fs.StringVar(&o.out, "out", "docs", "directory for performance.md and performance/ (results.json, plots)")
	fs.BoolVar(&o.docs, "docs", true, "write results.json and regenerate performance.md; false: print only")
	fs.BoolVar(&o.renderOnly, "render-only", false, "measure nothing: regenerate performance.md and its plots from results.json")
	fs.BoolVar(&o.json, "json", false, "print this run's JSON on stdout instead of the text summary")
	fs.IntVar(&o.samples, "samples", registration.DefaultSamples, "registration: BUs of each kind timed one at a time per step")
	fs.IntVar(&o.window, "window", registration.DefaultWindow, "registration: BUs in flight while filling bindings")
	fs.StringVar(&o.haLogLevel, "ha-log-level", registration.DefaultHALogLevel, "NSM_LOG_LEVEL of the Home Agent (accepted BUs log at DEBUG)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	var err error
	if o.suites, err = parseSuites(*suites); err != nil {
		return nil, err
	}
	if o.steps, err = parseSteps(*steps); err != nil {
		return nil, err
	}
	if !slices.Contains(registration.Dataplanes, o.dataplane) {
		return nil, fmt.Errorf("--dataplane %q: want %s", o.dataplane, strings.Join(registration.Dataplanes, " or "))
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("needs root (network namespaces, raw sockets): sudo ./bench.sh")
	}
	return o, nil
}

func parseSuites(s string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(suiteNames(), name) {
			return nil, fmt.Errorf("--suites: %q is not in this build (available: %s)", name, strings.Join(suiteNames(), ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--suites: none given")
	}
	return out, nil
}

// parseSteps reads "1,1000,10k,1m".
func parseSteps(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		mult := 1
		switch {
		case strings.HasSuffix(f, "k"):
			f, mult = strings.TrimSuffix(f, "k"), 1_000
		case strings.HasSuffix(f, "m"):
			f, mult = strings.TrimSuffix(f, "m"), 1_000_000
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--steps: %q is not a positive count", f)
		}
		out = append(out, n*mult)
	}
	if !slices.IsSorted(out) {
		return nil, fmt.Errorf("--steps %s: want ascending counts", s)
	}
	return slices.Compact(out), nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
