package udplimit

import "time"

// bucket is a token bucket: it holds up to burst tokens and gains rate a
// second, so a source may send burst datagrams at once and rate a second
// after that.
type bucket struct {
	tokens float64
	last   time.Time // of the last refill; zero for a new, full bucket
}

// take refills the bucket and takes one token, reporting whether there was
// one.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	b.refill(now, rate, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refill adds the tokens gained since the last refill. A clock that steps
// back adds nothing rather than taking tokens away.
func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
}

// full reports whether the bucket holds burst tokens at now: its source
// then has nothing a fresh bucket would not give it back.
func (b *bucket) full(now time.Time, rate float64, burst int) bool {
	b.refill(now, rate, burst)
	return b.tokens >= float64(burst)
}
