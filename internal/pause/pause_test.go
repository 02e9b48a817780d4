package pause

import (
	"context"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	if !For(context.Background(), time.Millisecond) {
		t.Error("a pause with a live context did not run its course")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if For(ctx, time.Hour) {
		t.Error("a cancelled context did not end the pause")
	}
	if For(ctx, 0) {
		t.Error("a cancelled context reported a zero pause as passed")
	}
}

func TestBetween(t *testing.T) {
	lo, hi := 8*time.Millisecond, 13*time.Millisecond
	below := 0
	for range 2000 {
		d := Between(lo, hi)
		if d < lo || d > hi {
			t.Fatalf("%v outside %v..%v", d, lo, hi)
		}
		if d < (lo+hi)/2 {
			below++
		}
	}
	if below == 0 || below == 2000 {
		t.Errorf("no jitter: %d of 2000 below the middle", below)
	}
	for _, tc := range [][3]time.Duration{{5, 5, 5}, {5, 3, 5}, {-1, -2, 0}} {
		if d := Between(tc[0], tc[1]); d != tc[2] {
			t.Errorf("Between(%v, %v) = %v, want %v", tc[0], tc[1], d, tc[2])
		}
	}
}

// TestPAMFailure checks the range and the shape of libpam's draw: a mean
// of three uniforms stays in base/2..3·base/2 and gathers near base (86 %
// of the draws within a quarter of base, where a uniform draw over the
// same range would put half there).
func TestPAMFailure(t *testing.T) {
	base := 2 * time.Second
	near := 0
	const n = 20000
	for range n {
		d := PAMFailure(base)
		if d < base/2 || d > base*3/2 {
			t.Fatalf("%v outside %v..%v", d, base/2, base*3/2)
		}
		if d > base*3/4 && d < base*5/4 {
			near++
		}
	}
	if frac := float64(near) / n; frac < 0.8 || frac > 0.92 {
		t.Errorf("%.2f of the draws within a quarter of base, want about 0.86", frac)
	}
	if PAMFailure(0) != 0 {
		t.Error("no delay asked, yet a pause")
	}
}
