package report

import (
	"errors"
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot size in the document.
const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
)

// ErrNoData is returned for a plot with nothing to draw.
var ErrNoData = errors.New("nothing to plot")

// CDFSeries is one line of a latency CDF plot.
type CDFSeries struct {
	Label string
	CDF   CDF
}

// Mark is a vertical reference line on a latency plot, such as a goal.
type Mark struct {
	Micros float64
	Label  string
}

// LatencyCDF draws the series as cumulative distributions, latency on a
// logarithmic x axis, with the reference lines marks, into the PNG file
// path.
func LatencyCDF(path, title string, series []CDFSeries, marks ...Mark) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "latency (µs, log scale)"
	p.Y.Label.Text = "fraction of samples ≤ latency"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false
	drawn := 0
	for i, s := range series {
		xys := make(plotter.XYs, 0, len(s.CDF.Micros))
		for j, us := range s.CDF.Micros {
			if us > 0 && j < len(s.CDF.Fraction) { // a log axis cannot show 0
				xys = append(xys, plotter.XY{X: us, Y: s.CDF.Fraction[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(s.Label, line)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), ErrNoData)
	}
	for i, m := range marks {
		line, err := plotter.NewLine(plotter.XYs{{X: m.Micros, Y: 0}, {X: m.Micros, Y: 1}})
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		line.Color = color.Gray{Y: uint8(64 + 48*(i%3))}
		line.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
		p.Add(line)
		p.Legend.Add(m.Label, line)
	}
	return save(p, path)
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
}

// BarChart draws bars (for example throughput per path, in yLabel's unit)
// into the PNG file path.
func BarChart(path, title, yLabel string, bars []Bar) error {
	if len(bars) == 0 {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), ErrNoData)
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	values := make(plotter.Values, len(bars))
	labels := make([]string, len(bars))
	for i, b := range bars {
		values[i], labels[i] = b.Value, b.Label
	}
	chart, err := plotter.NewBarChart(values, vg.Centimeter)
	if err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	chart.Color = plotutil.Color(0)
	p.Add(chart)
	p.NominalX(labels...)
	return save(p, path)
}

func save(p *plot.Plot, path string) error {
	wt, err := p.WriterTo(plotWidth, plotHeight, "png")
	if err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	return writeTo(path, wt)
}
