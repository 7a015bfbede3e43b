package main

import (
	"context"

	"github.com/mip6mesh/mip6mesh/internal/bench/datapath"
	"github.com/mip6mesh/mip6mesh/internal/bench/handover"
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
		{
			Name: "datapath", Title: "Data path: tunnel vs direct",
			Run:    func(ctx context.Context, env report.Env) (report.Result, error) { return runDatapath(ctx, env) },
			Decode: report.DecodeAs[datapath.Result](),
		},
		{
			Name: "handover", Title: "Handover",
			Run:    func(ctx context.Context, env report.Env) (report.Result, error) { return runHandover(ctx, env) },
			Decode: report.DecodeAs[handover.Result](),
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

// runDatapath and runHandover return what the repetitions that completed
// measured, with the error that stopped the rest.
func runDatapath(ctx context.Context, env report.Env) (report.Result, error) {
	res, err := datapath.Run(ctx, datapath.Config{BinDir: env.BinDir, Dataplane: env.Dataplane, Progress: env.Log})
	if res.Repetitions == 0 {
		return nil, err
	}
	return res, err
}

func runHandover(ctx context.Context, env report.Env) (report.Result, error) {
	res, err := handover.Run(ctx, handover.Config{BinDir: env.BinDir, Dataplane: env.Dataplane, Progress: env.Log})
	if len(res.BreakBeforeMake.Runs) == 0 {
		return nil, err
	}
	return res, err
}
