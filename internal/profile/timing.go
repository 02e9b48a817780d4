package profile

import (
	"math"
	"slices"
	"strconv"
	"time"

	"decnet/internal/store"
)

// Behaviour classes, as stored in Behavior.BehaviorClass.
const (
	ClassUnknown     = "unknown"
	ClassSlowScan    = "slow_scan"
	ClassScanning    = "scanning"
	ClassBruteForce  = "brute_force"
	ClassBeaconing   = "beaconing"
	ClassInteractive = "interactive"
	ClassMixed       = "mixed"
)

// TimingStats describes the inter-arrival times of events at timestamps
// (in any order; the slice is not modified). The intervals are those
// between consecutive timestamps once sorted, so clock skew between
// producers shows as a short interval, never a negative one. Seconds are
// rounded to 3 decimals and the coefficient of variation to 4, as the
// original did (round half to even on the exact binary value, like
// Python's round). The pointers are nil with fewer than two timestamps;
// CV is also nil when every event shares one instant (mean 0).
func TimingStats(timestamps []time.Time) store.TimingStats {
	st := store.TimingStats{EventCount: int64(len(timestamps))}
	if len(timestamps) < 2 {
		return st
	}
	ts := slices.SortedFunc(slices.Values(timestamps), time.Time.Compare)
	st.DurationS = round(ts[len(ts)-1].Sub(ts[0]).Seconds(), 3)

	iats := make([]float64, len(ts)-1)
	var sum float64
	for i := range iats {
		iats[i] = ts[i+1].Sub(ts[i]).Seconds()
		sum += iats[i]
	}
	mean := sum / float64(len(iats))
	var sq float64
	for _, v := range iats {
		sq += (v - mean) * (v - mean)
	}
	stdev := math.Sqrt(sq / float64(len(iats))) // population, as Python's pstdev
	slices.Sort(iats)
	median := iats[len(iats)/2]
	if len(iats)%2 == 0 {
		median = (iats[len(iats)/2-1] + median) / 2
	}

	st.MeanIATS = ptr(round(mean, 3))
	st.MedianIATS = ptr(round(median, 3))
	st.StdevIATS = ptr(round(stdev, 3))
	st.MinIATS = ptr(round(iats[0], 3))
	st.MaxIATS = ptr(round(iats[len(iats)-1], 3))
	if mean > 0 {
		st.CV = ptr(round(stdev/mean, 4))
	}
	return st
}

// Classify buckets an attacker by the timing of its events and the number
// of distinct services they touched. The rules are the original's, in the
// order it actually evaluates them (its docstring lists another order);
// the first that holds wins:
//
//	unknown      fewer than 3 events, or no mean interval
//	slow_scan    services >= 2, mean >= 10 s, events >= 4
//	scanning     events >= 3 and (services >= 3 and mean < 10 s, or services >= 2 and mean < 2 s)
//	brute_force  services == 1, events >= 8, mean < 5 s, cv < 0.6
//	beaconing    cv < 0.35, mean >= 5 s, events >= 4
//	interactive  cv >= 0.5, mean < 5 s, events >= 6
//	mixed        anything else
//
// The rules that read cv never hold when it is nil.
func Classify(stats store.TimingStats, serviceCount int) string {
	n := stats.EventCount
	if n < 3 || stats.MeanIATS == nil {
		return ClassUnknown
	}
	mean := *stats.MeanIATS
	hasCV := stats.CV != nil
	var cv float64
	if hasCV {
		cv = *stats.CV
	}
	switch {
	case serviceCount >= 2 && mean >= 10 && n >= 4:
		return ClassSlowScan
	case (serviceCount >= 3 && mean < 10) || (serviceCount >= 2 && mean < 2):
		return ClassScanning
	case serviceCount == 1 && n >= 8 && mean < 5 && hasCV && cv < 0.6:
		return ClassBruteForce
	case hasCV && cv < 0.35 && mean >= 5 && n >= 4:
		return ClassBeaconing
	case hasCV && cv >= 0.5 && mean < 5 && n >= 6:
		return ClassInteractive
	default:
		return ClassMixed
	}
}

// round rounds x to places decimals the way Python's round does: the
// exact binary value, ties to even. strconv formats exactly, so parsing
// its output back gives the same float Python would.
func round(x float64, places int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', places, 64), 64) // FormatFloat's output always parses
	return v
}

func ptr[T any](v T) *T { return &v }
