package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"decnet/internal/event"
)

// Line limits: pop3-login's input buffer (LOGIN_MAX_INBUF_SIZE) holds a
// command's arguments, its SASL buffer (LOGIN_MAX_AUTH_BUF_SIZE) one
// SASL response, and pop3's (MAX_INBUF_SIZE) a command line.
const (
	maxLoginArgs = 1026
	maxSASLLine  = 8192
	maxLine      = 2048
)

// Bad-command limits: pop3-login drops a client after its third unknown
// command in a row, pop3 after the twenty-first failed one.
const (
	maxLoginBad = 3
	maxBad      = 20
)

// The event types of this service beyond the shared ones.
const (
	typeRetr     = "retr"
	typeTLS      = "tls"
	typeTLSError = "tls_error"
)

// The states of RFC 1939, in the command events' state field.
const (
	stateAuthorization = "authorization"
	stateTransaction   = "transaction"
)

var errTooLong = errors.New("line too long")

// clientConn is what a session needs of its connection: a
// *service.Conn, whose fields start every event.
type clientConn interface {
	net.Conn
	Fields() map[string]string
	CloseWithReason(reason string) error
}

// session is one client connection.
type session struct {
	s  *Server
	c  clientConn
	ip netip.Addr
	r  *bufio.Reader // reads c, or the TLS connection over it

	// mu guards the writer and the closing, which the login timer shares
	// with the session's goroutine.
	mu     sync.Mutex
	w      *bufio.Writer
	closed bool
	timer  *time.Timer
	// loggedIn and authenticating tell the login timer what to say.
	loggedIn       bool
	authenticating bool

	secured bool
	// user is USER's argument, for PASS (Dovecot's last_user); hasUser
	// says whether one was given.
	user    string
	hasUser bool
	// virtualUser is USER's argument when plaintext logins were refused,
	// kept for the record of the PASS that may follow.
	virtualUser string
	bad         int
	challenge   string

	// After a login: the account and its maildrop.
	login string
	drop  *maildrop
}

func newSession(s *Server, c clientConn) *session {
	ss := &session{s: s, c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ss.ip = ap.Addr()
	}
	return ss
}

func (ss *session) isClosed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closed
}

// stop ends the session's timer.
func (ss *session) stop() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.timer != nil {
		ss.timer.Stop()
	}
	ss.closed = true
}

// fields are the event fields every event of the session carries.
func (ss *session) fields(extra map[string]string) map[string]string {
	f := ss.c.Fields()
	if ss.secured {
		f["tls"] = "true"
	}
	if ss.login != "" {
		f[event.FieldUsername] = ss.login
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (ss *session) emit(typ string, sev event.Severity, extra map[string]string) {
	ss.s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: ss.fields(extra)})
}

// command records one line the client sent, as shown (secrets masked).
func (ss *session) command(shown string) {
	state := stateAuthorization
	if ss.drop != nil {
		state = stateTransaction
	}
	ss.emit(event.TypeCommand, event.Info, map[string]string{event.FieldCommand: event.Clip(shown, 512), "state": state})
}

// reply queues lines, each ended with CRLF; they go out when the client
// has no further command waiting (Dovecot corks its output the same way).
func (ss *session) reply(lines ...string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, l := range lines {
		ss.w.WriteString(l)
		ss.w.WriteString("\r\n")
	}
}

// raw queues bytes as they are.
func (ss *session) raw(b []byte) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.w.Write(b)
}

func (ss *session) flush() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.w.Flush()
}

// end sends lines and closes the connection, saying why in its
// disconnect event.
func (ss *session) end(reason string, lines ...string) {
	ss.reply(lines...)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.closed = true
	ss.w.Flush()
	ss.c.CloseWithReason(reason)
}

// readLine reads one line with its LF, at most max bytes of it. Queued
// replies go out first unless a whole command is already waiting.
func (ss *session) readLine(max int) ([]byte, error) {
	if b, _ := ss.r.Peek(ss.r.Buffered()); bytes.IndexByte(b, '\n') < 0 {
		if err := ss.flush(); err != nil {
			return nil, err
		}
	}
	var line []byte
	for {
		frag, err := ss.r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max {
			return line[:max], errTooLong
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// startTLS runs the server side of a TLS handshake on the connection
// (995, or after STLS), dropping any plaintext the client pipelined.
func (ss *session) startTLS(ctx context.Context) bool {
	tc := tls.Server(ss.c, ss.s.tls)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	ss.mu.Lock()
	ss.w = bufio.NewWriter(tc)
	ss.mu.Unlock()
	ss.r = bufio.NewReader(tc)
	if err := tc.HandshakeContext(hctx); err != nil {
		ss.emit(typeTLSError, event.Info, map[string]string{"error": event.Clip(err.Error(), 256)})
		return false
	}
	st := tc.ConnectionState()
	ss.secured = true
	ss.emit(typeTLS, event.Info, map[string]string{
		"tls_version": tls.VersionName(st.Version), "cipher": tls.CipherSuiteName(st.CipherSuite), "sni": event.Clip(st.ServerName, 256),
	})
	return true
}

// run greets the client and serves it until it quits or is dropped.
func (ss *session) run(ctx context.Context) {
	now := ss.s.now()
	greeting := "+OK " + ss.s.p.Greeting
	if ss.s.p.has(mechAPOP) {
		pid, uid := ss.s.auth.connect(now)
		ch, err := apopChallenge(pid, uid, now, ss.s.host)
		if err != nil {
			ss.s.cfg.Log.Error("pop3: apop challenge", "err", err)
			return
		}
		ss.challenge = ch
		greeting += " " + ch
	}
	ss.mu.Lock()
	ss.timer = time.AfterFunc(ss.s.loginTimeout, ss.loginExpired)
	ss.mu.Unlock()
	ss.reply(greeting)
	if !ss.authorization(ctx) {
		return
	}
	ss.mu.Lock()
	ss.timer.Stop()
	ss.loggedIn = true
	ss.mu.Unlock()
	ss.transaction(ctx)
}

// loginExpired drops a client that has not logged in in time.
func (ss *session) loginExpired() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.loggedIn || ss.closed {
		return
	}
	msg := "-ERR Disconnected for inactivity."
	if ss.authenticating {
		msg = "-ERR Disconnected for inactivity during authentication."
	}
	ss.w.WriteString(msg + "\r\n")
	ss.w.Flush()
	ss.closed = true
	ss.c.CloseWithReason("login timeout")
}

func (ss *session) setAuthenticating(on bool) {
	ss.mu.Lock()
	ss.authenticating = on
	ss.mu.Unlock()
}

// readFailed ends the session after a failed read: an idle client is
// told, as Dovecot tells it; one that left is not.
func (ss *session) readFailed(err error, idleMsg string) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		ss.end("idle", idleMsg)
	}
}

// seconds formats a duration for an event.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
