package api

import (
	"math"
	"math/big"
	"testing"
)

// FuzzStreamResume checks the Last-Event-ID parser against big.Int: a
// header is accepted exactly when it is ASCII digits naming an int64, and
// then names that number; an absent header defers to the query value.
func FuzzStreamResume(f *testing.F) {
	for _, seed := range []string{"", "0", "42", "007", "9223372036854775807", "9223372036854775808",
		"-1", "+1", " 1", "1e3", "0x10", "١٢", "99999999999999999999999"} {
		f.Add(seed)
	}
	const query = 7
	maxID := big.NewInt(math.MaxInt64)
	f.Fuzz(func(t *testing.T, header string) {
		got, err := resumePoint(header, query)
		if header == "" {
			if err != nil || got != query {
				t.Fatalf("absent header: %d, %v", got, err)
			}
			return
		}
		digits := true
		for _, c := range []byte(header) {
			digits = digits && c >= '0' && c <= '9'
		}
		want, ok := new(big.Int).SetString(header, 10)
		valid := digits && ok && want.Cmp(maxID) <= 0
		switch {
		case valid && (err != nil || big.NewInt(got).Cmp(want) != 0):
			t.Fatalf("%q: got %d, %v; want %v", header, got, err, want)
		case !valid && err == nil:
			t.Fatalf("%q accepted as %d", header, got)
		}
	})
}
