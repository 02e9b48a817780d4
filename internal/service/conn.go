package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"decnet/internal/event"
)

// Limits bound what connections may take, so one source cannot exhaust
// memory or file descriptors and no session lives for ever.
type Limits struct {
	MaxConns     int           // concurrent connections on a listener
	MaxPerSource int           // concurrent connections from one source IP
	Idle         time.Duration // a read or write that waits longer fails
	Lifetime     time.Duration // hard end of a session
}

// DefaultLimits suit an interactive honeypot.
var DefaultLimits = Limits{MaxConns: 256, MaxPerSource: 32, Idle: 5 * time.Minute, Lifetime: time.Hour}

// Listen wraps ln so that every accepted connection is bounded by lim,
// announced with a connect event and, when closed, a disconnect event with
// its duration and byte counts. A connection over the per-source limit is
// recorded (connect with a "dropped" field) and closed at once. When the
// listener is full, the connection idle the longest is closed to make
// room (its disconnect says "evicted"): a flood of idle connections, from
// however many sources, cannot lock a new client out.
func Listen(ln net.Listener, emit event.Emitter, lim Limits) net.Listener {
	return &listener{Listener: ln, emit: emit, lim: lim, perSource: map[string]int{}, live: map[*Conn]struct{}{}}
}

type listener struct {
	net.Listener
	emit      event.Emitter
	lim       Limits
	mu        sync.Mutex
	total     int
	perSource map[string]int
	live      map[*Conn]struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		fields := event.Peer(c.RemoteAddr())
		fields[event.FieldSession] = newSessionID()
		if _, port, err := net.SplitHostPort(c.LocalAddr().String()); err == nil {
			fields["dst_port"] = port
		}
		ip := fields[event.FieldSrcIP]
		cc := newConn(c, l, fields)
		if reason := l.admit(cc, ip); reason != "" {
			fields["dropped"] = reason
			l.emit.Emit(event.Event{Type: event.TypeConnect, Severity: event.Warning, Fields: fields})
			c.Close()
			continue
		}
		l.emit.Emit(event.Event{Type: event.TypeConnect, Severity: event.Info, Fields: copyFields(fields)})
		return cc, nil
	}
}

// admit counts c in, or says why not; when the listener is full it first
// evicts the connection idle the longest.
func (l *listener) admit(c *Conn, ip string) string {
	for {
		l.mu.Lock()
		if l.lim.MaxPerSource > 0 && l.perSource[ip] >= l.lim.MaxPerSource {
			l.mu.Unlock()
			return "too many connections from source"
		}
		if l.lim.MaxConns <= 0 || l.total < l.lim.MaxConns {
			l.total++
			l.perSource[ip]++
			l.live[c] = struct{}{}
			l.mu.Unlock()
			return ""
		}
		victim := l.idlest()
		l.mu.Unlock()
		if victim == nil {
			return "too many connections"
		}
		// Closing releases the victim's place (release takes l.mu).
		victim.evict()
	}
}

// idlest is the live connection whose last read or write is the oldest.
// Callers hold l.mu.
func (l *listener) idlest() *Conn {
	var victim *Conn
	for c := range l.live {
		if victim == nil || c.last.Load() < victim.last.Load() {
			victim = c
		}
	}
	return victim
}

func (l *listener) release(c *Conn, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.live[c]; !ok {
		return
	}
	delete(l.live, c)
	l.total--
	if l.perSource[ip]--; l.perSource[ip] <= 0 {
		delete(l.perSource, ip)
	}
}

// Conn is an accepted connection with its peer's event fields.
type Conn struct {
	net.Conn
	l       *listener
	fields  map[string]string
	start   time.Time
	end     time.Time
	in, out atomic.Int64
	// last is when the connection last carried bytes, in Unix nanoseconds:
	// the listener evicts the one idle the longest.
	last     atomic.Int64
	evicted  atomic.Bool
	reason   atomic.Pointer[string]
	once     sync.Once
	closeErr error
}

func newConn(c net.Conn, l *listener, fields map[string]string) *Conn {
	now := time.Now()
	cc := &Conn{Conn: c, l: l, fields: fields, start: now}
	cc.last.Store(now.UnixNano())
	if l.lim.Lifetime > 0 {
		cc.end = now.Add(l.lim.Lifetime)
	}
	return cc
}

// Fields returns a fresh map holding the connection's src_ip, src_port,
// dst_port and session, for the caller to add event fields to.
func (c *Conn) Fields() map[string]string { return copyFields(c.fields) }

func (c *Conn) deadline() time.Time {
	var d time.Time
	if c.l.lim.Idle > 0 {
		d = time.Now().Add(c.l.lim.Idle)
	}
	if !c.end.IsZero() && (d.IsZero() || c.end.Before(d)) {
		d = c.end
	}
	return d
}

