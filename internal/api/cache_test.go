package api

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/store"
)

// testClock is a clock the cache tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestClock() *testClock { return &testClock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)} }

// TestCachedRoutes checks through HTTP that each cached route reads the
// store once per query and TTL: a repeat within the TTL is served from
// the cache, one after it reads again, and different queries (or roles'
// identical ones) do not share unless they normalize to the same query.
func TestCachedRoutes(t *testing.T) {
	tests := []struct {
		store string // the read counted
		path  string
		same  string // another spelling of the same query
		other string // a different query
	}{
		{"stats", "/stats", "/stats?", ""},
		{"logs", "/logs?search=ssh", "/logs?limit=50&search=ssh&offset=0", "/logs?search=ftp"},
		{"logs", "/logs?start_time=2024-05-01+10:00:00", "/logs?start_time=2024-05-01T12:00:00%2B02:00", "/logs?start_time=2024-05-01+10:00:01"},
		{"histogram", "/logs/histogram", "/logs/histogram?interval_minutes=15", "/logs/histogram?interval_minutes=16"},
		{"attackers", "/attackers", "/attackers?sort_by=recent", "/attackers?sort_by=active"},
		{"attackers", "/attackers?traversal=false", "/attackers", "/attackers?traversal=true"},
		// Every limit is cut from one read of the longest list.
		{"services", "/stats/services", "/stats/services?limit=3", ""},
		{"bounty", "/bounty?bounty_type=credential", "/bounty?bounty_type=credential&limit=50", "/bounty?bounty_type=fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, r, tok := newProfileFixture(t, nil)
			admin := f.token(t, f.addUser(t, "admin", "password1", store.RoleAdmin, false))
			clock := newTestClock()
			f.srv.cache.now = clock.now
			get := func(path, token string, wantReads int) string {
				t.Helper()
				rec := f.do(t, "GET", "/api/v1"+path, token, "")
				if rec.Code != 200 {
					t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
				if got := r.count(tt.store); got != wantReads {
					t.Fatalf("after %s: %d store reads, want %d", path, got, wantReads)
				}
				return rec.Body.String()
			}
			first := get(tt.path, tok, 1)
			if again := get(tt.path, tok, 1); again != first {
				t.Fatalf("cached answer differs:\n%s\n%s", first, again)
			}
			get(tt.same, admin, 1)
			clock.advance(cacheTTL - time.Millisecond)
			get(tt.path, tok, 1)
			clock.advance(time.Millisecond)
			get(tt.path, tok, 2)
			get(tt.path, tok, 2)
			if tt.other != "" {
				get(tt.other, tok, 3)
				get(tt.path, tok, 3)
			}
		})
	}
}

// TestCachedRoutesShowNewData: what the store holds after the TTL is
// what the next read shows.
func TestCachedRoutesShowNewData(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	clock := newTestClock()
	f.srv.cache.now = clock.now
	r.fakeRepo.mu.Lock()
	r.fakeRepo.stats = store.Stats{TotalLogs: 1}
	r.fakeRepo.mu.Unlock()
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 200, "")
	r.fakeRepo.mu.Lock()
	r.fakeRepo.stats = store.Stats{TotalLogs: 2}
	r.fakeRepo.mu.Unlock()
	if m := expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 200, ""); m["total_logs"] != 1.0 {
		t.Fatalf("within the TTL: %v", m)
	}
	clock.advance(cacheTTL)
	if m := expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 200, ""); m["total_logs"] != 2.0 {
		t.Fatalf("after the TTL: %v", m)
	}
}

// TestCachedRoutesKeepNoErrors: a failed read is not served again.
func TestCachedRoutesKeepNoErrors(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	f.srv.cache.now = newTestClock().now
	r.fakeRepo.mu.Lock()
	r.fakeRepo.err = errors.New("database is locked")
	r.fakeRepo.mu.Unlock()
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 500, "")
	r.fakeRepo.mu.Lock()
	r.fakeRepo.err = nil
	r.fakeRepo.mu.Unlock()
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 200, "")
	if n := r.count("stats"); n != 2 {
		t.Fatalf("%d reads", n)
	}
}

// doneSpy reports on waiting when its Done is first asked for: a caller
// of cached asks only while it waits for another's read.
type doneSpy struct {
	context.Context
	once    sync.Once
	waiting chan<- struct{}
}

func (d *doneSpy) Done() <-chan struct{} {
	d.once.Do(func() { d.waiting <- struct{}{} })
	return d.Context.Done()
}

