package redis

import (
	"hash/fnv"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Bounds of one decky's keyspace, so writes from attackers cannot grow it
// without end. Past them writes fail with Redis's out-of-memory error.
const (
	maxKeys     = 10000
	maxKeyspace = 16 << 20
	numDBs      = 16
	entryCost   = 64 // rough per-key overhead counted against maxKeyspace
)

// vtype is a Redis value type, named as TYPE reports it.
type vtype string

const (
	tString vtype = "string"
	tHash   vtype = "hash"
	tList   vtype = "list"
)

type field struct{ name, value string }

// entry is one key's value. Hashes keep insertion order, as a small Redis
// hash (a listpack) does.
type entry struct {
	typ    vtype
	str    string
	hash   []field
	list   []string
	expire time.Time     // zero: no TTL
	renew  time.Duration // bait an application keeps rewriting: on expiry the TTL starts again
}

func (e *entry) cost(key string) int {
	n := entryCost + len(key) + len(e.str)
	for _, f := range e.hash {
		n += len(f.name) + len(f.value) + 16
	}
	for _, s := range e.list {
		n += len(s) + 16
	}
	return n
}

// keyspace is the data of one decky, shared by all its connections.
type keyspace struct {
	mu    sync.Mutex
	dbs   [numDBs]map[string]*entry
	bytes int
	keys  int
	now   func() time.Time
}

func newKeyspace(now func() time.Time) *keyspace {
	ks := &keyspace{now: now}
	for i := range ks.dbs {
		ks.dbs[i] = map[string]*entry{}
	}
	return ks
}

// lookup returns the live entry of key, expiring or renewing it first.
// The caller holds mu.
func (ks *keyspace) lookup(db int, key string) *entry {
	e, ok := ks.dbs[db][key]
	if !ok {
		return nil
	}
	if !e.expire.IsZero() {
		now := ks.now()
		if !now.Before(e.expire) {
			if e.renew <= 0 {
				ks.remove(db, key)
				return nil
			}
			periods := now.Sub(e.expire)/e.renew + 1
			e.expire = e.expire.Add(periods * e.renew)
		}
	}
	return e
}

func (ks *keyspace) remove(db int, key string) bool {
	e, ok := ks.dbs[db][key]
	if !ok {
		return false
	}
	ks.bytes -= e.cost(key)
	ks.keys--
	delete(ks.dbs[db], key)
	return true
}

// put stores e under key, replacing any value. It reports false, storing
// nothing, when the keyspace bounds would be passed. The caller holds mu.
func (ks *keyspace) put(db int, key string, e *entry) bool {
	old := ks.dbs[db][key]
	delta, keys := e.cost(key), ks.keys+1
	if old != nil {
		delta -= old.cost(key)
		keys--
	}
	if keys > maxKeys || ks.bytes+delta > maxKeyspace {
		return false
	}
	ks.dbs[db][key], ks.bytes, ks.keys = e, ks.bytes+delta, keys
	return true
}

// size is the bytes the keyspace holds, for INFO memory.
func (ks *keyspace) size() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.bytes
}

// flush empties one database, or all when db < 0.
func (ks *keyspace) flush(db int) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for i := range ks.dbs {
		if db < 0 || i == db {
			for k := range ks.dbs[i] {
				ks.remove(i, k)
			}
		}
	}
}

// liveKeys returns the keys of db that have not expired. The caller holds mu.
func (ks *keyspace) liveKeys(db int) []string {
	out := make([]string, 0, len(ks.dbs[db]))
	for k := range ks.dbs[db] {
		if ks.lookup(db, k) != nil {
			out = append(out, k)
		}
	}
	return out
}

// dbStats is one INFO keyspace line.
type dbStats struct{ db, keys, expires, avgTTL int }

func (ks *keyspace) stats() []dbStats {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	var out []dbStats
	now := ks.now()
	for i := range ks.dbs {
		st := dbStats{db: i}
		var ttl time.Duration
		for _, k := range ks.liveKeys(i) {
			st.keys++
			if e := ks.dbs[i][k]; !e.expire.IsZero() {
				st.expires++
				ttl += e.expire.Sub(now)
			}
		}
		if st.expires > 0 {
			st.avgTTL = int(ttl.Milliseconds()) / st.expires
		}
		if st.keys > 0 {
			out = append(out, st)
		}
	}
	return out
}

// scan walks db like Redis's dictScan: keys sit in hash buckets of a
// power-of-two table and the cursor advances in reverse-binary order, so
// cursors look like Redis's and a full pass returns every key present
// throughout. Like SCAN, it gathers buckets until count keys are found or ten
// times count buckets were seen, then applies keep (MATCH, TYPE).
func (ks *keyspace) scan(db int, cursor uint64, count int, keep func(string, *entry) bool) (uint64, []string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	keys := ks.liveKeys(db)
	size := uint64(4)
	for size < uint64(len(keys)) {
		size <<= 1
	}
	mask := size - 1
	buckets := make([][]string, size)
	for _, k := range keys {
		h := fnv.New64a()
		h.Write([]byte(k))
		b := h.Sum64() & mask
		buckets[b] = append(buckets[b], k)
	}
	var found []string
	for visits := 1; ; visits++ {
		bucket := buckets[cursor&mask]
		slices.Sort(bucket)
		found = append(found, bucket...)
		cursor |= ^mask
		cursor = bits.Reverse64(cursor)
		cursor++
		cursor = bits.Reverse64(cursor)
		if cursor == 0 || len(found) >= count || visits >= count*10 {
			break
		}
	}
	out := found[:0]
	for _, k := range found {
		if keep(k, ks.dbs[db][k]) {
			out = append(out, k)
		}
	}
	return cursor, out
}
