package main

import (
	"context"

	"github.com/mip6mesh/mip6mesh/internal/bench/registration"
	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// suites are the benchmark suites, in the order they run and appear in
// docs/performance.md. A suite plugs in with one entry here (and its
// flags in flags.go); report needs no change.
func suites(o *options) []report.Suite {
	return []report.Suite{
		{
			Name: "registration", Title: "Registration",
			Run:    func(ctx context.Context, env report.Env) (report.Result, error) { return runRegistration(ctx, env, o) },
			Decode: report.DecodeAs[registration.Result](),
		},
	}
}

// suiteNames lists the suites of this build.
func suiteNames() []string {
	var names []string
	for _, s := range suites(&options{}) {
		names = append(names, s.Name)
	}
	return names
}

func runRegistration(ctx context.Context, env report.Env, o *options) (report.Result, error) {
	res, err := registration.Run(ctx, registration.Config{
		BinDir: env.BinDir, Dataplane: env.Dataplane, Steps: o.steps, Samples: o.samples, Window: o.window,
		HALogLevel: o.haLogLevel, Log: env.Log,
	})
	if res == nil {
		return nil, err // not a typed nil in the interface
	}
	return res, err
}
