package registration

import (
	"slices"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// cdfPoints is how many points of each latency distribution are kept for
// the plots.
const cdfPoints = 100

// Latency summarises the BU→BA latencies of one kind of Binding Update
// timed at one step, in µs.
type Latency struct {
	Kind    Kind    `json:"kind"`
	Samples int     `json:"samples"`
	Mean    float64 `json:"mean_us"`
	Min     float64 `json:"min_us"`
	P50     float64 `json:"p50_us"`
	P90     float64 `json:"p90_us"`
	P99     float64 `json:"p99_us"`
	Max     float64 `json:"max_us"`
	// CDF is the distribution, for the plots.
	CDF report.CDF `json:"cdf"`
}

// summarize computes the summary of the latencies us (µs); it sorts us.
func summarize(kind Kind, us []float64) Latency {
	l := Latency{Kind: kind, Samples: len(us)}
	if len(us) == 0 {
		return l
	}
	slices.Sort(us)
	var sum float64
	for _, v := range us {
		sum += v
	}
	l.Mean, l.Min, l.Max = sum/float64(len(us)), us[0], us[len(us)-1]
	l.P50, l.P90, l.P99 = report.Quantile(us, 0.50), report.Quantile(us, 0.90), report.Quantile(us, 0.99)
	l.CDF = report.EmpiricalCDF(us, cdfPoints)
	return l
}
