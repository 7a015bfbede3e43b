package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

func parse(args ...string) (config, error) {
	fs := flag.NewFlagSet("mip6demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseFlags(fs, args)
}

func TestTheNSMStoryIsTheDefault(t *testing.T) {
	cfg, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.mode != modeNSM || cfg.interdomain || cfg.keep || cfg.verbose || cfg.binDir != "./bin" {
		t.Errorf("defaults: %+v; want the NSM story in one domain, binaries from ./bin", cfg)
	}
}

func TestFlagsChooseTheStory(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want config
	}{
		{[]string{"--mode", "standalone", "--keep"}, config{binDir: "./bin", mode: modeStandalone, keep: true}},
		{[]string{"--interdomain", "--bin", "/opt/m6"}, config{binDir: "/opt/m6", mode: modeNSM, interdomain: true}},
		{[]string{"--mode=nsm", "--verbose"}, config{binDir: "./bin", mode: modeNSM, verbose: true}},
	} {
		cfg, err := parse(tc.args...)
		if err != nil || cfg != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.args, cfg, err, tc.want)
		}
	}
}

func TestBadFlagsNameTheProblem(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "kubernetes"}, `--mode "kubernetes"`},
		{[]string{"--mode", "standalone", "--interdomain"}, "--interdomain needs --mode nsm"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	} {
		if _, err := parse(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestLogWriterShortensSlogAndDropsSDKLinesUnlessAsked(t *testing.T) {
	lines := []string{
		"[ha-1] time=2026-01-02T15:04:05.123456Z level=INFO msg=\"phase 1\"\n",
		"[mn-1] 2026/11/21 21:36:03 INFO registered over NSM connection care_of=fd00:6d36:1::1\n",
		"[mn-1] Nov 21 21:36:02.932 [ERRO] [id:mn-1-0] Error returned from connect/connectClient.Close\n",
		"[ha-2] 2026/11/21 21:35:58 [WARN]  Environment variable CLUSTER_NAME is not set. Skipping.\n",
	}
	write := func(sdkLines bool) string {
		var out bytes.Buffer
		w := newLogWriter(&out, sdkLines)
		for _, l := range lines {
			if n, err := w.Write([]byte(l)); err != nil || n != len(l) {
				t.Fatalf("Write(%q) = %d, %v", l, n, err)
			}
		}
		return out.String()
	}
	quiet := "    [ha-1] 15:04:05.123 INFO msg=\"phase 1\"\n    " + lines[1]
	if got := write(false); got != quiet {
		t.Errorf("without sdk lines:\n%s\nwant:\n%s", got, quiet)
	}
	verbose := quiet + "    " + lines[2] + "    " + lines[3]
	if got := write(true); got != verbose {
		t.Errorf("with sdk lines:\n%s\nwant:\n%s", got, verbose)
	}
}
