// Package pause holds the waits of services and workers: a sleep that ends
// with its context, and the randomised pauses real servers take, which a
// fake one must take too (a fixed or missing delay is a tell).
package pause

import (
	"context"
	"math/rand/v2"
	"time"
)

// For waits d, or until ctx ends first: shutting down must not wait on
// attackers or retries. It reports whether the whole of d passed.
func For(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Between draws a pause uniformly from [lo, hi] (lo when hi <= lo).
func Between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return max(lo, 0)
	}
	return lo + rand.N(hi-lo+1)
}

// PAMFailure is the pause Linux-PAM puts after a failed authentication
// whose modules asked for base (pam_unix and pam_faildelay: 2 s), drawn
// as libpam's _pam_compute_delay draws it: base times one plus the mean of
// three uniform draws less one half, so from base/2 to 3·base/2, most
// often near base.
func PAMFailure(base time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	sum := rand.Float64() + rand.Float64() + rand.Float64()
	return time.Duration(float64(base) * (1 + sum/3 - 0.5))
}
