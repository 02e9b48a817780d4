package tftp

import (
	"sync"
	"time"
)

// limits bound what requests may take: UDP sources are cheap to forge, so
// every source IP gets a request rate and a number of transfers at once,
// and the server as a whole a rate, a number of transfers and a number of
// sources it remembers. A forged source can then draw at most a few small
// retransmitted packets towards its victim.
type limits struct {
	MaxTransfers int     // transfers at once
	MaxPerSource int     // transfers at once from one source IP
	Rate         float64 // requests a second from one source IP
	Burst        int     // requests from one source IP in a burst
	GlobalRate   float64 // requests a second in all
	GlobalBurst  int
	MaxSources   int // source IPs remembered at once
	// Lifetime is the longest a transfer may last, whatever its timeouts.
	Lifetime time.Duration
}

// defaultLimits let a scanner walk a list of file names at full speed and
// a client fetch a few files at once.
func defaultLimits() limits {
	return limits{
		MaxTransfers: 64, MaxPerSource: 8,
		Rate: 20, Burst: 100, GlobalRate: 500, GlobalBurst: 1000,
		MaxSources: 4096, Lifetime: 10 * time.Minute,
	}
}

// Why a request was dropped unanswered.
const (
	dropRate         = "request rate"
	dropGlobalRate   = "total request rate"
	dropSources      = "too many sources"
	dropTransfers    = "too many transfers"
	dropSrcTransfers = "too many transfers from source"
)

// limiter applies Limits. It is safe for concurrent use.
type limiter struct {
	lim limits
	now func() time.Time

	mu        sync.Mutex
	sources   map[string]*sourceState
	global    bucket
	transfers int
	// quiet is set after a drop with no source to remember it by, so
	// that only the first of a run is reported.
	quiet     bool
	lastSweep time.Time
}

type sourceState struct {
	bucket    bucket
	transfers int
	// quiet is set after a drop, so a flood is reported once, not per
	// datagram; the next admitted request clears it.
	quiet bool
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills at rate up to burst and takes one token.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	b.refill(now, rate, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
}

func newLimiter(lim limits, now func() time.Time) *limiter {
	return &limiter{lim: lim, now: now, sources: map[string]*sourceState{}}
}

// sweepEvery is how often a full table of sources may be swept for ones
// to forget: a flood of forged sources must not make every datagram cost a
// walk of the table.
const sweepEvery = time.Second

// admit counts a request from ip against the rates. reason is why it must
// be dropped ("" to serve it); report is false for the drops after the
// first of a run, which need no event of their own.
func (l *limiter) admit(ip string) (reason string, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s := l.source(ip, now)
	if s == nil {
		return dropSources, l.quietOnce(&l.quiet)
	}
	if !l.global.take(now, l.lim.GlobalRate, l.lim.GlobalBurst) {
		return dropGlobalRate, l.quietOnce(&s.quiet)
	}
	if !s.bucket.take(now, l.lim.Rate, l.lim.Burst) {
		return dropRate, l.quietOnce(&s.quiet)
	}
	s.quiet, l.quiet = false, false
	return "", false
}

// start takes a transfer slot for ip, which done gives back.
func (l *limiter) start(ip string) (reason string, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.source(ip, l.now())
	switch {
	case s == nil:
		return dropSources, l.quietOnce(&l.quiet)
	case l.transfers >= l.lim.MaxTransfers:
		return dropTransfers, l.quietOnce(&s.quiet)
	case s.transfers >= l.lim.MaxPerSource:
		return dropSrcTransfers, l.quietOnce(&s.quiet)
	}
	l.transfers++
	s.transfers++
	return "", false
}

// done ends a transfer of ip.
func (l *limiter) done(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.transfers--
	if s := l.sources[ip]; s != nil {
		s.transfers--
	}
}

func (l *limiter) quietOnce(q *bool) bool {
	first := !*q
	*q = true
	return first
}

// source returns ip's state, making room (at most once every sweepEvery)
// by forgetting sources with no transfer and a full bucket, which hold
// nothing worth remembering; nil when there is no room. Callers hold l.mu.
func (l *limiter) source(ip string, now time.Time) *sourceState {
	if s := l.sources[ip]; s != nil {
		return s
	}
	if len(l.sources) >= l.lim.MaxSources {
		if now.Sub(l.lastSweep) < sweepEvery {
			return nil
		}
		l.lastSweep = now
		for k, s := range l.sources {
			s.bucket.refill(now, l.lim.Rate, l.lim.Burst)
			if s.transfers == 0 && s.bucket.tokens >= float64(l.lim.Burst) {
				delete(l.sources, k)
			}
		}
		if len(l.sources) >= l.lim.MaxSources {
			return nil
		}
	}
	s := &sourceState{}
	l.sources[ip] = s
	return s
}
