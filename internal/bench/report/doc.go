// Package report holds what every benchmark suite shares: the record of a
// run (Run, each suite's result stored as JSON), the History that
// docs/performance.md is generated from, the machine description, the
// project's performance goals judged on the suites' Figures, the
// comparison with the 2022 thesis, and PNG plots (gonum/plot).
//
// A suite plugs in without a change here:
//
//  1. Its result type implements Result: Figures, with the IDs of
//     goals.go for the figures a goal is judged on (FigTunnelThroughput in
//     "%" of the untunnelled path, FigHandoverOutage in "ms"), and
//     Markdown, its section of the document (Table, Assets.Image with
//     LatencyCDF or BarChart).
//  2. cmd/mip6bench lists it in suites.go: a Suite with its Run and
//     Decode: DecodeAs[pkg.Result](). Its flags go in flags.go.
//
// Publish then stores the run in <out>/performance/results.json (the
// latest result of each suite, with the command and machine that produced
// it) and regenerates <out>/performance.md and the plots from that file.
package report
