package mqtt

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	"decnet/internal/event"
	"decnet/internal/service"
)

// TypeProtocolError is the event of a connection whose first bytes are not
// an MQTT CONNECT (an HTTP probe, a scanner's banner grab).
const TypeProtocolError = "protocol_error"

// handshakeTimeout bounds a TLS handshake, shorter than the idle limit.
const handshakeTimeout = 30 * time.Second

// listener feeds mochi the runtime's sockets. It is ours rather than
// mochi's listeners.Net so that a failed accept is retried instead of
// ending the port, every connection is closed and waited for on shutdown,
// and the first byte is checked the way mosquitto does before mochi sees
// the connection.
type listener struct {
	id    string
	ln    net.Listener // wrapped by service.Listen
	tls   *tls.Config  // nil: plain MQTT
	emit  event.Emitter
	ready <-chan struct{} // closed once the broker's topics are in place
	stats *counters
	// crashed cleans up after a panic of mochi's on c's session (its
	// packet decoders panic on some malformed packets).
	crashed func(c *conn, panicked any)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	live   map[net.Conn]struct{}
}

func newListener(id string, ln net.Listener, tlsCfg *tls.Config, emit event.Emitter, ready <-chan struct{}, stats *counters, crashed func(*conn, any)) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{id: id, ln: ln, tls: tlsCfg, emit: emit, ready: ready, stats: stats, crashed: crashed,
		ctx: ctx, cancel: cancel, live: map[net.Conn]struct{}{}}
}

func (l *listener) ID() string              { return l.id }
func (l *listener) Address() string         { return l.ln.Addr().String() }
func (l *listener) Protocol() string        { return "tcp" }
func (l *listener) Init(*slog.Logger) error { return nil }

// Serve accepts connections until Close, once the broker is ready.
func (l *listener) Serve(establish listeners.EstablishFn) {
	select {
	case <-l.ready:
	case <-l.ctx.Done():
		return
	}
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or a reset before accept: wait and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
				continue
			case <-l.ctx.Done():
				return
			}
		}
		backoff = 0
		if !l.track(c) {
			c.Close()
			return
		}
		l.stats.socket()
		go func() {
			defer l.wg.Done()
			defer l.untrack(c)
			defer c.Close()
			if mc := l.open(c); mc != nil {
				l.session(establish, mc)
			}
		}()
	}
}

// session runs mochi's session on c, surviving a panic of its decoders.
func (l *listener) session(establish listeners.EstablishFn, c *conn) {
	defer func() {
		if r := recover(); r != nil {
			l.crashed(c, r)
		}
	}()
	establish(l.id, c) // its error is the client's, already recorded
}

// track counts c in unless the listener is closing.
func (l *listener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return false
	}
	l.live[c] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *listener) untrack(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.live, c)
}

// open does the TLS handshake, then reads the first bytes: mosquitto
// reads one byte and drops a connection whose first packet is not a
// CONNECT at once, resetting it (the rest is unread). It returns the
// connection for mochi, or nil when it closed it.
func (l *listener) open(c net.Conn) *conn {
	fields := service.ConnFields(c)
	nc := c
	if l.tls != nil {
		tc := tls.Server(c, l.tls)
		ctx, cancel := context.WithTimeout(l.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return nil
		}
		nc = tc
	}
	buf := make([]byte, 256)
	n, _ := nc.Read(buf)
	if n == 0 {
		return nil
	}
	if buf[0]>>4 != 1 {
		f := service.ConnFields(c)
		f["data_hex"] = hex.EncodeToString(buf[:min(n, 64)])
		f["data"] = event.Clip(printable(buf[:n]), 64)
		l.emit.Emit(event.Event{Type: TypeProtocolError, Severity: event.Info, Fields: f,
			Msg: "first packet is not CONNECT"})
		reset(c)
		return nil
	}
	return &conn{Conn: nc, pre: buf[:n], fields: fields, emit: l.emit, tls: l.tls != nil}
}

// reset closes c with a TCP RST, as a socket closed with unread data is.
func reset(c net.Conn) {
	var nc net.Conn = c
	if sc, ok := c.(*service.Conn); ok {
		nc = sc.Conn
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}

// Close stops accepting, lets mochi close its clients, closes the
// connections it has not seen yet and waits for every one.
func (l *listener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	l.cancel()
	l.mu.Unlock()
	l.ln.Close()
	closeClients(l.id)
	l.mu.Lock()
	for c := range l.live {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// printable keeps the printable ASCII of b, for an event's text field.
func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, ch := range b {
		if ch >= 0x20 && ch < 0x7f {
			out = append(out, ch)
		} else {
			out = append(out, '.')
		}
	}
	return string(out)
}
