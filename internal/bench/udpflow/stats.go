package udpflow

import (
	"cmp"
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 to 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It returns the zero value for no values.
func Percentile[T cmp.Ordered](sorted []T, p float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Spread is the smallest, median and largest of a set of repetitions.
type Spread struct {
	Min, Median, Max float64
}

// SpreadOf summarises values (zeros for none). The median of an even
// number of values is the mean of the middle two.
func SpreadOf(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	return Spread{Min: v[0], Median: median(v), Max: v[len(v)-1]}
}

// Median is the median of values (0 for none).
func Median(values []float64) float64 {
	v := slices.Clone(values)
	slices.Sort(v)
	return median(v)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}
