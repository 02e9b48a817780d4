package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

// limiterAt is a limiter on a clock the test moves.
func limiterAt(t *testing.T) (*loginLimiter, *settableClock) {
	t.Helper()
	clk := newSettableClock()
	l := newLoginLimiter()
	l.now = clk.now
	return l, clk
}

// failN records n failed attempts of user from source, a step apart.
func failN(t *testing.T, l *loginLimiter, clk *settableClock, source, user string, n int, step time.Duration) {
	t.Helper()
	for i := range n {
		if a := l.begin(source, user); a.refused() {
			t.Fatalf("attempt %d of %s from %s refused: %s", i+1, user, source, a.reason)
		}
		clk.advance(step)
	}
}

func TestLoginLimiterPolicy(t *testing.T) {
	tests := []struct {
		name string
		// run drives the limiter and returns the attempt to judge.
		run        func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt
		wait       time.Duration // 0: admitted
		reason     string
		retryAfter int64
	}{
		{name: "four user failures admit a fifth", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 4, time.Minute)
			return l.begin("192.0.2.1", "alice")
		}},
		{name: "five user failures lock until the first leaves the window", wait: 10 * time.Minute, reason: limitedUser, retryAfter: 600,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				failN(t, l, clk, "192.0.2.1", "alice", 5, time.Minute)
				return l.begin("192.0.2.1", "alice")
			}},
		{name: "the user lock holds from any source", wait: 10 * time.Minute, reason: limitedUser, retryAfter: 600,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				for i := range 5 {
					failN(t, l, clk, fmt.Sprintf("192.0.2.%d", i+1), "alice", 1, time.Minute)
				}
				return l.begin("198.51.100.7", "alice")
			}},
		{name: "the window slides", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 5, time.Minute)
			clk.advance(10 * time.Minute)
			return l.begin("192.0.2.1", "alice")
		}},
		{name: "one slot frees as one failure leaves", wait: time.Minute, reason: limitedUser, retryAfter: 60,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				failN(t, l, clk, "192.0.2.1", "alice", 5, time.Minute)
				clk.advance(10 * time.Minute)
				failN(t, l, clk, "192.0.2.1", "alice", 1, 0)
				return l.begin("192.0.2.1", "alice")
			}},
		{name: "refused attempts do not prolong the lock", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 5, time.Minute)
			for range 50 {
				if !l.begin("192.0.2.1", "alice").refused() {
					t.Fatal("locked user admitted")
				}
				clk.advance(10 * time.Second)
			}
			clk.advance(10*time.Minute - 500*time.Second)
			return l.begin("192.0.2.1", "alice")
		}},
		{name: "success clears the user's failures", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 4, time.Second)
			l.begin("192.0.2.1", "alice").succeeded()
			failN(t, l, clk, "192.0.2.1", "alice", 4, time.Second)
			return l.begin("192.0.2.1", "alice")
		}},
		{name: "cancelled attempts are taken back", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 4, time.Second)
			for range 10 {
				l.begin("192.0.2.1", "alice").cancelled()
			}
			return l.begin("192.0.2.1", "alice")
		}},
		{name: "usernames are exact", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			failN(t, l, clk, "192.0.2.1", "alice", 5, time.Second)
			return l.begin("192.0.2.2", "Alice")
		}},
		{name: "twenty source failures lock the source", wait: 15*time.Minute - 20*time.Second, reason: limitedSource, retryAfter: 880,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				for i := range 20 {
					failN(t, l, clk, "192.0.2.1", fmt.Sprintf("user%d", i), 1, time.Second)
				}
				return l.begin("192.0.2.1", "someone-new")
			}},
		{name: "a success does not clear the source", wait: 15*time.Minute - 20*time.Second, reason: limitedSource, retryAfter: 880,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				for i := range 19 {
					failN(t, l, clk, "192.0.2.1", fmt.Sprintf("user%d", i), 1, time.Second)
				}
				l.begin("192.0.2.1", "alice").succeeded()
				failN(t, l, clk, "192.0.2.1", "user19", 1, time.Second)
				return l.begin("192.0.2.1", "alice")
			}},
		{name: "other sources are not locked", run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
			for i := range 20 {
				failN(t, l, clk, "192.0.2.1", fmt.Sprintf("user%d", i), 1, time.Second)
			}
			return l.begin("192.0.2.2", "someone-new")
		}},
		{name: "both locked: the longer wait", wait: 15*time.Minute - 5*time.Second, reason: limitedUser, retryAfter: 895,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				for i := range 15 {
					failN(t, l, clk, "192.0.2.1", fmt.Sprintf("user%d", i), 1, time.Second)
				}
				failN(t, l, clk, "192.0.2.1", "alice", 5, time.Second)
				return l.begin("192.0.2.1", "alice")
			}},
		{name: "Retry-After rounds up", wait: 15*time.Minute - 4*time.Second - 500*time.Millisecond, reason: limitedUser, retryAfter: 896,
			run: func(t *testing.T, l *loginLimiter, clk *settableClock) *loginAttempt {
				failN(t, l, clk, "192.0.2.1", "alice", 5, time.Second)
				clk.advance(-500 * time.Millisecond)
				return l.begin("192.0.2.1", "alice")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clk := limiterAt(t)
			a := tt.run(t, l, clk)
			if a.wait != tt.wait || a.reason != tt.reason {
				t.Fatalf("wait %s reason %q, want %s %q", a.wait, a.reason, tt.wait, tt.reason)
			}
			if tt.wait > 0 && a.retryAfter() != tt.retryAfter {
				t.Fatalf("Retry-After %d, want %d", a.retryAfter(), tt.retryAfter)
			}
		})
	}
}

