package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"decnet/internal/event"
)

// Dovecot's login process ends a silent client after 3 minutes.
const loginTimeout = 3 * time.Minute

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 30 * time.Second

// Bad commands a client may send: the login process closes at the third,
// the mail process after the twentieth.
const (
	maxBadPreLogin  = 3
	maxBadPostLogin = 20
)

// Field clips.
const (
	clipCommand = 512
	clipValue   = 256
)

// session is one client connection.
type session struct {
	srv    *Server
	conn   net.Conn
	rd     *reader
	fields map[string]string
	tls    bool
	// starttls: the client used STARTTLS; capSeen: it asked CAPABILITY
	// before (Dovecot then answers a login with an untagged CAPABILITY,
	// for clients that ignore the resp-code).
	starttls, capSeen bool
	bad               int
	// wmu orders writes: the login timer and IDLE's keepalive write from
	// their own goroutines.
	wmu   sync.Mutex
	timer *time.Timer // the login timeout, until login
	// closed is set once the session must end.
	closed atomic.Bool
	// started is when the current command was read, for the timings
	// Dovecot appends to tagged answers after login.
	started time.Time
	// After login: the user, the mailboxes and the selected one.
	user     string
	folders  []*folder
	sel      *folder
	readOnly bool
	enabled  map[string]bool
}

func newSession(s *Server, c net.Conn, fields map[string]string) *session {
	ss := &session{srv: s, conn: c, fields: fields}
	ss.rd = &reader{r: bufio.NewReaderSize(c, 4096), lim: preLoginLimits, cont: ss.cont}
	ss.timer = time.AfterFunc(loginTimeout, func() {
		ss.write("* BYE Disconnected for inactivity.\r\n")
		c.Close()
	})
	return ss
}

// stop ends the login timer.
func (ss *session) stop() {
	if ss.timer != nil {
		ss.timer.Stop()
	}
}

func (ss *session) emit(typ string, sev event.Severity, kv ...string) {
	f := maps.Clone(ss.fields)
	if ss.tls {
		f["tls"] = "true"
	}
	if ss.user != "" {
		f["user"] = ss.user
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	ss.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

func (ss *session) write(s string) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	if _, err := io.WriteString(ss.conn, s); err != nil {
		ss.closed.Store(true)
	}
}

// cont asks for a synchronizing literal.
func (ss *session) cont() error {
	ss.write("+ OK\r\n")
	if ss.closed.Load() {
		return net.ErrClosed
	}
	return nil
}

// startTLS runs the server side of a TLS handshake (993, or after
// STARTTLS), reporting whether it succeeded. Plaintext the client sent
// after STARTTLS is dropped, as Dovecot drops it (no command injection).
func (ss *session) startTLS(ctx context.Context) bool {
	q := &quietConn{Conn: ss.conn}
	tc := tls.Server(q, ss.srv.tls)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		ss.emit("tls_error", event.Notice, "error", event.Clip(err.Error(), 200))
		return false
	}
	q.up.Store(true)
	st := tc.ConnectionState()
	ss.wmu.Lock()
	ss.conn, ss.tls = tc, true
	ss.wmu.Unlock()
	ss.rd.r = bufio.NewReaderSize(tc, 4096)
	ss.emit("tls", event.Info, "tls_version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite),
		"sni", event.Clip(st.ServerName, 255))
	return true
}

// capabilities are the pre-login ones, as the greeting and CAPABILITY
// list them.
func (ss *session) capabilities() string {
	caps := "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
	if !ss.tls {
		caps += " STARTTLS"
	}
	if ss.plaintextRefused() {
		return caps + " LOGINDISABLED"
	}
	for _, m := range ss.srv.p.mechanisms() {
		caps += " AUTH=" + m
	}
	return caps
}

// postLoginCapabilities are Dovecot 2.3.19's imap capabilities.
const postLoginCapabilities = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"

