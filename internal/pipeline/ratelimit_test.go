package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
)

func TestRateLimitFromEnv(t *testing.T) {
	def := DefaultRateLimit()
	tests := []struct {
		name    string
		env     map[string]string
		want    RateLimit
		wantErr string
	}{
		{name: "defaults", want: def},
		{name: "blank is unset", env: map[string]string{EnvRateLimitWindow: " ", EnvRateLimitTypes: ""}, want: def},
		{name: "fractional window", env: map[string]string{EnvRateLimitWindow: "0.25"},
			want: RateLimit{Window: 250 * time.Millisecond, Types: def.Types}},
		{name: "zero disables", env: map[string]string{EnvRateLimitWindow: "0"},
			want: RateLimit{Window: 0, Types: def.Types}},
		{name: "negative disables", env: map[string]string{EnvRateLimitWindow: "-3"},
			want: RateLimit{Window: 0, Types: def.Types}},
		{name: "types trimmed", env: map[string]string{EnvRateLimitTypes: " connect , auth "},
			want: RateLimit{Window: time.Second, Types: []string{"connect", "auth"}}},
		{name: "not a number", env: map[string]string{EnvRateLimitWindow: "1s"}, wantErr: EnvRateLimitWindow},
		{name: "nan", env: map[string]string{EnvRateLimitWindow: "NaN"}, wantErr: EnvRateLimitWindow},
		{name: "infinite", env: map[string]string{EnvRateLimitWindow: "+Inf"}, wantErr: EnvRateLimitWindow},
		{name: "too long", env: map[string]string{EnvRateLimitWindow: "1e300"}, wantErr: "too long"},
		{name: "empty type", env: map[string]string{EnvRateLimitTypes: "connect,,close"}, wantErr: EnvRateLimitTypes},
		{name: "type with space", env: map[string]string{EnvRateLimitTypes: "connect close"}, wantErr: EnvRateLimitTypes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RateLimitFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDefaultRateLimitIsACopy(t *testing.T) {
	a := DefaultRateLimit()
	a.Types[0] = "changed"
	if DefaultRateLimit().Types[0] != "connect" {
		t.Fatal("DefaultRateLimit shares its slice")
	}
}

func rec(typ, ip, decky, svc string) event.Record {
	return event.Record{EventType: typ, AttackerIP: ip, Decky: decky, Service: svc}
}

func TestRateLimiterAllow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		r    event.Record
		at   time.Time
		want bool
	}
	connect := rec("connect", "10.0.0.7", "d1", "ssh")
	tests := []struct {
		name  string
		limit RateLimit
		steps []step
	}{
		{name: "repeat within window dropped", limit: DefaultRateLimit(), steps: []step{
			{connect, at(0), true}, {connect, at(500), false}, {connect, at(999), false},
			{connect, at(1000), true}, {connect, at(1500), false},
		}},
		{name: "a dropped event does not extend the window", limit: DefaultRateLimit(), steps: []step{
			{connect, at(0), true}, {connect, at(900), false}, {connect, at(1100), true},
		}},
		{name: "each part of the key counts", limit: DefaultRateLimit(), steps: []step{
			{connect, at(0), true},
			{rec("connect", "10.0.0.8", "d1", "ssh"), at(1), true},
			{rec("connect", "10.0.0.7", "d2", "ssh"), at(2), true},
			{rec("connect", "10.0.0.7", "d1", "ftp"), at(3), true},
			{rec("disconnect", "10.0.0.7", "d1", "ssh"), at(4), true},
			{rec("disconnect", "10.0.0.7", "d1", "ssh"), at(5), false},
		}},
		{name: "other types never limited", limit: DefaultRateLimit(), steps: []step{
			{rec("auth", "10.0.0.7", "d1", "ssh"), at(0), true},
			{rec("auth", "10.0.0.7", "d1", "ssh"), at(1), true},
		}},
		{name: "zero window disables", limit: RateLimit{Types: []string{"connect"}}, steps: []step{
			{connect, at(0), true}, {connect, at(1), true},
		}},
		{name: "custom types", limit: RateLimit{Window: time.Second, Types: []string{"auth"}}, steps: []step{
			{connect, at(0), true}, {connect, at(1), true},
			{rec("auth", "1.2.3.4", "d1", "ssh"), at(2), true},
			{rec("auth", "1.2.3.4", "d1", "ssh"), at(3), false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewRateLimiter(tc.limit)
			for i, s := range tc.steps {
				if got := l.Allow(s.r, s.at); got != s.want {
					t.Fatalf("step %d (%+v at %v): Allow = %v, want %v", i, s.r, s.at.Sub(t0), got, s.want)
				}
			}
		})
	}
}

func TestRateLimiterBounded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := NewRateLimiter(RateLimit{Window: time.Second, Types: []string{"connect"}})
	fill := func(prefix string, at time.Time) {
		for i := range rateLimitMaxKeys {
			if !l.Allow(rec("connect", fmt.Sprintf("%s%d", prefix, i), "d", "s"), at) {
				t.Fatalf("new key %d refused", i)
			}
		}
	}
	fill("a", t0)
	if n := len(l.last); n != rateLimitMaxKeys {
		t.Fatalf("%d keys, want %d", n, rateLimitMaxKeys)
	}
	// Full and nothing old enough: new keys pass unrecorded, known keys
	// are still limited.
	late := t0.Add(10 * time.Second)
	for range 3 {
		if !l.Allow(rec("connect", "new", "d", "s"), late) {
			t.Fatal("new key refused while the map is full")
		}
	}
	if l.Allow(rec("connect", "a1", "d", "s"), t0.Add(500*time.Millisecond)) {
		t.Fatal("known key not limited while the map is full")
	}
	if n := len(l.last); n != rateLimitMaxKeys {
		t.Fatalf("map grew past its bound: %d", n)
	}
	// Past 60 windows the old entries are purged and new keys recorded.
	later := t0.Add(61 * time.Second)
	if !l.Allow(rec("connect", "fresh", "d", "s"), later) {
		t.Fatal("fresh key refused")
	}
	if n := len(l.last); n != 1 {
		t.Fatalf("%d keys after purge, want 1", n)
	}
	if l.Allow(rec("connect", "fresh", "d", "s"), later.Add(time.Millisecond)) {
		t.Fatal("fresh key not recorded after purge")
	}
}

func TestRateLimiterHugeWindow(t *testing.T) {
	l := NewRateLimiter(RateLimit{Window: time.Duration(1 << 62), Types: []string{"connect"}})
	if l.forget <= 0 {
		t.Fatalf("forget age overflowed: %v", l.forget)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l := NewRateLimiter(DefaultRateLimit())
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				if l.Allow(rec("connect", fmt.Sprint(i%50), "d", fmt.Sprint(g%2)), now) {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("%d allowed, want one per key (100)", allowed)
	}
}
