package ssh

import (
	"math/rand/v2"
	"sync"
)

// msgMaxStartups is what sshd writes to a connection it drops past
// MaxStartups, before closing it unread (sshd.c drop_connection).
const msgMaxStartups = "Exceeded MaxStartups\r\n"

// maxStartups is sshd's MaxStartups "begin:rate:full" (Debian's default
// 10:30:100): with begin or more connections that have not authenticated
// yet, a new one is dropped with probability rate %, rising linearly to
// 100 % at full. sshd counts all its clients together; we count per
// source address, so a scanner sees sshd's behaviour exactly while one
// attacker cannot shut everyone else out of the decky.
type maxStartups struct {
	begin, rate, full int
	// intn draws uniformly from [0, n), like sshd's arc4random_uniform;
	// tests seed it. Called with mu held.
	intn func(n int) int

	mu      sync.Mutex
	pending map[string]int // unauthenticated connections per source address
}

// Debian's sshd leaves MaxStartups at the compiled-in 10:30:100.
const (
	maxStartupsBegin = 10
	maxStartupsRate  = 30
	maxStartupsFull  = 100
)

func newMaxStartups() *maxStartups {
	return &maxStartups{begin: maxStartupsBegin, rate: maxStartupsRate, full: maxStartupsFull, intn: rand.IntN,
		pending: map[string]int{}}
}

// admit counts a new connection from src in, or says false where sshd
// would drop it.
func (m *maxStartups) admit(src string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.drop(m.pending[src]) {
		return false
	}
	m.pending[src]++
	return true
}

// drop is sshd's should_drop_connection with n connections pending,
// integer arithmetic included.
func (m *maxStartups) drop(n int) bool {
	switch {
	case n < m.begin:
		return false
	case n >= m.full || m.rate == 100:
		return true
	}
	p := (100-m.rate)*(n-m.begin)/(m.full-m.begin) + m.rate
	return m.intn(100) < p
}

// done releases a connection admit counted: it authenticated or ended.
func (m *maxStartups) done(src string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending[src]--; m.pending[src] <= 0 {
		delete(m.pending, src)
	}
}