// plaintextRefused: disable_plaintext_auth on a connection without TLS.
func (ss *session) plaintextRefused() bool { return ss.srv.p.DisablePlaintextAuth && !ss.tls }

// run greets the client and answers commands until it logs out or the
// connection ends.
func (ss *session) run(ctx context.Context) {
	ss.write("* OK [CAPABILITY " + ss.capabilities() + "] " + ss.srv.p.Greeting + "\r\n")
	for ctx.Err() == nil && !ss.closed.Load() {
		cmd, err := ss.rd.read()
		if err != nil {
			ss.readFailed(err)
			return
		}
		ss.started = time.Now()
		if ss.user == "" {
			ss.timer.Reset(loginTimeout)
		}
		ss.emitCommand(cmd)
		if ss.user == "" {
			ss.preLogin(ctx, cmd)
		} else {
			ss.postLogin(ctx, cmd)
		}
	}
}

// readFailed ends the session after a read error, with Dovecot's BYE for
// what it has one for.
func (ss *session) readFailed(err error) {
	var f fatal
	var ne net.Error
	switch {
	case errors.As(err, &f):
		ss.write("* BYE " + string(f) + "\r\n")
		ss.emit("protocol_error", event.Notice, "error", string(f))
	case errors.As(err, &ne) && ne.Timeout():
		ss.write("* BYE Disconnected for inactivity.\r\n")
	}
}

// emitCommand records a command, the password of LOGIN and the initial
// response of AUTHENTICATE masked (the auth event holds them).
func (ss *session) emitCommand(cmd *command) {
	state := "not_authenticated"
	switch {
	case ss.sel != nil:
		state = "selected"
	case ss.user != "":
		state = "authenticated"
	}
	text := cmd.name
	if cmd.err == nil {
		args := cmd.args
		switch {
		case cmd.name == "LOGIN" && len(args) >= 2, cmd.name == "AUTHENTICATE" && len(args) >= 2:
			args = append(append([]arg(nil), args[:1]...), arg{kind: atom, s: "***"})
		}
		if len(args) > 0 {
			text += " " + render(args)
		}
	}
	f := []string{event.FieldCommand, event.Clip(text, clipCommand), "state", state}
	if cmd.err != nil {
		f = append(f, "error", cmd.err.Error())
	}
	ss.emit(event.TypeCommand, event.Info, f...)
}

// render writes arguments back as IMAP text.
func render(args []arg) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch a.kind {
		case atom:
			b.WriteString(a.s)
		case str:
			b.WriteString(quote(a.s))
		case list:
			b.WriteString("(" + render(a.list) + ")")
		}
		if b.Len() > clipCommand {
			break
		}
	}
	return b.String()
}

// quote is s as an IMAP quoted string, or a literal when it holds what a
// quoted string cannot.
func quote(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") || !isASCII(s) {
		return fmt.Sprintf("{%d}\r\n%s", len(s), s)
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nstring is s quoted, or NIL when empty.
func nstring(s string) string {
	if s == "" {
		return "NIL"
	}
	return quote(s)
}

// literal is b as an IMAP literal.
func literal(b []byte) string { return fmt.Sprintf("{%d}\r\n%s", len(b), b) }

// logout says goodbye and ends the session.
func (ss *session) logout(tag string) {
	if ss.user == "" {
		ss.write("* BYE Logging out\r\n" + tag + " OK Logout completed.\r\n")
	} else {
		ss.write("* BYE Logging out\r\n" + tag + " OK Logout completed" + ss.timing() + ".\r\n")
	}
	ss.closed.Store(true)
}

// timing is what Dovecot appends to tagged answers after login: the
// command's running time and its lock wait.
func (ss *session) timing() string {
	d := max(time.Since(ss.started), time.Millisecond)
	ms := d.Milliseconds()
	return fmt.Sprintf(" (%d.%03d + 0.000 secs)", ms/1000, ms%1000)
}
