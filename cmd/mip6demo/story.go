package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// story is where a demo is told: numbered step headings and indented
// lines. Both stories (standalone and NSM) print through it.
type story struct {
	out    io.Writer
	steps  int   // how many numbered steps the story has
	step   int   // the current one
	outErr error // the first error writing to out
}

func (s *story) heading(title string) {
	s.step++
	s.banner(fmt.Sprintf("%d/%d  %s", s.step, s.steps, title))
}

func (s *story) banner(title string) {
	line := "=== " + title + " "
	s.printf("\n%s%s\n\n", line, strings.Repeat("=", max(3, 78-len(line))))
}

func (s *story) say(format string, args ...any) {
	if format == "" {
		s.printf("\n")
		return
	}
	s.printf("    "+format+"\n", args...)
}

// printf writes to the story's output; the first write error is kept in
// outErr, and nothing more is written after it.
func (s *story) printf(format string, args ...any) {
	if s.outErr == nil {
		_, s.outErr = fmt.Fprintf(s.out, format, args...)
	}
}

// failed tells how the story ended early.
func (s *story) failed(err error) {
	s.printf("\n!!! %v\n!!! stopping the daemons and deleting the namespaces\n", err)
}

// writeErr is the error writing the story, if any, ready to join.
func (s *story) writeErr() error {
	if s.outErr != nil {
		return fmt.Errorf("writing the story: %w", s.outErr)
	}
	return nil
}

// tell runs the story's phases in order and stops at the first that
// fails; with keep it then waits for Ctrl-C (keepRunning), and it shuts
// down within shutdownWithin, even after Ctrl-C during --keep: that is
// what --keep waits for.
func (s *story) tell(ctx context.Context, phases []func(context.Context) error, keep bool,
	keepRunning func(context.Context), shutdown func(context.Context) error) error {
	for _, phase := range phases {
		if err := phase(ctx); err != nil {
			return interrupted(ctx, s, err)
		}
	}
	if keep {
		keepRunning(ctx)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWithin)
	defer cancel()
	return shutdown(shutdownCtx)
}

// commands lists shell commands to try, each with an optional comment.
func (s *story) commands(cmds [][2]string) {
	for _, c := range cmds {
		if c[1] != "" {
			c[1] = "# " + c[1]
		}
		s.say("%-64s %s", c[0], c[1])
	}
}
