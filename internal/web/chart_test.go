package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

func TestBarStep(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		span, base, want time.Duration
	}{
		{15 * time.Minute, time.Minute, time.Minute},
		{time.Hour, time.Minute, time.Minute},
		{61 * time.Minute, time.Minute, 2 * time.Minute},
		{24 * time.Hour, time.Minute, 30 * time.Minute},
		{7 * day, time.Minute, 3 * time.Hour},
		{10 * day, day, day},
		{400 * day, day, 7 * day},
		// Beyond the list: the narrowest multiple of base that fits.
		{36500 * day, day, 609 * day},
		// A base the list does not divide: a multiple of it.
		{time.Hour, 7 * time.Minute, 7 * time.Minute},
		{10 * time.Hour, 7 * time.Minute, 14 * time.Minute},
	}
	for _, c := range cases {
		got := barStep(c.span, c.base)
		if got != c.want {
			t.Errorf("barStep(%v, %v) = %v, want %v", c.span, c.base, got, c.want)
		}
		if got%c.base != 0 || c.span > got*maxBars {
			t.Errorf("barStep(%v, %v) = %v: not a multiple of the base or too many bars", c.span, c.base, got)
		}
	}
}

func TestAlignDown(t *testing.T) {
	at := time.Date(2024, 1, 3, 12, 34, 56, 789, time.UTC) // a Wednesday
	cases := []struct {
		step time.Duration
		want time.Time
	}{
		{time.Minute, time.Date(2024, 1, 3, 12, 34, 0, 0, time.UTC)},
		{30 * time.Minute, time.Date(2024, 1, 3, 12, 30, 0, 0, time.UTC)},
		{3 * time.Hour, time.Date(2024, 1, 3, 12, 0, 0, 0, time.UTC)},
		// Weeks start on a Thursday, as 1970-01-01 did (the API's buckets
		// are aligned on the Unix epoch, not on Go's zero time).
		{7 * 24 * time.Hour, time.Date(2023, 12, 28, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := alignDown(at, c.step); !got.Equal(c.want) {
			t.Errorf("alignDown(%v) = %v, want %v", c.step, got, c.want)
		}
	}
}

func TestNewChart(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	step := 15 * time.Minute
	bucket := func(i int, n int64) store.Bucket {
		return store.Bucket{Time: t0.Add(time.Duration(i) * step), Count: n}
	}
	plot := float64(chartHeight-1) - chartPad // the tallest bar's height
	type bar struct {
		slot   int     // the bar's place among the period's slots
		height float64 // as a share of the tallest
	}
	cases := []struct {
		name     string
		buckets  []store.Bucket
		from, to time.Time
		interval time.Duration
		slots    int // how many bars the period has room for
		want     []bar
		max      int64
		total    int64
		step     time.Duration
	}{
		{name: "bars scale to the max", buckets: []store.Bucket{bucket(0, 10), bucket(1, 5), bucket(3, 10)},
			from: t0, to: t0.Add(4 * step), interval: step, slots: 4,
			want: []bar{{0, 1}, {1, 0.5}, {3, 1}}, max: 10, total: 25, step: step},
		{name: "empty buckets leave gaps", buckets: []store.Bucket{bucket(1, 4), bucket(6, 2)},
			from: t0, to: t0.Add(8 * step), interval: step, slots: 8,
			want: []bar{{1, 1}, {6, 0.5}}, max: 4, total: 6, step: step},
		{name: "one bucket fills the chart", buckets: []store.Bucket{bucket(2, 7)},
			to: t0.Add(3 * step), interval: step, slots: 1,
			want: []bar{{0, 1}}, max: 7, total: 7, step: step},
		{name: "no buckets", from: t0, to: t0.Add(4 * step), interval: step, slots: 4, step: step},
		{name: "a lone event among many still shows", buckets: []store.Bucket{bucket(0, 100000), bucket(1, 1)},
			from: t0, to: t0.Add(2 * step), interval: step, slots: 2,
			want: []bar{{0, 1}, {1, 1 / plot}}, max: 100000, total: 100001, step: step},
		{name: "too many intervals share bars", buckets: []store.Bucket{
			{Time: t0, Count: 3}, {Time: t0.Add(time.Minute), Count: 4}, {Time: t0.Add(25 * time.Minute), Count: 7}},
			from: t0, to: t0.Add(10 * time.Hour), interval: time.Minute, slots: 60,
			want: []bar{{0, 1}, {2, 1}}, max: 7, total: 14, step: 10 * time.Minute},
		{name: "a period starting mid-bar starts at the bar", buckets: []store.Bucket{bucket(0, 1)},
			from: t0.Add(5 * time.Minute), to: t0.Add(2 * step), interval: step, slots: 2,
			want: []bar{{0, 1}}, max: 1, total: 1, step: step},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := newChart(c.buckets, c.from, c.to, c.interval)
			if ch.Max != c.max || ch.Total != c.total || ch.Step != c.step {
				t.Fatalf("max %d total %d step %v, want %d %d %v", ch.Max, ch.Total, ch.Step, c.max, c.total, c.step)
			}
			if len(ch.Bars) != len(c.want) {
				t.Fatalf("%d bars, want %d: %+v", len(ch.Bars), len(c.want), ch.Bars)
			}
			slot := float64(chartWidth-2*chartPad) / float64(c.slots)
			for i, w := range c.want {
				b := ch.Bars[i]
				if !near(b.H, max(plot*w.height, 1)) || !near(b.Y+b.H, ch.Base) {
					t.Errorf("bar %d: y %v height %v, want height %v on the axis %v", i, b.Y, b.H, plot*w.height, ch.Base)
				}
				if !near(b.X, chartPad+float64(w.slot)*slot+slot*0.075) || !near(b.W, slot*0.85) {
					t.Errorf("bar %d: x %v width %v, want slot %d of %v", i, b.X, b.W, w.slot, slot)
				}
				if want := ch.From.Add(time.Duration(w.slot) * ch.Step); !b.Time.Equal(want) {
					t.Errorf("bar %d: time %v, want %v", i, b.Time, want)
				}
				if b.X+b.W > chartWidth || b.Y < chartPad-0.01 {
					t.Errorf("bar %d outside the drawing: %+v", i, b)
				}
			}
		})
	}
}

