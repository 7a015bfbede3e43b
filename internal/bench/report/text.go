package report

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Summary writes a plain-text summary of run for the terminal: each
// suite's outcome and figures, then the goals judged on them.
func Summary(w io.Writer, run *Run, suites []Suite) error {
	e := NewErrWriter(w)
	figs := map[string]Figure{}
	e.Printf("\n== %s\n", run.Command)
	e.Printf("   %s\n", run.Machine)
	for _, s := range suites {
		sr, ok := run.Suites[s.Name]
		if !ok {
			continue
		}
		took := sr.Finished.Sub(sr.Started).Round(time.Second)
		if sr.Error != "" {
			e.Printf("\n-- %s: FAILED after %v: %s\n", s.Name, took, sr.Error)
		} else {
			e.Printf("\n-- %s: done in %v\n", s.Name, took)
		}
		if len(sr.Result) == 0 {
			continue
		}
		res, err := s.Decode(sr.Result)
		if err != nil {
			e.Printf("   result unreadable: %v\n", err)
			continue
		}
		for _, f := range res.Figures() {
			figs[f.ID] = f
			e.Printf("   %-58s %s%s\n", f.Label, f, noteText(f))
		}
	}
	e.Printf("\n-- goals (this run)\n")
	for _, v := range Evaluate(figs) {
		if v.State == NotMeasured && !slices.ContainsFunc(suites, func(s Suite) bool { _, ran := run.Suites[s.Name]; return ran && s.Name == v.Goal.Suite }) {
			continue // the suite did not run
		}
		e.Printf("   %-12s %s %s: %s\n", v.State, v.Goal.Text, v.Goal.TargetText(), v.Margin)
	}
	return e.Err()
}

func noteText(f Figure) string {
	if f.Note == "" {
		return ""
	}
	return fmt.Sprintf(" (%s)", f.Note)
}
