package pop3

import (
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Dovecot's auth penalty (auth-penalty.h, anvil's penalty.c): each failed
// login from an address raises its penalty by one, up to 4; the next
// login from it waits 2 s doubled per point, at most 15 s, before the
// auth process looks at it; a success clears it, and it decays when no
// failure came for a while. A retry of the same user and password (a
// client that reconnects and resends) does not raise it.
const (
	penaltyInitSecs  = 2
	penaltyMaxSecs   = 15
	penaltyMax       = 4
	penaltyExpire    = time.Hour // anvil's PENALTY_DEFAULT_EXPIRE_SECS
	penaltyChecksums = 10        // CHECKSUM_VALUE_PTR_COUNT
	// penaltyV6Bits is PENALTY_IPV6_MASK_BITS: an IPv6 client is judged
	// by its /48, so it cannot dodge the penalty by hopping addresses.
	penaltyV6Bits = 48
	// penaltyRecords bounds the table: a flood of sources evicts the
	// oldest, as anvil's expiry would in time.
	penaltyRecords = 4096
)

// penaltySecs is auth_penalty_to_secs: the wait for a penalty.
func penaltySecs(p int) time.Duration {
	secs := penaltyInitSecs
	for range p {
		secs *= 2
	}
	return time.Duration(min(secs, penaltyMaxSecs)) * time.Second
}

type penaltyRec struct {
	penalty   int
	last      time.Time // when it was last raised
	checksums []uint32  // of the recent failed user/password pairs, newest first
}

// penalties is anvil's table of penalties by client address.
type penalties struct {
	mu   sync.Mutex
	recs map[netip.Prefix]*penaltyRec
}

func newPenalties() *penalties { return &penalties{recs: map[netip.Prefix]*penaltyRec{}} }

// ident is the key of an address: itself, or its /48 for IPv6.
func ident(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(penaltyV6Bits)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// get is the penalty an auth request from ip starts with at now
// (PENALTY-GET and auth_penalty_anvil_callback's decay: a point is shed
// for each step of the doubling schedule that has passed since the last
// failure, the longest first).
func (t *penalties) get(ip netip.Addr, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recs[ident(ip)]
	if r == nil {
		return 0
	}
	since := now.Sub(r.last)
	if since >= penaltyExpire {
		delete(t.recs, ident(ip))
		return 0
	}
	p := r.penalty
	for drop := penaltyMax; p > 0 && since >= penaltySecs(drop); drop-- {
		p--
	}
	return p
}

// failed records a failed login that started with penalty from, for the
// user and password tried (PENALTY-INC with the checksum).
func (t *penalties) failed(ip netip.Addr, from int, user, pass string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := ident(ip)
	r := t.recs[id]
	if r == nil {
		t.evictLocked()
		r = &penaltyRec{}
		t.recs[id] = r
	}
	value := min(from+1, penaltyMax)
	sum := crc32.Update(crc32.ChecksumIEEE([]byte(pass)), crc32.IEEETable, []byte(user))
	for i, c := range r.checksums {
		if c == sum {
			// The same attempt again: it keeps its place and its penalty.
			copy(r.checksums[1:i+1], r.checksums[:i])
			r.checksums[0] = sum
			r.penalty = value - 1
			return
		}
	}
	r.checksums = append([]uint32{sum}, r.checksums[:min(len(r.checksums), penaltyChecksums-1)]...)
	r.penalty, r.last = value, now
}

// succeeded clears ip's penalty after a login that started with one.
func (t *penalties) succeeded(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.recs, ident(ip))
}

// evictLocked makes room for a record by dropping the oldest one.
func (t *penalties) evictLocked() {
	if len(t.recs) < penaltyRecords {
		return
	}
	var oldest netip.Prefix
	var at time.Time
	for id, r := range t.recs {
		if at.IsZero() || r.last.Before(at) {
			oldest, at = id, r.last
		}
	}
	delete(t.recs, oldest)
}

// failureDelay is how long the auth process holds a failure back
// (auth_failure_delay = 2 s): failures are queued and flushed by a check
// every 500 ms once two whole seconds of ioloop time have passed, so the
// reply comes between about 1 and 2.5 s after the request.
func failureDelay(now time.Time) time.Duration {
	sec := now.Truncate(time.Second)
	due := sec.Add(2 * time.Second).Sub(now)
	return due + rand.N(500*time.Millisecond)
}