// near compares coordinates, which are rounded to two decimals.
func near(a, b float64) bool { return a-b < 0.011 && b-a < 0.011 }

func TestChartMarkup(t *testing.T) {
	static, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parsePages(static)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		buckets []store.Bucket
		want    []string
		bars    int
	}{
		{"bars", []store.Bucket{{Time: t0, Count: 1234}, {Time: t0.Add(30 * time.Minute), Count: 1}},
			[]string{`<svg class="chart" viewBox="0 0 1000 180" preserveAspectRatio="none" role="img" aria-label="Events per 30 min from 2024-05-01 10:00 to 2024-05-01 12:00 UTC: 1235 in all, at most 1234 in one bar."`,
				`<title>2024-05-01 10:00:00 UTC: 1,234</title>`, `1,235 events`, `at most 1,234 per 30 min`,
				`<time datetime="2024-05-01T10:00:00Z"`}, 2},
		{"empty", nil, []string{`No events from <time datetime="2024-05-01T10:00:00Z"`}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ps["logs"].ExecuteTemplate(&buf, "chart", newChart(c.buckets, t0, t0.Add(2*time.Hour), 30*time.Minute)); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, `<rect class="bar" x=`); n != c.bars {
				t.Errorf("%d bars, want %d", n, c.bars)
			}
			// The CSP has no 'unsafe-inline' for styles: presentation
			// attributes only.
			if strings.Contains(out, "style") {
				t.Errorf("style in the chart:\n%s", out)
			}
		})
	}
}