// TestCacheCoalesces: identical reads that arrive while one runs wait
// for it and share its result; the store is read once.
func TestCacheCoalesces(t *testing.T) {
	const n = 16
	var c respCache
	var calls int
	var mu sync.Mutex
	release := make(chan struct{})
	read := func(context.Context) (store.Stats, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		<-release
		return store.Stats{TotalLogs: 42}, nil
	}
	waiting := make(chan struct{}, n)
	results := make(chan store.Stats, n)
	var wg sync.WaitGroup
	for range n {
		ctx := &doneSpy{Context: t.Context(), waiting: waiting}
		wg.Go(func() {
			v, err := cached(ctx, &c, "stats", nil, read)
			if err != nil {
				t.Error(err)
			}
			results <- v
		})
	}
	for range n - 1 {
		select {
		case <-waiting:
		case <-time.After(10 * time.Second):
			t.Fatal("identical reads did not wait for the running one")
		}
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v.TotalLogs != 42 {
			t.Fatalf("result %+v", v)
		}
	}
	if calls != 1 {
		t.Fatalf("%d store reads, want 1", calls)
	}
}

// TestCacheWaiters covers how a wait ends: the waiter's own client
// leaving, the running read's client leaving (the waiter then reads
// itself), the running read failing or panicking (shared, not kept).
func TestCacheWaiters(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		leader     func(ctx context.Context) (int, error) // the running read, once released
		cancelMine bool                                   // the waiter's client leaves
		want       int
		wantErr    error
		reads      int // reads after the waiter is done
	}{
		{"shared", func(context.Context) (int, error) { return 7, nil }, false, 7, nil, 1},
		{"waiter leaves", func(context.Context) (int, error) { return 7, nil }, true, 0, context.Canceled, 1},
		{"leader's client left", func(ctx context.Context) (int, error) { return 0, ctx.Err() }, false, 9, nil, 2},
		{"leader fails", func(context.Context) (int, error) { return 0, errBoom }, false, 0, errBoom, 1},
		{"leader panics", func(context.Context) (int, error) { panic("kaboom") }, false, 0, errLeaderPanicked, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c respCache
			var mu sync.Mutex
			reads := 0
			release := make(chan struct{})
			leaderCtx, leave := context.WithCancel(t.Context())
			leaderDone := make(chan struct{})
			go func() {
				defer close(leaderDone)
				defer func() { recover() }()
				cached(leaderCtx, &c, "r", 1, func(ctx context.Context) (int, error) {
					mu.Lock()
					reads++
					mu.Unlock()
					<-release
					if tt.name == "leader's client left" {
						leave()
					}
					return tt.leader(ctx)
				})
			}()
			// The leader has claimed the key once a second read waits.
			for {
				c.mu.Lock()
				e := c.entries[`r`+"\x00"+`1`]
				c.mu.Unlock()
				if e != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			waiting := make(chan struct{}, 1)
			mine, cancel := context.WithCancel(t.Context())
			defer cancel()
			type outcome struct {
				v   int
				err error
			}
			out := make(chan outcome, 1)
			go func() {
				v, err := cached(&doneSpy{Context: mine, waiting: waiting}, &c, "r", 1, func(context.Context) (int, error) {
					mu.Lock()
					reads++
					mu.Unlock()
					return 9, nil
				})
				out <- outcome{v, err}
			}()
			<-waiting
			if tt.cancelMine {
				cancel()
			} else {
				close(release)
			}
			got := <-out
			if tt.cancelMine {
				close(release)
			}
			<-leaderDone
			leave()
			if got.v != tt.want || !errors.Is(got.err, tt.wantErr) {
				t.Fatalf("got %d, %v; want %d, %v", got.v, got.err, tt.want, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if reads != tt.reads {
				t.Fatalf("%d reads, want %d", reads, tt.reads)
			}
			// A failure is not kept: the next read runs.
			c.mu.Lock()
			kept := len(c.entries)
			c.mu.Unlock()
			if wantKept := map[bool]int{true: 0, false: 1}[tt.wantErr != nil && !tt.cancelMine]; kept != wantKept {
				t.Fatalf("%d entries kept, want %d", kept, wantKept)
			}
		})
	}
}

// TestCacheBounds: the cache never holds more than its entries and rows,
// evicts the oldest first, and does not keep a result over the budget.
func TestCacheBounds(t *testing.T) {
	var c respCache
	clock := newTestClock()
	c.now = clock.now
	get := func(key int, rows int) {
		t.Helper()
		_, err := cached(t.Context(), &c, "r", key, func(context.Context) ([]int, error) { return make([]int, rows), nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	held := func() (int, int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.entries) != c.order.Len() {
			t.Fatalf("map %d, list %d", len(c.entries), c.order.Len())
		}
		return len(c.entries), c.rows
	}
	for i := range cacheMaxEntries + 10 {
		get(i, 0)
	}
	if n, _ := held(); n != cacheMaxEntries {
		t.Fatalf("%d entries", n)
	}
	c.mu.Lock()
	_, oldest := c.entries["r\x000"]
	_, newest := c.entries[fmt.Sprintf("r\x00%d", cacheMaxEntries+9)]
	c.mu.Unlock()
	if oldest || !newest {
		t.Fatalf("evicted the wrong end: oldest kept %v, newest kept %v", oldest, newest)
	}

	// Entries past serving stale go before anything else is evicted.
	clock.advance(cacheTTL + staleFor)
	get(-1, 10)
	if n, rows := held(); n != 1 || rows != 11 {
		t.Fatalf("after expiry: %d entries, %d rows", n, rows)
	}
	get(-2, cacheMaxRows) // one row too many with its +1: not kept
	if n, rows := held(); n != 1 || rows != 11 {
		t.Fatalf("oversized result: %d entries, %d rows", n, rows)
	}
	get(-3, cacheMaxRows/2)
	get(-4, cacheMaxRows/2) // pushes out -1 and -3
	if n, rows := held(); n != 1 || rows != cacheMaxRows/2+1 {
		t.Fatalf("row budget: %d entries, %d rows", n, rows)
	}
}

func TestRowsOf(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want int
	}{
		{store.Page[store.Log]{Data: make([]store.Log, 3)}, 4},
		{[]store.Bucket{{}, {}}, 3},
		{store.Stats{}, 1},
		{nil, 1},
	} {
		if got := rowsOf(tt.v); got != tt.want {
			t.Errorf("rowsOf(%T) = %d, want %d", tt.v, got, tt.want)
		}
	}
}

// TestCacheKeysDoNotCollide: queries whose texts could run together stay
// apart (the key is the route and the query as JSON).
func TestCacheKeysDoNotCollide(t *testing.T) {
	var c respCache
	c.now = newTestClock().now
	for _, q := range []store.LogQuery{
		{Search: "a", Limit: 5},
		{Search: `a","Limit":5`},
		{Search: "a\x00", Limit: 5},
	} {
		got, err := cached(t.Context(), &c, "logs", q, func(context.Context) (string, error) { return q.Search, nil })
		if err != nil || got != q.Search {
			t.Fatalf("%q: got %q, %v", q.Search, got, err)
		}
	}
	if _, err := cached(t.Context(), &c, "x", func() {}, func(context.Context) (int, error) { return 1, nil }); err == nil ||
		!strings.Contains(err.Error(), "cache key") {
		t.Fatalf("unencodable query: %v", err)
	}
}

// TestCostlyReadsKeptLonger: a read that took 500 ms is kept for 10 s
// (20 times its cost), a cheap one for cacheTTL, none past cacheMaxTTL.
func TestCostlyReadsKeptLonger(t *testing.T) {
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, cacheTTL}, {50 * time.Millisecond, cacheTTL}, {500 * time.Millisecond, 10 * time.Second},
		{time.Minute, cacheMaxTTL},
	} {
		if got := ttlFor(tc.took); got != tc.want {
			t.Errorf("ttlFor(%v) = %v, want %v", tc.took, got, tc.want)
		}
	}
	var c respCache
	clock := newTestClock()
	c.now = clock.now
	reads := 0
	read := func(context.Context) (int, error) {
		reads++
		clock.advance(500 * time.Millisecond) // the read's own cost
		return reads, nil
	}
	ctx := context.Background()
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {9 * time.Second, 1}, {time.Second, 1}} {
		clock.advance(step.advance)
		got, err := cached(ctx, &c, "costly", "q", read)
		if err != nil || got != step.want {
			t.Fatalf("after %v: read %d, %v; want %d", step.advance, got, err, step.want)
		}
	}
	// Expired after 10 s: the last read got the old result and started
	// the refresh, whose result comes next.
	awaitRefreshed(t, &c, "costly", 1, 2)
}

