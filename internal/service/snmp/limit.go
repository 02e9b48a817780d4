package snmp

import (
	"sync"
	"time"
)

// limits bound the work of forged sources: UDP source addresses cost
// nothing to fake, so each source IP gets a request rate, the agent a
// total rate, and the table of sources a size.
type limits struct {
	Rate        float64 // requests a second from one source IP
	Burst       int     // requests from one source IP in a burst
	GlobalRate  float64 // requests a second in all
	GlobalBurst int
	MaxSources  int // source IPs remembered at once
}

// defaultLimits let a walk or a community brute force (onesixtyone sends
// a datagram every 10 ms) run at full speed, and stop a flood.
func defaultLimits() limits {
	return limits{Rate: 200, Burst: 2000, GlobalRate: 2000, GlobalBurst: 5000, MaxSources: 4096}
}

// Why a datagram was dropped unanswered.
const (
	dropRate       = "request rate"
	dropGlobalRate = "total request rate"
	dropSources    = "too many sources"
)

// limiter applies limits; it is safe for concurrent use.
type limiter struct {
	lim limits
	now func() time.Time

	mu        sync.Mutex
	sources   map[string]*sourceState
	global    bucket
	quiet     bool // a drop with no source to remember it by was reported
	lastSweep time.Time
}

type sourceState struct {
	bucket bucket
	quiet  bool // a drop was reported; the next admitted datagram clears it
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

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

// sweepEvery is how often a full table may be swept for idle sources.
const sweepEvery = time.Second

// admit counts a datagram from ip. reason is why it must be dropped (""
// to answer it); report is false for the drops after the first of a run.
func (l *limiter) admit(ip string) (reason string, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s := l.source(ip, now)
	if s == nil {
		return dropSources, once(&l.quiet)
	}
	if !l.global.take(now, l.lim.GlobalRate, l.lim.GlobalBurst) {
		return dropGlobalRate, once(&s.quiet)
	}
	if !s.bucket.take(now, l.lim.Rate, l.lim.Burst) {
		return dropRate, once(&s.quiet)
	}
	s.quiet, l.quiet = false, false
	return "", false
}

func once(q *bool) bool {
	first := !*q
	*q = true
	return first
}

// source returns ip's state, forgetting sources whose bucket is full (at
// most once every sweepEvery) to make room; nil when there is none.
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
			if s.bucket.tokens >= float64(l.lim.Burst) {
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

// loginEvery is how often a session's successful v3 logins are recorded.
const loginEvery = time.Minute

// maxLogins bounds the sessions remembered; the table is emptied when
// full, which at worst records a login again.
const maxLogins = 4096

// logins remembers when a source's user last had an auth event.
type logins struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// first reports whether key's login at now is the first of its minute.
func (l *logins) first(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < loginEvery {
		return false
	}
	if l.last == nil || len(l.last) >= maxLogins {
		l.last = map[string]time.Time{}
	}
	l.last[key] = now
	return true
}
