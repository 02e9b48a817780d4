package vnc

import (
	"crypto/des"
	"fmt"
	"math/bits"
	"sync"
	"time"
)

// challengeLen is the size of VNC authentication's challenge and response.
const challengeLen = 16

// hashFormat names the form of the auth event's hash field: John the
// Ripper's "vnc" format (hashcat has no VNC mode).
const hashFormat = "vnc (john)"

// johnHash is a challenge and response as John the Ripper's vnc format
// reads them: upper-case hex, which its valid() requires.
func johnHash(challenge, response []byte) string {
	return fmt.Sprintf("$vnc$*%X*%X", challenge, response)
}

// vncKey is the DES key VNC derives from a password: its first 8 bytes,
// zero-padded, each with its bits reversed (d3des's deskey reads key bits
// least significant first, standard DES most significant first).
func vncKey(password string) []byte {
	key := make([]byte, 8)
	copy(key, password)
	for i, b := range key {
		key[i] = bits.Reverse8(b)
	}
	return key
}

// vncResponse is what a client that knows password answers to challenge:
// each 8-byte half DES-encrypted (ECB) under the password's key.
func vncResponse(password string, challenge []byte) []byte {
	c, _ := des.NewCipher(vncKey(password)) // the key is always 8 bytes
	out := make([]byte, len(challenge))
	for i := 0; i+des.BlockSize <= len(challenge); i += des.BlockSize {
		c.Encrypt(out[i:], challenge[i:i+des.BlockSize])
	}
	return out
}

// maxHosts bounds the per-address tables, so that a scan from many
// addresses cannot grow them without end.
const maxHosts = 4096

// blacklist is RealVNC's and TigerVNC's rfb::Blacklist: every connection
// from an address counts (VNCServerST::addSocket), only a successful login
// clears the count (VNCServerST::queryConnection), and once the count
// reaches the threshold the address is refused until its timeout, which
// doubles each time it lapses. So a scanner is refused as soon as a
// brute-forcer is.
type blacklist struct {
	threshold int
	timeout   time.Duration // the first blocking period (BlacklistTimeout)
	now       func() time.Time

	mu    sync.Mutex
	hosts map[string]*blackmark
}

type blackmark struct {
	marks      int
	blockUntil time.Time
	timeout    time.Duration
}

// TigerVNC's defaults: BlacklistThreshold 5, BlacklistTimeout 10 s.
func newBlacklist(now func() time.Time) *blacklist {
	return &blacklist{threshold: 5, timeout: 10 * time.Second, now: now, hosts: map[string]*blackmark{}}
}

// isBlackmarked counts a connection from addr and reports whether it is
// refused, as Blacklist::isBlackmarked does: the connection that finds the
// count at the threshold is let through and starts the block, so the sixth
// connection is the first refused, and so is every one after a lapse but
// the first.
func (b *blacklist) isBlackmarked(addr string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.hosts[addr]
	if !ok {
		evictOne(b.hosts)
		m = &blackmark{marks: 1, timeout: b.timeout}
		b.hosts[addr] = m
	}
	if m.marks >= b.threshold {
		now := b.now()
		if !now.Before(m.blockUntil) {
			m.blockUntil = now.Add(m.timeout)
			m.timeout *= 2
			return false
		}
		return true
	}
	m.marks++
	return false
}

// clear forgets addr after a successful login.
func (b *blacklist) clear(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.hosts, addr)
}

// banList is TightVNC 2.x's ban list (RfbClientManager): only wrong
// passwords count; an address is refused once it has 10 more failures
// after its first, until 30 s after that first failure; a successful
// login clears it.
type banList struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*ban
}

type ban struct {
	count int
	first time.Time
}

// TightVNC's MAX_BAN_COUNT and BAN_TIME (3000 ms * MAX_BAN_COUNT).
const (
	tightMaxBanCount = 10
	tightBanTime     = 30 * time.Second
)

func newBanList(now func() time.Time) *banList {
	return &banList{now: now, entries: map[string]*ban{}}
}

// refresh drops bans whose first failure is BAN_TIME old. Callers hold mu.
func (b *banList) refresh() {
	now := b.now()
	for addr, e := range b.entries {
		if now.Sub(e.first) >= tightBanTime {
			delete(b.entries, addr)
		}
	}
}

// banned reports whether addr is refused (checkForBan).
func (b *banList) banned(addr string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refresh()
	e, ok := b.entries[addr]
	return ok && e.count >= tightMaxBanCount
}

// update records a login from addr (updateIpInBan).
func (b *banList) update(addr string, success bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refresh()
	e, ok := b.entries[addr]
	switch {
	case success:
		delete(b.entries, addr)
	case ok:
		e.count++
	default:
		evictOne(b.entries)
		b.entries[addr] = &ban{first: b.now()}
	}
}

// evictOne makes room in a full per-address table by dropping an entry.
func evictOne[V any](m map[string]V) {
	if len(m) < maxHosts {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}
