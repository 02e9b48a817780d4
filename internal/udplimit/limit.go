// Package udplimit bounds the work forged UDP sources can draw from a
// honeypot. A UDP source address costs nothing to fake, so a flood (or a
// reflection attack using the decky against a victim) is stopped by a
// datagram rate for each source IP, a total rate, a bound on the sources
// remembered and a bound on the long-lived work (transfers, repeated
// replies) under way, in all and for one source.
package udplimit

import (
	"sync"
	"time"
)

// Limits are the bounds a Limiter applies.
type Limits struct {
	Rate  float64 // datagrams a second from one source IP
	Burst int     // datagrams from one source IP at once
	// GlobalRate and GlobalBurst bound the datagrams from all sources;
	// a GlobalRate of 0 means no such bound.
	GlobalRate  float64
	GlobalBurst int
	MaxSources  int // source IPs remembered at once
	// MaxBusy and MaxBusyPerSource bound the pieces of work under way
	// (Start to Done), in all and from one source IP; a server that never
	// calls Start leaves them 0.
	MaxBusy          int
	MaxBusyPerSource int
}

// Drop is why a datagram or a piece of work was refused; "" admits it.
type Drop string

// The reasons for a refusal. Services put them in their events as they
// are (the strings are what their events have always said), except where
// a service's work has a name of its own (tftp's transfers).
const (
	Rate       Drop = "request rate"        // the source's bucket is empty
	GlobalRate Drop = "total request rate"  // the bucket of all sources is empty
	Sources    Drop = "too many sources"    // the table of sources is full
	Busy       Drop = "too busy"            // MaxBusy pieces of work are under way
	SourceBusy Drop = "too busy for source" // the source has MaxBusyPerSource under way
)

// sweepEvery is how often a full table of sources may be swept for ones to
// forget: a flood of forged sources must not make every datagram cost a
// walk of the table.
const sweepEvery = time.Second

// Limiter applies Limits. It is safe for concurrent use.
type Limiter struct {
	lim Limits

	mu      sync.Mutex
	sources map[string]*source
	global  bucket
	busy    int
	// quiet is set after a drop with no source to remember it by, so that
	// only the first of a run is reported.
	quiet     bool
	lastSweep time.Time
}

// source is what is remembered of one source IP.
type source struct {
	bucket bucket
	busy   int
	// quiet is set after a drop, so that a flood is reported once, not per
	// datagram; the source's next admitted datagram clears it.
	quiet bool
}

// New returns a Limiter that applies lim, with every source's bucket full.
func New(lim Limits) *Limiter {
	return &Limiter{lim: lim, sources: map[string]*source{}}
}

// Admit counts a datagram from ip arriving at now. The Drop is why it must
// go unanswered ("" to serve it); report is true for the first drop of a
// run only, so that a flood costs one event, not one per datagram.
func (l *Limiter) Admit(ip string, now time.Time) (d Drop, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.source(ip, now)
	if s == nil {
		return Sources, once(&l.quiet)
	}
	if l.lim.GlobalRate > 0 && !l.global.take(now, l.lim.GlobalRate, l.lim.GlobalBurst) {
		return GlobalRate, once(&s.quiet)
	}
	if !s.bucket.take(now, l.lim.Rate, l.lim.Burst) {
		return Rate, once(&s.quiet)
	}
	s.quiet, l.quiet = false, false
	return "", false
}

// Spend takes one more token from ip's own bucket, for work a datagram
// admitted just before asks beyond its first (a further question), and
// reports whether there was one. It leaves the global bucket alone, which
// counts datagrams.
func (l *Limiter) Spend(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sources[ip]
	if s == nil || s.bucket.tokens < 1 {
		return false
	}
	s.bucket.tokens--
	return true
}

// Start takes a place for a piece of work for ip (a transfer, a repeated
// reply), which Done gives back; the Drop is why there is none ("" when
// there is). A refusal does not silence the reports of Admit: the caller
// records or skips the work itself, each time.
func (l *Limiter) Start(ip string, now time.Time) Drop {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.source(ip, now)
	switch {
	case s == nil:
		return Sources
	case l.busy >= l.lim.MaxBusy:
		return Busy
	case s.busy >= l.lim.MaxBusyPerSource:
		return SourceBusy
	}
	l.busy++
	s.busy++
	return ""
}

// Done ends a piece of work for ip that Start admitted.
func (l *Limiter) Done(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy--
	if s := l.sources[ip]; s != nil {
		s.busy--
	}
}

// once reports whether a drop is the first of its run, and marks the run.
func once(quiet *bool) bool {
	first := !*quiet
	*quiet = true
	return first
}

// source returns ip's state, making room when the table is full (at most
// once every sweepEvery) by forgetting sources with a full bucket and no
// work under way, which hold nothing worth remembering; nil when there is
// no room. Callers hold l.mu.
func (l *Limiter) source(ip string, now time.Time) *source {
	if s := l.sources[ip]; s != nil {
		return s
	}
	if len(l.sources) >= l.lim.MaxSources {
		if now.Sub(l.lastSweep) < sweepEvery {
			return nil
		}
		l.lastSweep = now
		for k, s := range l.sources {
			if s.busy == 0 && s.bucket.full(now, l.lim.Rate, l.lim.Burst) {
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
