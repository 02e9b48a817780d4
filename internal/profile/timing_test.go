package profile

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"decnet/internal/store"
)

// times returns t0 followed by the instants the intervals lead to.
func times(intervals ...time.Duration) []time.Time {
	out := []time.Time{t0}
	for _, d := range intervals {
		out = append(out, out[len(out)-1].Add(d))
	}
	return out
}

func f(v float64) *float64 { return &v }

// Expected values are the original's timing_stats on the same intervals.
func TestTimingStats(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		in   []time.Time
		want store.TimingStats
	}{
		{"none", nil, store.TimingStats{}},
		{"one", times(), store.TimingStats{EventCount: 1}},
		{"two", times(1500 * ms), store.TimingStats{EventCount: 2, DurationS: 1.5,
			MeanIATS: f(1.5), MedianIATS: f(1.5), StdevIATS: f(0), MinIATS: f(1.5), MaxIATS: f(1.5), CV: f(0)}},
		{"odd count, population stdev", times(time.Second, 2*time.Second, 4*time.Second), store.TimingStats{EventCount: 4, DurationS: 7,
			MeanIATS: f(2.333), MedianIATS: f(2), StdevIATS: f(1.247), MinIATS: f(1), MaxIATS: f(4), CV: f(0.5345)}},
		{"even count, median averaged", times(100*ms, 200*ms, 300*ms, 400*ms), store.TimingStats{EventCount: 5, DurationS: 1,
			MeanIATS: f(0.25), MedianIATS: f(0.25), StdevIATS: f(0.112), MinIATS: f(0.1), MaxIATS: f(0.4), CV: f(0.4472)}},
		{"sub-millisecond rounding", times(400*time.Microsecond, 600*time.Microsecond), store.TimingStats{EventCount: 3, DurationS: 0.001,
			MeanIATS: f(0.001), MedianIATS: f(0.001), StdevIATS: f(0), MinIATS: f(0), MaxIATS: f(0.001), CV: f(0.2)}},
		{"one instant: no cv", []time.Time{t0, t0, t0}, store.TimingStats{EventCount: 3,
			MeanIATS: f(0), MedianIATS: f(0), StdevIATS: f(0), MinIATS: f(0), MaxIATS: f(0)}},
		{"unsorted input", []time.Time{at(3 * time.Second), t0, at(time.Second)}, store.TimingStats{EventCount: 3, DurationS: 3,
			MeanIATS: f(1.5), MedianIATS: f(1.5), StdevIATS: f(0.5), MinIATS: f(1), MaxIATS: f(2), CV: f(0.3333)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := TimingStats(in)
			if !equalStats(got, tt.want) {
				t.Errorf("TimingStats = %s, want %s", statsString(got), statsString(tt.want))
			}
			if !slices.Equal(in, tt.in) {
				t.Error("TimingStats reordered its input")
			}
		})
	}
}

func equalStats(a, b store.TimingStats) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.EventCount == b.EventCount && a.DurationS == b.DurationS && eq(a.MeanIATS, b.MeanIATS) &&
		eq(a.MedianIATS, b.MedianIATS) && eq(a.StdevIATS, b.StdevIATS) && eq(a.MinIATS, b.MinIATS) &&
		eq(a.MaxIATS, b.MaxIATS) && eq(a.CV, b.CV)
}

func statsString(s store.TimingStats) string {
	p := func(v *float64) any {
		if v == nil {
			return "nil"
		}
		return *v
	}
	return fmt.Sprint("{n=", s.EventCount, " dur=", s.DurationS, " mean=", p(s.MeanIATS), " median=", p(s.MedianIATS),
		" stdev=", p(s.StdevIATS), " min=", p(s.MinIATS), " max=", p(s.MaxIATS), " cv=", p(s.CV), "}")
}

// Python's round: the exact binary value, ties to even.
func TestRound(t *testing.T) {
	tests := []struct {
		x      float64
		places int
		want   float64
	}{
		{2.675, 2, 2.67}, // 2.67499999…
		{0.125, 2, 0.12}, // exact tie, to even
		{0.375, 2, 0.38}, // exact tie, to even
		{0.0005, 3, 0.001},
		{1.0005, 3, 1}, // 1.000499999…
		{0.24 * 100, 2, 24},
		{59.99951, 3, 60},
	}
	for _, tt := range tests {
		if got := round(tt.x, tt.places); got != tt.want {
			t.Errorf("round(%v, %d) = %v, want %v", tt.x, tt.places, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	st := func(n int64, mean, cv *float64) store.TimingStats {
		return store.TimingStats{EventCount: n, MeanIATS: mean, CV: cv}
	}
	tests := []struct {
		name  string
		stats store.TimingStats
		svc   int
		want  string
	}{
		{"two events", st(2, f(1), f(0)), 1, ClassUnknown},
		{"no mean", st(5, nil, nil), 3, ClassUnknown},
		{"slow scan", st(4, f(10), f(0.1)), 2, ClassSlowScan},
		{"slow scan before scanning", st(4, f(10), f(2)), 5, ClassSlowScan},
		{"slow scan needs 4 events", st(3, f(10), f(0.1)), 3, ClassMixed},
		{"slow scan needs mean 10, else beaconing", st(4, f(9.999), f(0.1)), 2, ClassBeaconing},
		{"scanning: 3 services under 10 s", st(3, f(9.999), f(1)), 3, ClassScanning},
		{"scanning: 2 services under 2 s", st(3, f(1.999), f(1)), 2, ClassScanning},
		{"2 services at 2 s is not scanning", st(3, f(2), f(1)), 2, ClassMixed},
		{"scanning before brute force", st(50, f(0.5), f(0.1)), 2, ClassScanning},
		{"brute force", st(8, f(4.999), f(0.599)), 1, ClassBruteForce},
		{"brute force needs 8 events", st(7, f(1), f(0.1)), 1, ClassMixed},
		{"brute force needs cv under 0.6", st(8, f(1), f(0.6)), 1, ClassInteractive},
		{"brute force needs a cv", st(8, f(0), nil), 1, ClassMixed},
		{"brute force before beaconing", st(8, f(4.999), f(0.1)), 1, ClassBruteForce},
		{"beaconing", st(4, f(5), f(0.349)), 1, ClassBeaconing},
		{"beaconing needs cv under 0.35", st(4, f(5), f(0.35)), 1, ClassMixed},
		{"beaconing needs 4 events", st(3, f(60), f(0.1)), 1, ClassMixed},
		{"beaconing with no service count", st(4, f(60), f(0.1)), 0, ClassBeaconing},
		{"interactive", st(6, f(4.999), f(0.5)), 1, ClassInteractive},
		{"interactive needs 6 events", st(5, f(1), f(0.9)), 1, ClassMixed},
		{"interactive needs mean under 5", st(6, f(5), f(0.9)), 1, ClassMixed},
		{"mixed", st(10, f(30), f(0.5)), 1, ClassMixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.stats, tt.svc); got != tt.want {
				t.Errorf("Classify = %q, want %q", got, tt.want)
			}
		})
	}
}