// TestLoginLimiterConcurrentAttempts: attempts in flight count, so a
// burst cannot all pass the check before the first of them fails.
func TestLoginLimiterConcurrentAttempts(t *testing.T) {
	l, _ := limiterAt(t)
	admitted := make(chan bool, 100)
	for range 100 {
		go func() { admitted <- !l.begin("192.0.2.1", "alice").refused() }()
	}
	n := 0
	for range 100 {
		if <-admitted {
			n++
		}
	}
	if n != maxUserFailures {
		t.Fatalf("%d of a burst admitted, want %d", n, maxUserFailures)
	}
}

func TestLoginLimiterMemoryBound(t *testing.T) {
	l, clk := limiterAt(t)
	for i := range maxLimiterKeys + 500 {
		l.begin(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), fmt.Sprintf("user-%d", i))
		clk.advance(time.Millisecond)
	}
	if n, m := len(l.users.byKey), len(l.sources.byKey); n != maxLimiterKeys || m != maxLimiterKeys {
		t.Fatalf("tables hold %d users and %d sources, want %d", n, m, maxLimiterKeys)
	}
	if l.users.order.Len() != maxLimiterKeys {
		t.Fatalf("order list of %d", l.users.order.Len())
	}
	// The stalest keys went first; the newest are kept.
	if _, ok := l.users.byKey["user-0"]; ok {
		t.Fatal("the oldest key was kept")
	}
	if _, ok := l.users.byKey[fmt.Sprintf("user-%d", maxLimiterKeys+499)]; !ok {
		t.Fatal("the newest key was evicted")
	}
	// Once every failure has left the window, the next failure frees
	// the lot.
	clk.advance(loginWindow)
	l.begin("192.0.2.1", "alice")
	if n := len(l.users.byKey); n != 1 {
		t.Fatalf("%d users kept after the window, want 1", n)
	}
}

