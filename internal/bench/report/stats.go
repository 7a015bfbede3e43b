package report

import (
	"math"
)

// CDF is an empirical cumulative distribution of latencies: a fraction
// Fraction[i] of the samples took at most Micros[i] µs. Two arrays rather
// than points keep results.json short.
type CDF struct {
	Micros   []float64 `json:"us"`
	Fraction []float64 `json:"f"`
}

// EmpiricalCDF returns the distribution of sorted (ascending, µs) at no
// more than points points, always with the minimum and the maximum.
func EmpiricalCDF(sorted []float64, points int) CDF {
	n := len(sorted)
	if n == 0 || points < 2 {
		return CDF{}
	}
	step := max(1, n/(points-1))
	var c CDF
	for i := 0; i < n; i += step {
		c.Micros = append(c.Micros, round(sorted[i], 2))
		c.Fraction = append(c.Fraction, round(float64(i+1)/float64(n), 4))
	}
	if c.Fraction[len(c.Fraction)-1] < 1 {
		c.Micros = append(c.Micros, round(sorted[n-1], 2))
		c.Fraction = append(c.Fraction, 1)
	}
	return c
}

// Quantile is the nearest-rank q-quantile of sorted (ascending): the
// smallest sample with at least a fraction q of the samples at or below it.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}
