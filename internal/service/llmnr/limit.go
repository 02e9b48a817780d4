package llmnr

import (
	"strconv"
	"sync"
	"time"

	"decnet/internal/udplimit"
)

// Per-source bounds: UDP sources are cheap to forge and a busy LAN is
// chatty (every Windows host repeats its WPAD query), so each source IP
// gets a datagram rate, beyond which its datagrams are neither answered
// nor recorded, and the server remembers a bounded number of sources.
const (
	srcRate    = 10.0 // datagrams a second from one source
	srcBurst   = 40
	maxSources = 4096
	// coalesceWindow is how long repeats of one query from one source
	// are counted instead of recorded.
	coalesceWindow = time.Minute
	// maxCoalesced bounds the queries being counted at once.
	maxCoalesced = 8192
)

// newLimiter is the per-source rate limit. llmnr sets no total rate and
// starts no long-lived work, so those bounds stay unset.
func newLimiter() *udplimit.Limiter {
	return udplimit.New(udplimit.Limits{Rate: srcRate, Burst: srcBurst, MaxSources: maxSources})
}

// coalescer counts repeats of a query (same source, protocol, name and
// type) for a window after the first is recorded, and hands back one
// summary per query that repeated. It is safe for concurrent use.
type coalescer struct {
	mu      sync.Mutex
	pending map[string]*repeat
}

type repeat struct {
	first  time.Time
	count  int
	fields map[string]string
}

func newCoalescer() *coalescer { return &coalescer{pending: map[string]*repeat{}} }

// see reports whether a query is new (to be recorded now); a repeat
// within the window is counted instead. fields are the query's event.
func (c *coalescer) see(key string, fields map[string]string, now time.Time) (summaries []map[string]string, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.pending[key]; r != nil && now.Sub(r.first) < coalesceWindow {
		r.count++
		r.fields = fields
		return nil, false
	}
	if len(c.pending) >= maxCoalesced {
		summaries = c.flushLocked(now, true)
	}
	c.pending[key] = &repeat{first: now, fields: fields}
	return summaries, true
}

// flush returns the summaries of the queries whose window is over (all
// of them when all is true) and forgets those.
func (c *coalescer) flush(now time.Time, all bool) []map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked(now, all)
}

func (c *coalescer) flushLocked(now time.Time, all bool) []map[string]string {
	var out []map[string]string
	for k, r := range c.pending {
		if !all && now.Sub(r.first) < coalesceWindow {
			continue
		}
		delete(c.pending, k)
		if r.count == 0 {
			continue
		}
		f := r.fields
		f[fieldCount] = strconv.Itoa(r.count)
		f[fieldRepeated] = "true"
		out = append(out, f)
	}
	return out
}
