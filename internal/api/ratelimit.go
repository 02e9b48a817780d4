package api

import (
	"container/list"
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Failed-login policy. Failures are counted in a sliding window per
// username (whether or not the account exists, so a 429 does not reveal
// which accounts do) and per source address. Once a username has
// maxUserFailures failures in the window, or a source maxSourceFailures,
// further attempts are refused with 429 until the oldest of those
// failures leaves the window; refused attempts are not counted, so
// retrying does not prolong the lock. A successful login clears the
// username's failures but not the source's: one valid account must not
// let a source keep guessing at the others.
//
// The per-username limit lets anyone lock an account for up to a window
// by guessing at it; that is the price of stopping a distributed guesser,
// and the owner learns of it from the audit log.
const (
	loginWindow       = 15 * time.Minute
	maxUserFailures   = 5
	maxSourceFailures = 20
	// maxLimiterKeys bounds each table (about 300 bytes a key): past it
	// the key that failed least recently is forgotten.
	maxLimiterKeys = 10000
)

// Why an attempt was refused, as the audit log says it.
const (
	limitedUser   = "too many failures for this username"
	limitedSource = "too many failures from this source"
)

// loginLimiter counts failed logins per username and per source. It is
// safe for concurrent use.
type loginLimiter struct {
	// now is the clock; tests replace it before serving requests.
	now func() time.Time

	mu      sync.Mutex
	users   failureTable
	sources failureTable
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{
		now:     time.Now,
		users:   newFailureTable(maxUserFailures, maxLimiterKeys),
		sources: newFailureTable(maxSourceFailures, maxLimiterKeys),
	}
}

// loginAttempt is one admitted or refused attempt. An admitted attempt is
// counted as a failure from the start, so concurrent attempts cannot all
// pass the check before any of them fails; succeeded and cancelled take
// it back.
type loginAttempt struct {
	l            *loginLimiter
	user, source string
	at           time.Time
	// wait is how long the caller must wait when refused, 0 when
	// admitted; reason says which limit refused it.
	wait   time.Duration
	reason string
}

// begin admits or refuses an attempt for user from source.
func (l *loginLimiter) begin(source, user string) *loginAttempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	a := &loginAttempt{l: l, user: user, source: source, at: now}
	wu, ws := l.users.wait(user, now), l.sources.wait(source, now)
	switch {
	case wu > 0 && wu >= ws:
		a.wait, a.reason = wu, limitedUser
	case ws > 0:
		a.wait, a.reason = ws, limitedSource
	default:
		l.users.add(user, now)
		l.sources.add(source, now)
	}
	return a
}

// refused reports whether the attempt must be answered 429.
func (a *loginAttempt) refused() bool { return a.wait > 0 }

// retryAfter is the Retry-After value in whole seconds, rounded up.
func (a *loginAttempt) retryAfter() int64 {
	return int64((a.wait + time.Second - 1) / time.Second)
}

// succeeded clears the username's failures and takes back the source's.
func (a *loginAttempt) succeeded() {
	if a.refused() {
		return
	}
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	a.l.users.reset(a.user)
	a.l.sources.remove(a.source, a.at)
}

// cancelled takes the attempt back: it ended before the password was
// judged (store failure, server busy).
func (a *loginAttempt) cancelled() {
	if a.refused() {
		return
	}
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	a.l.users.remove(a.user, a.at)
	a.l.sources.remove(a.source, a.at)
}

// failureTable holds the recent failure times of each key, keys in the
// order they last failed so the stalest is evicted first.
type failureTable struct {
	limit, maxKeys int
	byKey          map[string]*list.Element // of *failures
	order          list.List                // least recently failed first
}

type failures struct {
	key   string
	times []time.Time // oldest first, at most limit
}

func newFailureTable(limit, maxKeys int) failureTable {
	return failureTable{limit: limit, maxKeys: maxKeys, byKey: map[string]*list.Element{}}
}

// live returns key's failures with those outside the window dropped.
func (t *failureTable) live(key string, now time.Time) *failures {
	e, ok := t.byKey[key]
	if !ok {
		return nil
	}
	f := e.Value.(*failures)
	i := 0
	for i < len(f.times) && !f.times[i].After(now.Add(-loginWindow)) {
		i++
	}
	f.times = f.times[i:]
	return f
}

// wait is how long key stays locked: 0 below the limit, else until the
// oldest counted failure leaves the window.
func (t *failureTable) wait(key string, now time.Time) time.Duration {
	f := t.live(key, now)
	if f == nil || len(f.times) < t.limit {
		return 0
	}
	return f.times[len(f.times)-t.limit].Add(loginWindow).Sub(now)
}

// add records a failure of key at now.
func (t *failureTable) add(key string, now time.Time) {
	// Keys whose failures have all expired cost memory for nothing; the
	// stalest are at the front.
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		f := e.Value.(*failures)
		if len(f.times) > 0 && f.times[len(f.times)-1].After(now.Add(-loginWindow)) {
			break
		}
		t.drop(e)
	}
	if f := t.live(key, now); f != nil {
		f.times = append(f.times, now)
		if len(f.times) > t.limit {
			f.times = f.times[len(f.times)-t.limit:]
		}
		t.order.MoveToBack(t.byKey[key])
		return
	}
	if len(t.byKey) >= t.maxKeys {
		t.drop(t.order.Front())
	}
	t.byKey[key] = t.order.PushBack(&failures{key: key, times: []time.Time{now}})
}

// remove takes back one failure of key recorded at at.
func (t *failureTable) remove(key string, at time.Time) {
	e, ok := t.byKey[key]
	if !ok {
		return
	}
	f := e.Value.(*failures)
	for i, ft := range f.times {
		if ft.Equal(at) {
			f.times = append(f.times[:i], f.times[i+1:]...)
			break
		}
	}
	if len(f.times) == 0 {
		t.drop(e)
	}
}

// reset forgets key's failures.
func (t *failureTable) reset(key string) {
	if e, ok := t.byKey[key]; ok {
		t.drop(e)
	}
}

func (t *failureTable) drop(e *list.Element) {
	delete(t.byKey, e.Value.(*failures).key)
	t.order.Remove(e)
}

type sourceKey struct{}

// withSource puts the client's address in the context for the handler
// (huma hides the request). It is the TCP peer: X-Forwarded-For is not
// read, since any client can send it; behind a reverse proxy every login
// therefore shares the proxy's source limit.
func withSource(ctx huma.Context, next func(huma.Context)) {
	next(huma.WithValue(ctx, sourceKey{}, ctx.RemoteAddr()))
}

// sourceOf returns the client address withSource stored: the peer's IP
// without the port, and the key its failures are counted under. IPv6
// clients are counted per /64, the block one host usually holds, so a
// client cannot dodge the limit by hopping addresses within it.
func sourceOf(ctx context.Context) (ip, key string) {
	addr, _ := ctx.Value(sourceKey{}).(string)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		// Not an IP peer (a Unix socket): one shared source.
		return host, host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String(), a.String()
	}
	p, _ := a.Prefix(64)
	return a.String(), p.String()
}
