package fleet

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

func TestParseInterval(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // 0: an error
	}{
		{"1m", 1},
		{"30m", 30},
		{"05m", 5},
		{"4h", 240},
		{"1d", 1440},
		{"7d", 10080},
		{"1M", 43200},
		{"1y", 525600},
		{"2Y", 1051200},
		{"100y", MaxInterval},
		{"52560000m", MaxInterval},
		{"0m", 0},
		{"00d", 0},
		{"m", 0},
		{"5", 0},
		{"", 0},
		{"5x", 0},
		{"5H", 0},
		{"5D", 0},
		{"-5m", 0},
		{"+5m", 0},
		{" 5m", 0},
		{"5m ", 0},
		{"5 m", 0},
		{"5mm", 0},
		{"1.5h", 0},
		{"1_000m", 0},
		{"0x10m", 0},
		{"٥m", 0}, // a non-ASCII digit
		{"101y", 0},
		{"52560001m", 0},
		{"9223372036854775807m", 0},
		{"99999999999999999999999m", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseInterval(tc.in)
			if tc.want == 0 {
				if err == nil || !errors.Is(err, ErrInterval) {
					t.Fatalf("ParseInterval(%q) = %d, %v; want an ErrInterval", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseInterval(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

var intervalRE = regexp.MustCompile(`^([0-9]+)([mhdMyY])$`)

// FuzzParseInterval checks that what is accepted has the documented form,
// is in range, and is the count times the unit.
func FuzzParseInterval(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInterval(s)
		if err != nil {
			if !errors.Is(err, ErrInterval) {
				t.Fatalf("error %v does not wrap ErrInterval", err)
			}
			return
		}
		m := intervalRE.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("accepted %q", s)
		}
		if got < 1 || got > MaxInterval {
			t.Fatalf("%q: %d minutes out of range", s, got)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n*units[m[2][0]] != got {
			t.Fatalf("%q: %d minutes", s, got)
		}
	})
}

func TestFormatInterval(t *testing.T) {
	for _, tt := range []struct {
		minutes int
		want    string
	}{
		{1, "1m"}, {59, "59m"}, {60, "1h"}, {90, "90m"}, {1440, "1d"}, {1500, "25h"}, {43200, "1M"},
		{86400, "2M"}, {525600, "1y"}, {525601, "525601m"}, {527040, "366d"}, {MaxInterval, "100y"},
	} {
		if got := FormatInterval(tt.minutes); got != tt.want {
			t.Errorf("FormatInterval(%d) = %q, want %q", tt.minutes, got, tt.want)
		}
	}
	// Every interval reads back as itself, in no more characters than
	// any unit's form.
	for m := 1; m <= MaxInterval; m = m*7/4 + 1 {
		s := FormatInterval(m)
		back, err := ParseInterval(s)
		if err != nil || back != m {
			t.Fatalf("%d -> %q -> %d, %v", m, s, back, err)
		}
		if plain := fmt.Sprintf("%dm", m); len(s) > len(plain) {
			t.Fatalf("%d: %q longer than %q", m, s, plain)
		}
	}
}
