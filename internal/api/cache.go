package api

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// The busiest reads (logs, histogram, stats, attackers, bounties) are the
// same for every caller: a dashboard open in many browsers, or a load
// generator, asks the same page again and again. Their results are kept
// for cacheTTL (longer when they were costly, see ttlFor) and shared, and identical reads that arrive while one is
// running wait for it instead of querying the store too. Entries are
// only ever replaced by time: a response may be up to cacheTTL older
// than the store.
const (
	// cacheTTL is how long a read's result is served again, at least.
	cacheTTL = 2 * time.Second
	// A read that took d is kept for costFactor·d when that is longer,
	// up to cacheMaxTTL: a count or a substring search over millions of
	// logs takes a few hundred milliseconds, and with a flat 2 s a dozen
	// such searches open in dashboards kept a core busy refreshing them
	// (measured: half the API's CPU under a mixed load over 1M logs).
	costFactor  = 20
	cacheMaxTTL = 30 * time.Second
	// cacheMaxEntries bounds the distinct reads kept at once.
	cacheMaxEntries = 1024
	// cacheMaxRows bounds the rows (log rows, buckets, profiles...) kept
	// at once, so large pages cannot make the cache hold much memory;
	// a single result larger than this is shared with the reads waiting
	// for it but not kept.
	cacheMaxRows = 50_000
)

// respCache holds recent results of reads, oldest first. The zero value
// is ready to use and safe for concurrent use.
type respCache struct {
	// now is the clock; nil means time.Now (tests set it before serving).
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*cacheEntry
	order   list.List // of *cacheEntry, by start, then by end once done
	rows    int       // sum of the kept entries' rows
}

// cacheEntry is one read, running or done.
type cacheEntry struct {
	key  string
	elem *list.Element
	// done is closed once val and err are set.
	done    chan struct{}
	val     any
	err     error
	over    bool // done (set with the lock held)
	expires time.Time
	rows    int
	// costly reads (kept longer than cacheTTL) are evicted after cheap
	// ones: a stream of cheap one-off pages (random offsets) must not
	// push out the searches that take hundreds of milliseconds to redo.
	costly bool
	// prev is the result this read refreshes, served to the reads that
	// arrive while it runs (nil when there is none fresh enough), and
	// prevCostly whether it was costly.
	prev       any
	prevCostly bool
}

// Past its expiry a result may still be served while one read refreshes
// it: requests arriving meanwhile get it at once. A costly result (a
// count or aggregate over the whole store: the dashboard's counters, top
// services, histograms) is served even to the read that finds it
// expired, which refreshes it in the background, and stays servable
// longer: a dashboard opened after minutes of quiet loads at once and is
// current a moment later. A cheap result is refreshed by the read that
// finds it expired, which waits for it.
const (
	staleFor       = cacheMaxTTL
	staleForCostly = 10 * time.Minute
	// refreshTimeout bounds a background refresh, whose caller has gone.
	refreshTimeout = time.Minute
)

// staleUntil is when e stops being served past its expiry.
func (e *cacheEntry) staleUntil() time.Time {
	if e.costly {
		return e.expires.Add(staleForCostly)
	}
	return e.expires.Add(staleFor)
}

// errLeaderPanicked is what the reads waiting for a read that panicked
// get (the panic itself goes on to the recoverer).
var errLeaderPanicked = errors.New("shared read panicked")

// cached returns fn's result, or that of an identical read (same route,
// same query) that finished less than cacheTTL ago or is running now.
// query must be the normalized query (the store's query struct): it is
// encoded as JSON into the key. Failures are not kept: the next read
// runs again.
func cached[T any](ctx context.Context, c *respCache, route string, query any, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	q, err := json.Marshal(query)
	if err != nil {
		return zero, fmt.Errorf("cache key: %w", err)
	}
	key := route + "\x00" + string(q)
	for {
		e, leader, stale := c.claim(key)
		if leader && e.prev != nil && e.prevCostly {
			// An expired result: serve it and refresh it for the next
			// reads, whatever becomes of this request.
			prev := e.prev.(T)
			go func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
				defer cancel()
				lead(rctx, c, e, fn)
			}()
			return prev, nil
		}
		if leader {
			return lead(ctx, c, e, fn)
		}
		if stale != nil {
			return stale.(T), nil
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		if e.err == nil {
			return e.val.(T), nil
		}
		// The client of the read we waited for left; that says nothing
		// about ours, which runs again.
		if (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue
		}
		return zero, e.err
	}
}

// lead runs fn for the entry it claimed and publishes the result, even
// when fn panics, so no waiter is left behind.
func lead[T any](ctx context.Context, c *respCache, e *cacheEntry, fn func(context.Context) (T, error)) (v T, err error) {
	panicked := true
	defer func() {
		if panicked {
			c.finish(e, nil, errLeaderPanicked, 0)
		}
	}()
	start := c.clock()
	v, err = fn(ctx)
	panicked = false
	c.finish(e, v, err, ttlFor(c.clock().Sub(start)))
	return v, err
}

