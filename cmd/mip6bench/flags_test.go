package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSteps(t *testing.T) {
	for in, want := range map[string][]int{
		"1,1000,10000":  {1, 1000, 10000},
		"1, 10k ,1m":    {1, 10_000, 1_000_000},
		"100_000,100k":  {100_000},
		"2K,2k,3M":      {2000, 3_000_000},
		"1,1000,10000,": nil,
		"10k,1":         nil,
		"0":             nil,
		"x":             nil,
	} {
		got, err := parseSteps(in)
		if want == nil {
			if err == nil {
				t.Errorf("%q: %v, want an error", in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParseSuites(t *testing.T) {
	got, err := parseSuites("registration, registration")
	if err != nil || !slices.Equal(got, []string{"registration"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseSuites("registration,nosuch"); err == nil || !strings.Contains(err.Error(), "available: registration") {
		t.Errorf("unknown suite: %v", err)
	}
	if _, err := parseSuites(" , "); err == nil {
		t.Error("no suite accepted")
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--suites", "registration", "--steps", "1,10k", "--dataplane", "bpf", "--out", "x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.dataplane != "bpf" || o.out != "x" || !slices.Equal(o.steps, []int{1, 10_000}) || !o.docs {
		t.Errorf("options %+v", o)
	}
	if _, err := parseFlags([]string{"--dataplane", "ip6tnl"}, io.Discard); err == nil {
		t.Error("unknown data plane accepted")
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("a stray argument accepted")
	}
	var help bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "--suites") {
		t.Errorf("--help: %v\n%s", err, help.String())
	}
}

func TestNarratorPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	n := &narrator{w: &out, start: time.Now()}
	_, _ = io.WriteString(n, "one\ntw")
	_, _ = io.WriteString(n, "o\n")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "s] one") || !strings.HasSuffix(lines[1], "s] two") {
		t.Errorf("narration %q", out.String())
	}
}
