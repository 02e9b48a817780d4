package snmp

import (
	"sync"
	"time"

	"decnet/internal/udplimit"
)

// defaultLimits let a walk or a community brute force (onesixtyone sends
// a datagram every 10 ms) run at full speed, and stop a flood: UDP source
// addresses cost nothing to fake, so each source IP gets a request rate,
// the agent a total rate, and the table of sources a size.
func defaultLimits() udplimit.Limits {
	return udplimit.Limits{Rate: 200, Burst: 2000, GlobalRate: 2000, GlobalBurst: 5000, MaxSources: 4096}
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