// Read reads with the idle and lifetime deadlines.
func (c *Conn) Read(b []byte) (int, error) {
	if d := c.deadline(); !d.IsZero() {
		c.Conn.SetReadDeadline(d)
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.in.Add(int64(n))
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// Write writes with the idle and lifetime deadlines.
func (c *Conn) Write(b []byte) (int, error) {
	if d := c.deadline(); !d.IsZero() {
		c.Conn.SetWriteDeadline(d)
	}
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.out.Add(int64(n))
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// SetDeadline is bounded by the session's lifetime.
func (c *Conn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }

// SetReadDeadline is bounded by the session's lifetime.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }

// SetWriteDeadline is bounded by the session's lifetime.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }

func (c *Conn) clamp(t time.Time) time.Time {
	if !c.end.IsZero() && (t.IsZero() || c.end.Before(t)) {
		return c.end
	}
	return t
}

// evict closes a connection to make room for a new one.
func (c *Conn) evict() {
	c.evicted.Store(true)
	c.Close()
}

// CloseWithReason closes the connection like Close, and its disconnect
// event says why in a reason field: for a server that turns clients away
// by a rule of its own, as the real product does.
func (c *Conn) CloseWithReason(reason string) error {
	c.reason.CompareAndSwap(nil, &reason)
	return c.Close()
}

// Close closes the connection once and records the disconnect.
func (c *Conn) Close() error {
	c.once.Do(func() {
		c.closeErr = c.Conn.Close()
		c.l.release(c, c.fields[event.FieldSrcIP])
		f := c.Fields()
		if c.evicted.Load() {
			f["evicted"] = "idle the longest while the listener was full"
		}
		if r := c.reason.Load(); r != nil {
			f["reason"] = *r
		}
		f["duration_s"] = strconv.FormatFloat(time.Since(c.start).Seconds(), 'f', 3, 64)
		f["bytes_in"] = strconv.FormatInt(c.in.Load(), 10)
		f["bytes_out"] = strconv.FormatInt(c.out.Load(), 10)
		c.l.emit.Emit(event.Event{Type: event.TypeDisconnect, Severity: event.Info, Fields: f})
	})
	return c.closeErr
}

// ConnFields returns the event fields of a connection accepted through
// Listen (src_ip, src_port, dst_port, session), looking through wrappers
// such as tls.Conn, or the bare peer fields of any other connection.
func ConnFields(c net.Conn) map[string]string {
	for nc := c; nc != nil; {
		if sc, ok := nc.(*Conn); ok {
			return sc.Fields()
		}
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		nc = u.NetConn()
	}
	return event.Peer(c.RemoteAddr())
}

// ServeTCP accepts connections on ln through Listen and runs handle for
// each in its own goroutine until ctx is done; it closes ln and waits for
// the handlers, whose connections it closes, before returning.
func ServeTCP(ctx context.Context, ln net.Listener, emit event.Emitter, lim Limits, handle func(ctx context.Context, c *Conn)) {
	wl := Listen(ln, emit, lim)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[*Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for c := range open {
			c.Close()
		}
	})
	defer stop()
	var backoff time.Duration
	for {
		nc, err := wl.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				// Out of descriptors, or a peer that reset before accept:
				// wait and go on, as net/http does, rather than leave the
				// port dead for the rest of the run.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
				}
			}
			cancel()
			wg.Wait()
			return
		}
		backoff = 0
		c := nc.(*Conn)
		mu.Lock()
		open[c] = struct{}{}
		mu.Unlock()
		if ctx.Err() != nil {
			// Accepted while stopping, after the sweep of open connections.
			c.Close()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(open, c)
				mu.Unlock()
				c.Close()
			}()
			handle(ctx, c)
		}()
	}
}

// ServeTCPPorts runs ServeTCP on every TCP listener in ls, telling handle
// the declared port each connection arrived on (the bound one may differ),
// and returns when all have stopped.
func ServeTCPPorts(ctx context.Context, ls Listeners, emit event.Emitter, lim Limits, handle func(ctx context.Context, port int, c *Conn)) {
	var wg sync.WaitGroup
	for port, ln := range ls.TCP {
		wg.Go(func() {
			ServeTCP(ctx, ln, emit, lim, func(ctx context.Context, c *Conn) { handle(ctx, port, c) })
		})
	}
	wg.Wait()
}

func copyFields(f map[string]string) map[string]string {
	out := make(map[string]string, len(f)+4)
	for k, v := range f {
		out[k] = v
	}
	return out
}

func newSessionID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