// TestStaleServedWhileRefreshing: once a result expires, the read that
// refreshes it waits for the store, and reads arriving meanwhile get the
// expired result at once; past staleFor nobody gets it.
func TestStaleServedWhileRefreshing(t *testing.T) {
	var c respCache
	clock := newTestClock()
	c.now = clock.now
	ctx := context.Background()
	if v, err := cached(ctx, &c, "r", "q", func(context.Context) (int, error) { return 1, nil }); err != nil || v != 1 {
		t.Fatalf("first read: %d, %v", v, err)
	}
	clock.advance(cacheTTL)
	release, started := make(chan struct{}), make(chan struct{})
	done := make(chan int)
	go func() {
		v, _ := cached(ctx, &c, "r", "q", func(context.Context) (int, error) {
			close(started)
			<-release
			return 2, nil
		})
		done <- v
	}()
	<-started
	expectStale(t, &c, "r", 1)
	close(release)
	if v := <-done; v != 2 {
		t.Fatalf("the refreshing read got %d, want 2", v)
	}
	if v, _ := cached(ctx, &c, "r", "q", func(context.Context) (int, error) { return 4, nil }); v != 2 {
		t.Fatalf("after the refresh: %d, want 2", v)
	}
	// Too old to serve: the next read waits for the store.
	clock.advance(cacheTTL + staleFor)
	if v, _ := cached(ctx, &c, "r", "q", func(context.Context) (int, error) { return 5, nil }); v != 5 {
		t.Fatalf("past staleFor: %d, want 5", v)
	}
}

