package fleet

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInterval is wrapped by every rejected interval.
var ErrInterval = errors.New("invalid mutation interval")

// MaxInterval is the longest interval, in minutes (100 years): longer ones
// would overflow a time.Duration, and mean "never", which is said otherwise.
const MaxInterval = 100 * 525600

// units are the original's duration units in minutes, plus h.
var units = map[byte]int{'m': 1, 'h': 60, 'd': 1440, 'M': 43200, 'y': 525600, 'Y': 525600}

// ParseInterval reads the API's duration strings, "<n><unit>": a positive
// decimal count and one unit, m (minute), h (hour), d (day), M (30 days)
// or y/Y (365 days), with nothing around them. It returns minutes, at most
// MaxInterval; errors wrap ErrInterval.
func ParseInterval(s string) (int, error) {
	bad := func(why string) (int, error) {
		return 0, fmt.Errorf("%w %q: %s", ErrInterval, s, why)
	}
	if len(s) < 2 {
		return bad("want a count and a unit, e.g. 30m, 4h, 7d, 1M or 1y")
	}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return bad("the unit must be m, h, d, M or y")
	}
	digits := s[:len(s)-1]
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return bad("the count must be a whole number of digits")
		}
	}
	n, err := strconv.Atoi(digits)
	switch {
	case err != nil || n > MaxInterval/unit:
		return bad("longer than 100 years")
	case n == 0:
		return bad("the count must be at least 1")
	}
	return n * unit, nil
}

// intervalUnits are the units of FormatInterval besides minutes, largest
// first; M is 30 days and y 365, as ParseInterval reads them.
var intervalUnits = []struct {
	minutes int
	unit    string
}{{525600, "y"}, {43200, "M"}, {1440, "d"}, {60, "h"}}

// FormatInterval writes minutes in the largest unit that divides them,
// the shortest form ParseInterval reads back to the same minutes.
func FormatInterval(minutes int) string {
	for _, u := range intervalUnits {
		if minutes%u.minutes == 0 {
			return strconv.Itoa(minutes/u.minutes) + u.unit
		}
	}
	return strconv.Itoa(minutes) + "m"
}
