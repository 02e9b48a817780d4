package sip

import (
	"sync"
	"time"
)

// limits bound what UDP requests may draw: a UDP source is cheap to forge,
// so every source IP gets a request rate, and the server a total rate, a
// number of sources remembered and a number of INVITE replies being
// repeated (from one source and in all). A forged source can then draw
// only a few replies, each about the size of its request.
type limits struct {
	Rate        float64 // requests a second from one source IP
	Burst       int
	GlobalRate  float64
	GlobalBurst int
	MaxSources  int
	// MaxRetransmits and MaxRetransmitsPerSource bound the final INVITE
	// replies being repeated until their ACK; past them a reply is sent
	// once.
	MaxRetransmits          int
	MaxRetransmitsPerSource int
}

// defaultLimits let svwar and svcrack run at their default speed (a
// request every few milliseconds in bursts) while a flood is cut short.
func defaultLimits() limits {
	return limits{Rate: 50, Burst: 200, GlobalRate: 2000, GlobalBurst: 4000, MaxSources: 4096,
		MaxRetransmits: 256, MaxRetransmitsPerSource: 4}
}

// Why a request was dropped unanswered.
const (
	dropRate       = "request rate"
	dropGlobalRate = "total request rate"
	dropSources    = "too many sources"
)

// sweepEvery is how often a full table of sources may be swept.
const sweepEvery = time.Second

// limiter applies limits. It is safe for concurrent use.
type limiter struct {
	lim limits

	mu          sync.Mutex
	sources     map[string]*source
	global      bucket
	retransmits int
	quiet       bool
	lastSweep   time.Time
}

type source struct {
	bucket      bucket
	retransmits int
	quiet       bool // a drop was reported; the next admitted request clears it
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

func newLimiter(lim limits) *limiter {
	return &limiter{lim: lim, sources: map[string]*source{}}
}

// admit counts a request from ip. reason is why it must be dropped (""
// to answer it); report is false for the drops after the first of a run.
func (l *limiter) admit(ip string, now time.Time) (reason string, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.source(ip, now)
	if s == nil {
		return dropSources, quietOnce(&l.quiet)
	}
	if !l.global.take(now, l.lim.GlobalRate, l.lim.GlobalBurst) {
		return dropGlobalRate, quietOnce(&s.quiet)
	}
	if !s.bucket.take(now, l.lim.Rate, l.lim.Burst) {
		return dropRate, quietOnce(&s.quiet)
	}
	s.quiet, l.quiet = false, false
	return "", false
}

// startRetransmit takes a place for a repeated reply to ip; doneRetransmit
// gives it back.
func (l *limiter) startRetransmit(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.source(ip, now)
	if s == nil || l.retransmits >= l.lim.MaxRetransmits || s.retransmits >= l.lim.MaxRetransmitsPerSource {
		return false
	}
	l.retransmits++
	s.retransmits++
	return true
}

func (l *limiter) doneRetransmit(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.retransmits--
	if s := l.sources[ip]; s != nil {
		s.retransmits--
	}
}

func quietOnce(q *bool) bool {
	first := !*q
	*q = true
	return first
}

// source returns ip's state, forgetting (at most once every sweepEvery)
// sources with a full bucket and nothing under way; nil when full.
func (l *limiter) source(ip string, now time.Time) *source {
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
			if s.retransmits == 0 && s.bucket.tokens >= float64(l.lim.Burst) {
				delete(l.sources, k)
			}
		}
		if len(l.sources) >= l.lim.MaxSources {
			return nil
		}
	}
	s := &source{}
	l.sources[ip] = s
	return s
}
