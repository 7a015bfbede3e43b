package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// commandEnv names the command line to record; bench.sh sets it to its own.
const commandEnv = "MIP6BENCH_COMMAND"

// run runs the chosen suites, then prints and writes the results.
func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	narration := &narrator{w: stderr, start: time.Now()}
	all := suites(o)
	if o.renderOnly {
		doc, err := report.Rerender(o.out, all)
		if err == nil {
			narration.say("rendered %s from %s/%s/%s", doc, o.out, report.AssetsName, report.ResultsName)
		}
		return err
	}
	run := report.NewRun(commandLine(), report.DescribeMachine())
	env := report.Env{BinDir: o.binDir, Dataplane: o.dataplane, Log: narration}
	var failed []string
	for _, s := range all {
		if !slices.Contains(o.suites, s.Name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		narration.say("== suite %s", s.Name)
		if err := run.Execute(ctx, s, env); err != nil {
			narration.say("== suite %s failed: %v", s.Name, err)
			failed = append(failed, s.Name)
		}
	}
	run.Finish()
	interrupted := ctx.Err() != nil
	if err := output(o, run, all, !interrupted, stdout, narration); err != nil {
		return err
	}
	if interrupted {
		return fmt.Errorf("interrupted: namespaces and daemons cleaned up, results not written: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return fmt.Errorf("suites failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// output prints the run, and writes it unless write is false.
func output(o *options, run *report.Run, all []report.Suite, write bool, stdout io.Writer, narration *narrator) error {
	var errs []error
	if write && o.docs && len(run.Suites) > 0 {
		doc, err := report.Publish(o.out, run, all)
		if err != nil {
			errs = append(errs, fmt.Errorf("write results: %w", err))
		} else {
			narration.say("wrote %s and %s/%s/", doc, o.out, report.AssetsName)
		}
	}
	if o.json {
		b, err := json.MarshalIndent(run, "", "  ")
		if err == nil {
			_, err = fmt.Fprintf(stdout, "%s\n", b)
		}
		errs = append(errs, err)
	} else {
		errs = append(errs, report.Summary(stdout, run, all))
	}
	return errors.Join(errs...)
}

func commandLine() string {
	if c := os.Getenv(commandEnv); c != "" {
		return c
	}
	return strings.Join(append([]string{"mip6bench"}, os.Args[1:]...), " ")
}

// narrator writes whole lines to w, each behind the time since the start.
type narrator struct {
	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	partial []byte
}

func (n *narrator) Write(b []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.partial = append(n.partial, b...)
	for {
		i := slices.Index(n.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		_, _ = fmt.Fprintf(n.w, "[%6.1fs] %s\n", time.Since(n.start).Seconds(), n.partial[:i])
		n.partial = n.partial[i+1:]
	}
}

func (n *narrator) say(format string, args ...any) {
	_, _ = fmt.Fprintf(n, format+"\n", args...)
}