func (c *respCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// claim returns the live entry of key, or a new running one the caller
// must run (leader true). A running entry that refreshes an expired
// result also returns that result as stale, for the caller to serve.
func (c *respCache) claim(key string) (e *cacheEntry, leader bool, stale any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	// Entries end in roughly the order they expire (costly reads live
	// longer; they go when read again stale, or by trim): drop the head
	// once past serving stale.
	for f := c.order.Front(); f != nil; f = c.order.Front() {
		old := f.Value.(*cacheEntry)
		if !old.over || now.Before(old.staleUntil()) {
			break
		}
		c.drop(old)
	}
	var prev any
	var prevCostly bool
	if old, ok := c.entries[key]; ok {
		switch {
		case !old.over:
			return old, false, old.prev
		case now.Before(old.expires):
			return old, false, nil
		case old.err == nil && now.Before(old.staleUntil()):
			prev, prevCostly = old.val, old.costly
		}
		c.drop(old)
	}
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
	e = &cacheEntry{key: key, done: make(chan struct{}), prev: prev, prevCostly: prevCostly}
	e.elem = c.order.PushBack(e)
	c.entries[key] = e
	c.trim()
	return e, true, nil
}

// ttlFor is how long a read that took d is kept.
func ttlFor(d time.Duration) time.Duration {
	return min(max(cacheTTL, costFactor*d), cacheMaxTTL)
}

// finish publishes the result of a running entry and keeps it for ttl
// when it succeeded and fits.
func (c *respCache) finish(e *cacheEntry, v any, err error, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.val, e.err, e.over, e.prev = v, err, true, nil
	e.expires = c.clock().Add(ttl)
	close(e.done)
	if c.entries[e.key] != e {
		return // evicted while running
	}
	rows := rowsOf(v)
	if err != nil || rows > cacheMaxRows {
		c.drop(e)
		return
	}
	e.rows, e.costly = rows, ttl > cacheTTL
	c.rows += rows
	c.order.MoveToBack(e.elem)
	c.trim()
}

// trim evicts entries while the cache is over its bounds: the oldest
// cheap one first, the oldest of all when only costly ones are left.
func (c *respCache) trim() {
	for c.order.Len() > cacheMaxEntries || c.rows > cacheMaxRows {
		victim := c.order.Front()
		for f := victim; f != nil; f = f.Next() {
			if e := f.Value.(*cacheEntry); e.over && !e.costly {
				victim = f
				break
			}
		}
		c.drop(victim.Value.(*cacheEntry))
	}
}

// drop forgets e; waiters already holding it still get its result.
func (c *respCache) drop(e *cacheEntry) {
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
	c.order.Remove(e.elem)
	c.rows -= e.rows
	e.rows = 0
}

// rowsOf sizes a result for cacheMaxRows: the rows of a page (its Data)
// or of a list, plus one; anything else counts one.
func rowsOf(v any) int {
	if e, ok := v.(interface{ cacheRows() int }); ok {
		return e.cacheRows()
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Struct {
		if d := rv.FieldByName("Data"); d.IsValid() {
			rv = d
		}
	}
	if rv.Kind() == reflect.Slice {
		return rv.Len() + 1
	}
	return 1
}

// encoded is a response body already encoded as JSON, of a T. Cached reads keep their encoding, so a page served to many callers is
// encoded once rather than once per request: encoding a page of attacker
// profiles (300 KB) cost more than reading it.
type encoded[T any] struct {
	raw  []byte
	rows int
}

// encodeBody encodes v for the response; rows sizes it for the cache.
func encodeBody[T any](v T) (encoded[T], error) {
	// As huma encodes: no HTML escaping (the API serves JSON, never HTML).
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return encoded[T]{}, fmt.Errorf("encode response: %w", err)
	}
	return encoded[T]{raw: b.Bytes(), rows: rowsOf(v)}, nil
}

// output is the response that writes e as is: huma would otherwise check
// and compact the bytes again on every request (a third of the CPU of a
// loaded API).
func (e encoded[T]) output() *jsonOutput {
	return &jsonOutput{ContentType: "application/json", Body: e.raw}
}

// jsonOutput is a response whose JSON body is already encoded.
type jsonOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// jsonResponses documents a jsonOutput route's 200 answer as a T.
func jsonResponses[T any](s *Server) map[string]*huma.Response {
	schema := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[T](), true, "")
	return map[string]*huma.Response{"200": {Description: "OK",
		Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}}
}

// cacheRows sizes the entry as the value it encodes.
func (e encoded[T]) cacheRows() int { return e.rows }
