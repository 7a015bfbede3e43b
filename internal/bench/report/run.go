package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Result is what a suite measured. Its concrete type is stored as JSON
// (json.Marshal of the value) and read back with Suite.Decode.
type Result interface {
	// Figures are the result's key figures: the goals and the comparison
	// with the 2022 thesis are evaluated from them by ID (see goals.go),
	// and the terminal summary lists them.
	Figures() []Figure
	// Markdown writes the suite's section of docs/performance.md, without
	// its heading. Plots go into assets.Dir and are linked through
	// assets.Link.
	Markdown(w io.Writer, assets Assets) error
}

// Env is what the command hands every suite.
type Env struct {
	// BinDir holds the daemons (nse-homeagent, nsc-mobile), built by bench.sh.
	BinDir string
	// Dataplane is the Home Agent's data-plane driver, passed to it as
	// NSM_DATAPLANE: "seg6" or "bpf".
	Dataplane string
	// Log receives the suite's narration, a line at a time.
	Log io.Writer
}

// Suite is a benchmark suite as the command and the document see it.
type Suite struct {
	// Name selects the suite (--suites) and keys its result in the JSON.
	Name string
	// Title heads the suite's section of the document.
	Title string
	// Run measures. A partial result with an error is kept: both are
	// recorded.
	Run func(ctx context.Context, env Env) (Result, error)
	// Decode reads a stored result back (for documents that keep the
	// figures of suites not run this time); DecodeAs makes one.
	Decode func(json.RawMessage) (Result, error)
}

// DecodeAs returns a Suite.Decode for the result type *T.
func DecodeAs[T any, PT interface {
	*T
	Result
}]() func(json.RawMessage) (Result, error) {
	return func(raw json.RawMessage) (Result, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return PT(&v), nil
	}
}

// Run is one invocation of the command.
type Run struct {
	Machine  Machine   `json:"machine"`
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// LoadAverageEnd is the machine's load average when the run finished
	// (Machine has it at the start).
	LoadAverageEnd string               `json:"load_average_end"`
	Suites         map[string]*SuiteRun `json:"suites"`
}

// Finish records the end of the run.
func (r *Run) Finish() {
	r.Finished = time.Now().UTC()
	r.LoadAverageEnd = LoadAverage()
}

// SuiteRun is one suite's outcome within a Run.
type SuiteRun struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Error says why the suite failed; a partial Result may come with it.
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// NewRun starts the record of an invocation.
func NewRun(command string, machine Machine) *Run {
	return &Run{Machine: machine, Command: command, Started: time.Now().UTC(), Suites: map[string]*SuiteRun{}}
}

// Execute runs s and records its outcome under s.Name.
func (r *Run) Execute(ctx context.Context, s Suite, env Env) error {
	sr := &SuiteRun{Started: time.Now().UTC()}
	res, err := s.Run(ctx, env)
	sr.Finished = time.Now().UTC()
	if res != nil {
		raw, merr := json.Marshal(res)
		if merr != nil {
			err = errors.Join(err, fmt.Errorf("%s: encode result: %w", s.Name, merr))
		}
		sr.Result = raw
	}
	if err != nil {
		sr.Error = err.Error()
	}
	r.Suites[s.Name] = sr
	return err
}

// History is what docs/performance is generated from: the latest outcome
// of each suite, each kept in the Run that produced it, oldest run first.
// A run of some suites replaces only those suites' figures.
type History struct {
	Runs []*Run `json:"runs"`
}

// Add appends r and removes its suites from the older runs; runs left
// without a suite are dropped.
func (h *History) Add(r *Run) {
	for _, old := range h.Runs {
		for name := range r.Suites {
			delete(old.Suites, name)
		}
	}
	h.Runs = slices.DeleteFunc(h.Runs, func(old *Run) bool { return len(old.Suites) == 0 })
	h.Runs = append(h.Runs, r)
}

// Latest returns the newest outcome of the suite name and the run it is from.
func (h *History) Latest(name string) (*Run, *SuiteRun) {
	for _, r := range slices.Backward(h.Runs) {
		if sr, ok := r.Suites[name]; ok {
			return r, sr
		}
	}
	return nil, nil
}

// ReadHistory reads a History written by WriteJSON; a missing file is an
// empty History.
func ReadHistory(path string) (*History, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the caller's results file
	if errors.Is(err, os.ErrNotExist) {
		return &History{}, nil
	}
	if err != nil {
		return nil, err
	}
	var h History
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &h, nil
}

// WriteJSON writes v as indented JSON to path, creating its directory,
// through a temporary file so that a reader never sees half of it. Arrays
// of numbers (distributions) stay on one line.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = numberArray.ReplaceAllFunc(b, func(m []byte) []byte { return bytes.Join(bytes.Fields(m), nil) })
	return writeFile(path, append(b, '\n'))
}

// numberArray matches a JSON array of numbers as MarshalIndent writes it.
var numberArray = regexp.MustCompile(`\[(?:\s*-?[0-9][0-9.eE+-]*,)*\s*-?[0-9][0-9.eE+-]*\s*\]`)

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // G301: a documentation directory, meant to be read
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	// Generated documents are read by everyone, like the sources.
	if err := os.Chmod(tmp, 0o644); err != nil { //nolint:gosec // G302: a document, meant to be read
		return err
	}
	return os.Rename(tmp, path)
}