func TestFailureTableEvictsLeastRecentlyFailed(t *testing.T) {
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tab := newFailureTable(5, 3)
	for i, k := range []string{"a", "b", "c", "a", "d"} {
		tab.add(k, now.Add(time.Duration(i)*time.Second))
	}
	// b failed least recently once a failed again.
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := tab.byKey[k]; ok != want {
			t.Errorf("key %s kept = %v, want %v", k, ok, want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct {
		remote, ip, key string
	}{
		{"192.0.2.1:1234", "192.0.2.1", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::9]:443", "2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1", "192.0.2.1"},
		{"[fe80::1%eth0]:1", "fe80::1", "fe80::/64"},
		{"192.0.2.1", "192.0.2.1", "192.0.2.1"},
		{"@", "@", "@"},
		{"", "", ""},
	}
	for _, tt := range tests {
		ctx := context.WithValue(t.Context(), sourceKey{}, tt.remote)
		if ip, key := sourceOf(ctx); ip != tt.ip || key != tt.key {
			t.Errorf("%q: ip %q key %q, want %q %q", tt.remote, ip, key, tt.ip, tt.key)
		}
	}
}

// limitFixture is a server with alice (viewer) and bob (admin) whose
// limiter runs on a clock the test moves, logging into logs.
func limitFixture(t *testing.T) (*fixture, *settableClock, *testutil.Logs) {
	t.Helper()
	var logs *testutil.Logs
	f := newFixture(t, func(c *Config) { logs = captureLogs(c) })
	clk := newSettableClock()
	f.srv.logins.now = clk.now
	f.addUser(t, "alice", "correct horse", store.RoleViewer, false)
	f.addUser(t, "bob", "battery staple", store.RoleAdmin, false)
	return f, clk, logs
}

// login posts a login from remote (host:port), with extra headers.
func (f *fixture) login(t *testing.T, remote, user, pw string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := newRequest("POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	r.RemoteAddr = remote
	return serve(f, r)
}

// expectLimited checks a 429 problem with Retry-After of secs.
func expectLimited(t *testing.T, rec *httptest.ResponseRecorder, secs int) {
	t.Helper()
	expect(t, rec, http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins; retry in %d seconds", secs))
	if got := rec.Header().Get("Retry-After"); got != strconv.Itoa(secs) {
		t.Fatalf("Retry-After = %q, want %d", got, secs)
	}
}

func TestLoginRateLimitPerUser(t *testing.T) {
	f, clk, _ := limitFixture(t)
	const from = "192.0.2.10:40000"
	for i := range maxUserFailures {
		expect(t, f.login(t, from, "alice", fmt.Sprintf("guess-%d", i)), 401, "Incorrect username or password")
		clk.advance(time.Minute)
	}
	// Even the right password, from anywhere, waits: a guesser must not
	// learn that a guess was right.
	expectLimited(t, f.login(t, from, "alice", "correct horse"), 600)
	expectLimited(t, f.login(t, "198.51.100.1:1", "alice", "correct horse"), 600)
	expect(t, f.login(t, from, "bob", "battery staple"), 200, "")

	clk.advance(10 * time.Minute)
	expect(t, f.login(t, from, "alice", "correct horse"), 200, "")
	// The success cleared alice's failures: five more are allowed.
	for range maxUserFailures {
		expect(t, f.login(t, from, "alice", "wrong"), 401, "")
	}
	expectLimited(t, f.login(t, from, "alice", "wrong"), int(loginWindow/time.Second))
}

func TestLoginRateLimitUnknownUser(t *testing.T) {
	f, _, _ := limitFixture(t)
	// An unknown name locks like a known one: the 429 does not tell
	// which accounts exist.
	for range maxUserFailures {
		expect(t, f.login(t, "192.0.2.10:1", "mallory", "x"), 401, "")
	}
	expectLimited(t, f.login(t, "192.0.2.11:1", "mallory", "x"), 900)
}

func TestLoginRateLimitPerSource(t *testing.T) {
	f, clk, _ := limitFixture(t)
	const from = "192.0.2.20:5555"
	for i := range maxSourceFailures {
		// Different ports and forged forwarding headers are one source.
		rec := f.login(t, fmt.Sprintf("192.0.2.20:%d", 6000+i), fmt.Sprintf("spray-%d", i), "123456",
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i), "X-Real-IP", fmt.Sprintf("203.0.113.%d", i))
		expect(t, rec, 401, "")
		clk.advance(time.Second)
	}
	expectLimited(t, f.login(t, from, "alice", "correct horse"), 900-20)
	expectLimited(t, f.login(t, from, "fresh-name", "x", "X-Forwarded-For", "198.51.100.99"), 900-20)
	expect(t, f.login(t, "192.0.2.21:5555", "alice", "correct horse"), 200, "")
}

func TestLoginRateLimitIPv6Block(t *testing.T) {
	f, _, _ := limitFixture(t)
	for i := range maxSourceFailures {
		expect(t, f.login(t, fmt.Sprintf("[2001:db8:aa:bb::%x]:443", i+1), fmt.Sprintf("u%d", i), "x"), 401, "")
	}
	expectLimited(t, f.login(t, "[2001:db8:aa:bb:ffff::1]:443", "alice", "correct horse"), 900)
	expect(t, f.login(t, "[2001:db8:aa:bc::1]:443", "alice", "correct horse"), 200, "")
}

// TestLoginRateLimitBeforeHashing: a refused attempt is answered without
// waiting for a hashing slot, so a flood costs no bcrypt work.
func TestLoginRateLimitBeforeHashing(t *testing.T) {
	f, _, _ := limitFixture(t)
	for range maxUserFailures {
		f.login(t, "192.0.2.30:1", "alice", "wrong")
	}
	for range cap(f.srv.hashSlots) {
		f.srv.hashSlots <- struct{}{}
	}
	r := newRequest("POST", "/api/v1/auth/login", `{"username":"alice","password":"correct horse"}`)
	r.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	expectLimited(t, serve(f, r.WithContext(ctx)), 900)
}

// TestLoginBusyIsNotAFailure: an attempt that found no hashing slot was
// never judged, so it does not count.
func TestLoginBusyIsNotAFailure(t *testing.T) {
	f, _, _ := limitFixture(t)
	for range cap(f.srv.hashSlots) {
		f.srv.hashSlots <- struct{}{}
	}
	for range maxUserFailures + 2 {
		r := newRequest("POST", "/api/v1/auth/login", `{"username":"alice","password":"wrong"}`)
		r.Header.Set("Content-Type", "application/json")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		expect(t, serve(f, r.WithContext(ctx)), http.StatusServiceUnavailable, "Server busy")
		cancel()
	}
	for range cap(f.srv.hashSlots) {
		<-f.srv.hashSlots
	}
	expect(t, f.login(t, "192.0.2.1:1", "alice", "correct horse"), 200, "")
}

func TestLoginAudit(t *testing.T) {
	f, _, logs := limitFixture(t)
	const src = "192.0.2.40:4444"
	secrets := []string{"correct horse", "not-her-password", "mallory-secret"}
	expect(t, f.login(t, src, "alice", "correct horse"), 200, "")
	expect(t, f.login(t, src, "alice", "not-her-password"), 401, "")
	expect(t, f.login(t, "[2001:db8::7]:1", "mallory", "mallory-secret"), 401, "")
	for range maxUserFailures - 1 {
		f.login(t, src, "alice", "not-her-password")
	}
	expectLimited(t, f.login(t, src, "alice", "correct horse"), 900)
	for range maxUserFailures - 1 {
		f.login(t, src, "mallory", "mallory-secret")
	}
	expectLimited(t, f.login(t, src, "mallory", "mallory-secret"), 900)

	recs := logs.Records(t, "login attempt")
	want := []map[string]any{
		{"level": "INFO", "outcome": "success", "source": "192.0.2.40", "user": "alice", "role": "viewer"},
		{"level": "INFO", "outcome": "failure", "source": "192.0.2.40", "user": "alice", "reason": "wrong password"},
		{"level": "INFO", "outcome": "failure", "source": "2001:db8::7", "reason": "unknown user"},
	}
	for range maxUserFailures - 1 {
		want = append(want, map[string]any{"level": "INFO", "outcome": "failure", "source": "192.0.2.40", "user": "alice", "reason": "wrong password"})
	}
	want = append(want, map[string]any{"level": "WARN", "outcome": "rate_limited", "source": "192.0.2.40", "user": "alice", "reason": limitedUser})
	for range maxUserFailures - 1 {
		want = append(want, map[string]any{"level": "INFO", "outcome": "failure", "source": "192.0.2.40", "reason": "unknown user"})
	}
	want = append(want, map[string]any{"level": "WARN", "outcome": "rate_limited", "source": "192.0.2.40", "reason": limitedUser})
	if len(recs) != len(want) {
		t.Fatalf("%d login records, want %d:\n%s", len(recs), len(want), logs.String())
	}
	for i, w := range want {
		got := recs[i]
		delete(got, "time")
		delete(got, "msg")
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("record %d = %v\nwant %v", i, got, w)
		}
	}
	for _, s := range append(secrets, "mallory") {
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs contain %q:\n%s", s, logs.String())
		}
	}
}
