package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"decnet/internal/event"
)

// The environment variables of the collector's rate limit, as the original
// named them.
const (
	EnvRateLimitWindow = "DECNET_COLLECTOR_RL_WINDOW_SEC"
	EnvRateLimitTypes  = "DECNET_COLLECTOR_RL_EVENT_TYPES"
)

// DefaultRateLimit returns the original's limit: connection bookkeeping
// events repeated within one second are noise from scanners and reconnect
// loops.
func DefaultRateLimit() RateLimit {
	return RateLimit{
		Window: time.Second,
		Types:  []string{"connect", "disconnect", "connection", "accept", "close"},
	}
}

const (
	// rateLimitMaxKeys bounds the limiter's memory whatever the number of
	// attackers.
	rateLimitMaxKeys = 10000
	// rateLimitKeepWindows is how many windows an entry is kept once the
	// map is full; older entries no longer decide anything.
	rateLimitKeepWindows = 60
)

// RateLimit says which events the collector drops as repeats: an event whose
// type is in Types when the same (attacker_ip, decky, service, event_type)
// was let through less than Window ago. A Window of zero or less disables it.
type RateLimit struct {
	Window time.Duration
	Types  []string
}

// RateLimitFromEnv reads DECNET_COLLECTOR_RL_WINDOW_SEC (seconds, fractions
// allowed, default 1; zero or less disables) and
// DECNET_COLLECTOR_RL_EVENT_TYPES (comma-separated event types, default
// connect,disconnect,connection,accept,close). An empty variable counts as
// unset.
func RateLimitFromEnv(getenv func(string) string) (RateLimit, error) {
	rl := DefaultRateLimit()
	if v := strings.TrimSpace(getenv(EnvRateLimitWindow)); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
			return RateLimit{}, fmt.Errorf("%s=%q: want a number of seconds such as 1 or 0.5", EnvRateLimitWindow, v)
		}
		if sec > float64(math.MaxInt64)/float64(time.Second) {
			return RateLimit{}, fmt.Errorf("%s=%q: window too long", EnvRateLimitWindow, v)
		}
		rl.Window = max(time.Duration(sec*float64(time.Second)), 0)
	}
	if v := getenv(EnvRateLimitTypes); strings.TrimSpace(v) != "" {
		rl.Types = rl.Types[:0]
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "" || strings.ContainsFunc(t, unicode.IsSpace) {
				return RateLimit{}, fmt.Errorf("%s=%q: want event types separated by commas, such as connect,disconnect", EnvRateLimitTypes, v)
			}
			rl.Types = append(rl.Types, t)
		}
	}
	return rl, nil
}

// RateLimiter applies a RateLimit. It is safe for concurrent use.
type RateLimiter struct {
	window time.Duration
	forget time.Duration // entry age past which a full map drops it
	types  map[string]bool

	mu     sync.Mutex
	last   map[rateKey]time.Time
	purged time.Time
}

type rateKey struct{ attacker, decky, service, typ string }

// NewRateLimiter returns a limiter for rl.
func NewRateLimiter(rl RateLimit) *RateLimiter {
	l := &RateLimiter{window: rl.Window, forget: math.MaxInt64, types: make(map[string]bool, len(rl.Types)), last: map[rateKey]time.Time{}}
	if rl.Window <= math.MaxInt64/rateLimitKeepWindows {
		l.forget = rateLimitKeepWindows * rl.Window
	}
	for _, t := range rl.Types {
		l.types[t] = true
	}
	return l
}

// Allow reports whether rec should be kept at time now, and if so remembers
// it. When the limiter already tracks its maximum of keys and none is old
// enough to forget, a new key is let through unrecorded: under a flood of
// distinct attackers the limiter fails open rather than dropping events.
func (l *RateLimiter) Allow(rec event.Record, now time.Time) bool {
	if l.window <= 0 || !l.types[rec.EventType] {
		return true
	}
	k := rateKey{rec.AttackerIP, rec.Decky, rec.Service, rec.EventType}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[k]; ok {
		if now.Sub(t) < l.window {
			return false
		}
		l.last[k] = now
		return true
	}
	if len(l.last) >= rateLimitMaxKeys {
		// Scanning the full map costs 10,000 steps: do it at most once a
		// window so a flood of new keys cannot turn it into a busy loop.
		if now.Sub(l.purged) < l.window {
			return true
		}
		l.purged = now
		for key, t := range l.last {
			if now.Sub(t) > l.forget {
				delete(l.last, key)
			}
		}
		if len(l.last) >= rateLimitMaxKeys {
			return true
		}
	}
	l.last[k] = now
	return true
}