// TestCostlyStaleRefreshedInBackground: an expired costly result is
// served even to the read that finds it, which refreshes it in the
// background (its caller may leave); it stays servable for
// staleForCostly.
func TestCostlyStaleRefreshedInBackground(t *testing.T) {
	var c respCache
	clock := newTestClock()
	c.now = clock.now
	ctx := context.Background()
	costly := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { clock.advance(time.Second); return v, nil }
	}
	if v, err := cached(ctx, &c, "r", "q", costly(1)); err != nil || v != 1 {
		t.Fatalf("first read: %d, %v", v, err)
	}
	clock.advance(cacheMaxTTL + 5*time.Minute)
	release, started, refreshed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	gone, leave := context.WithCancel(ctx)
	v, err := cached(gone, &c, "r", "q", func(rctx context.Context) (int, error) {
		close(started)
		<-release
		defer close(refreshed)
		clock.advance(time.Second)
		return 2, rctx.Err()
	})
	leave()
	if err != nil || v != 1 {
		t.Fatalf("the read that starts the refresh: %d, %v; want the stale 1 at once", v, err)
	}
	<-started
	expectStale(t, &c, "r", 1)
	close(release)
	<-refreshed
	awaitRefreshed(t, &c, "r", 1, 2)
	// Too old to serve: the next read waits for the store.
	clock.advance(cacheMaxTTL + staleForCostly + time.Second)
	if v, _ := cached(ctx, &c, "r", "q", costly(5)); v != 5 {
		t.Fatalf("past staleForCostly: %d, want 5", v)
	}
}

// TestCostlyOutliveCheapChurn: one-off cheap reads (pages at random
// offsets) evict each other, not a costly search.
func TestCostlyOutliveCheapChurn(t *testing.T) {
	var c respCache
	clock := newTestClock()
	c.now = clock.now
	ctx := context.Background()
	cached(ctx, &c, "r", "costly", func(context.Context) (int, error) {
		clock.advance(500 * time.Millisecond)
		return 1, nil
	})
	for i := range cacheMaxEntries + 5 {
		cached(ctx, &c, "r", i, func(context.Context) (int, error) { return i, nil })
	}
	c.mu.Lock()
	_, kept := c.entries["r\x00\"costly\""]
	n := len(c.entries)
	c.mu.Unlock()
	if !kept || n != cacheMaxEntries {
		t.Fatalf("costly kept %v, %d entries", kept, n)
	}
}

// expectStale fails unless a read of route with query "q", made while it
// refreshes, gets old at once without running a read of its own.
func expectStale(t *testing.T, c *respCache, route string, old int) {
	t.Helper()
	if v, err := cached(context.Background(), c, route, "q", func(context.Context) (int, error) {
		t.Error("a second refresh ran")
		return -1, nil
	}); err != nil || v != old {
		t.Fatalf("during the refresh: %d, %v; want the stale %d", v, err, old)
	}
}

// awaitRefreshed reads route with query "q" until a background refresh
// has published want; until then only old may be served, and no read of
// its own may run.
func awaitRefreshed(t *testing.T, c *respCache, route string, old, want int) {
	t.Helper()
	for {
		v, _ := cached(context.Background(), c, route, "q", func(context.Context) (int, error) { return -1, nil })
		if v == want {
			return
		}
		if v != old {
			t.Fatalf("after the refresh: read %d, want %d", v, want)
		}
		runtime.Gosched() // the refresh publishes just after its read returns
	}
}
