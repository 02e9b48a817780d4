package web

import (
	"fmt"
	"math"
	"time"

	"decnet/internal/store"
)

// A chart's size in the SVG's own units (its viewBox); the SVG scales to
// the width of its box. Labels live in the HTML caption, not in the SVG,
// so they stay readable when a phone shrinks the drawing.
const (
	chartWidth  = 1000
	chartHeight = 180
	chartPad    = 4 // above the tallest bar and at either end
	// maxBars bounds the bars of a chart: more would be thinner than a
	// pixel on a phone.
	maxBars = 60
)

// barSteps are the widths a chart's bars may have, narrowest first.
var barSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// barStep is the width of a chart's bars over span: the narrowest
// multiple of base that covers span in at most maxBars bars, or a rounder
// width of barSteps up to twice that (30 min rather than 24).
func barStep(span, base time.Duration) time.Duration {
	perBar := (span + maxBars - 1) / maxBars
	least := max(base, (perBar+base-1)/base*base)
	for _, s := range barSteps {
		if s >= least && s <= 2*least && s%base == 0 {
			return s
		}
	}
	return least
}

// alignDown is the start of the step-wide bucket holding t, buckets being
// aligned on the Unix epoch as GET /logs/histogram aligns them.
func alignDown(t time.Time, step time.Duration) time.Time {
	sec := int64(step / time.Second)
	if sec <= 0 {
		return t
	}
	u := t.Unix()
	return time.Unix(u-((u%sec)+sec)%sec, 0).UTC()
}

// chart is a bar chart of log counts over time. Its geometry is computed
// here, once, for every page that shows one (and for the fragment the
// live views fetch to redraw it): the template only places rectangles,
// with SVG presentation attributes, since the CSP forbids style.
type chart struct {
	Width, Height int
	// Base is the y of the time axis.
	Base float64
	Bars []chartBar
	// From and To bound the bars; Step is the width of one bar.
	From, To time.Time
	Step     time.Duration
	// Max is the tallest bar's count, Total the sum of all.
	Max, Total int64
}

// chartBar is one non-empty bar.
type chartBar struct {
	X, Y, W, H float64
	Time       time.Time
	Count      int64
}

// newChart lays out buckets (counts per interval, aligned on the Unix
// epoch, empty ones left out, as GET /logs/histogram answers them) between
// from and to. A zero from starts at the first bucket. When the period
// holds too many intervals for maxBars, neighbouring buckets share a bar.
func newChart(buckets []store.Bucket, from, to time.Time, interval time.Duration) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Base: chartHeight - 1, To: to.UTC()}
	if from.IsZero() && len(buckets) > 0 {
		from = buckets[0].Time
	}
	if from.IsZero() || !to.After(from) || interval <= 0 {
		c.From, c.Step = c.To, max(interval, time.Minute)
		return c
	}
	c.Step = interval
	if to.Sub(from) > interval*(maxBars+1) {
		c.Step = barStep(to.Sub(from), interval)
	}
	c.From = alignDown(from, c.Step)
	n := int((to.Sub(c.From) + c.Step - 1) / c.Step)
	counts := make([]int64, n)
	for _, b := range buckets {
		i := int(b.Time.Sub(c.From) / c.Step)
		if b.Time.Before(c.From) || i >= n {
			continue
		}
		counts[i] += b.Count
		c.Total += b.Count
	}
	for _, k := range counts {
		c.Max = max(c.Max, k)
	}
	c.layout(counts)
	return c
}

// layout places one bar per non-empty slot: heights in proportion to the
// tallest, at least one unit so a lone event still shows.
func (c *chart) layout(counts []int64) {
	if c.Max == 0 {
		return
	}
	slot := float64(c.Width-2*chartPad) / float64(len(counts))
	gap := slot * 0.15
	plot := c.Base - chartPad
	for i, k := range counts {
		if k == 0 {
			continue
		}
		h := max(plot*float64(k)/float64(c.Max), 1)
		c.Bars = append(c.Bars, chartBar{
			X: round2(chartPad + float64(i)*slot + gap/2), W: round2(max(slot-gap, 0.5)),
			Y: round2(c.Base - h), H: round2(h),
			Time: c.From.Add(time.Duration(i) * c.Step), Count: k,
		})
	}
}

// round2 keeps two decimals, so the SVG's numbers stay short.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// StepLabel says how long one bar is: "30 min", "3 h", "1 day".
func (c chart) StepLabel() string {
	switch d := c.Step; {
	case d%(24*time.Hour) == 0:
		if n := int(d / (24 * time.Hour)); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
}

// Label describes the chart for screen readers.
func (c chart) Label() string {
	return fmt.Sprintf("Events per %s from %s to %s: %d in all, at most %d in one bar.",
		c.StepLabel(), c.From.Format("2006-01-02 15:04"), c.To.Format("2006-01-02 15:04 UTC"), c.Total, c.Max)
}
