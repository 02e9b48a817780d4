package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"maps"
	"net"
	"os"
	"strings"
	"time"

	"decnet/internal/event"
	"decnet/internal/pause"
)

// Postfix's error limits: from the soft limit on, each error reply waits
// smtpd_error_sleep_time; at the hard limit the client is dropped.
const (
	softErrorLimit = 10
	hardErrorLimit = 20
	junkLimit      = 100 // smtpd_junk_command_limit
	errorSleep     = time.Second
)

// Clips of attacker text in events.
const (
	clipLine = 1024
	clipAddr = 512
)

// session is one client connection.
type session struct {
	srv    *Server
	site   site
	raw    net.Conn
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	fields map[string]string
	port   int
	tls    bool

	helo      string
	authUser  string
	authFails int
	errors    int
	junk      int
	msgs      int
	tx        *transaction // nil outside MAIL ... end of data
}

// transaction is one MAIL FROM and what followed it.
type transaction struct {
	from   string
	rcpts  []string
	denied int
	bdat   *message // the chunks so far of a BDAT transfer
}

func newSession(s *Server, c net.Conn, fields map[string]string, port int) *session {
	return &session{srv: s, site: s.site, raw: c, conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c),
		fields: fields, port: port}
}

func (ss *session) emit(typ string, sev event.Severity, kv ...string) {
	f := maps.Clone(ss.fields)
	if ss.tls {
		f["tls"] = "true"
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	ss.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

// reply queues a reply line; it is sent when the client has no more
// pipelined commands waiting, as Postfix flushes its replies.
func (ss *session) reply(lines ...string) {
	for _, l := range lines {
		ss.w.WriteString(l)
		ss.w.WriteString("\r\n")
	}
	if !ss.pipelined() {
		ss.w.Flush()
	}
}

// fail counts an error and sends its reply, late once the client has
// made the soft limit's worth.
func (ss *session) fail(ctx context.Context, line string) {
	ss.errors++
	if ss.errors >= softErrorLimit {
		ss.w.Flush()
		pause.For(ctx, ss.srv.errSleep)
	}
	ss.reply(line)
}

// junkCommand counts NOOP, RSET, VRFY and ETRN, which count as errors
// past Postfix's junk limit.
func (ss *session) junkCommand() {
	if ss.junk++; ss.junk > junkLimit {
		ss.errors++
	}
}

// submission reports whether the connection is a submission port, whose
// recipients need a login (smtpd_recipient_restrictions =
// permit_sasl_authenticated, reject).
func (ss *session) submission() bool { return ss.port == PortSubmission || ss.port == PortSMTPS }

// needTLS reports whether commands must wait for STARTTLS (submission's
// smtpd_tls_security_level = encrypt).
func (ss *session) needTLS() bool { return ss.port == PortSubmission && !ss.tls }

// authOffered reports whether EHLO lists AUTH: everywhere but on
// submission before STARTTLS (smtpd_tls_auth_only there).
func (ss *session) authOffered() bool { return len(ss.site.mechs) > 0 && !ss.needTLS() }

// run greets the client and answers its commands until it quits, breaks
// a rule or the connection ends.
func (ss *session) run(ctx context.Context) {
	ss.reply("220 " + ss.site.banner)
	for ctx.Err() == nil {
		if ss.errors >= hardErrorLimit {
			ss.reply("421 4.7.0 " + ss.site.mta + " Error: too many errors")
			ss.w.Flush()
			return
		}
		line, ok := ss.readLine()
		if !ok {
			return
		}
		ss.emit(event.TypeCommand, event.Info, event.FieldCommand, event.Clip(printable([]byte(line)), clipLine))
		if !ss.command(ctx, line) {
			ss.w.Flush()
			return
		}
	}
}

// readLine reads a line, telling a client that went silent for
// smtpd_timeout so before the connection is dropped.
func (ss *session) readLine() (string, bool) {
	if !ss.pipelined() {
		ss.w.Flush()
	}
	line, err := readLine(ss.r)
	if err != nil {
		ss.ended(err)
		return "", false
	}
	return line, true
}

// pipelined reports whether a whole command line is already waiting, so
// the replies so far may wait to go with the next ones.
func (ss *session) pipelined() bool {
	b, _ := ss.r.Peek(ss.r.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// ended answers a read error: Postfix's timeout reply, or nothing for a
// client that went away.
func (ss *session) ended(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		ss.reply("421 4.4.2 " + ss.site.mta + " Error: timeout exceeded")
		ss.w.Flush()
	}
}

// startTLS runs the server side of the TLS handshake, on 465 at once or
// after STARTTLS's 220, and reports whether it succeeded. Plaintext
// pipelined after STARTTLS is thrown away, as Postfix does since
// CVE-2011-0411.
func (ss *session) startTLS(ctx context.Context) bool {
	tc := tls.Server(ss.raw, ss.srv.tls)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		ss.emit("tls_error", event.Notice, "error", event.Clip(err.Error(), 200))
		return false
	}
	st := tc.ConnectionState()
	ss.conn, ss.r, ss.w, ss.tls = tc, bufio.NewReader(tc), bufio.NewWriter(tc), true
	ss.emit("tls", event.Info, "tls_version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite),
		"sni", event.Clip(st.ServerName, 255))
	return true
}

// command answers one command line and reports whether the session goes
// on.
func (ss *session) command(ctx context.Context, line string) bool {
	verb, arg := splitCommand(line)
	switch verb {
	case "EHLO", "HELO":
		ss.hello(ctx, verb, arg)
	case "AUTH":
		return ss.auth(ctx, arg)
	case "MAIL":
		ss.mail(ctx, arg)
	case "RCPT":
		ss.rcpt(ctx, arg)
	case "DATA":
		return ss.data(ctx, arg)
	case "BDAT":
		return ss.bdat(ctx, arg)
	case "RSET":
		ss.junkCommand()
		if arg != "" {
			ss.fail(ctx, "501 5.5.4 Syntax: RSET")
			break
		}
		ss.tx = nil
		ss.reply("250 2.0.0 Ok")
	case "NOOP":
		ss.junkCommand()
		ss.reply("250 2.0.0 Ok")
	case "VRFY":
		ss.vrfy(ctx, arg)
	case "ETRN":
		ss.etrn(ctx, arg)
	case "STARTTLS":
		return ss.starttls(ctx, arg)
	case "XCLIENT", "XFORWARD":
		ss.fail(ctx, "550 5.7.0 Error: insufficient authorization")
	case "QUIT":
		ss.reply("221 2.0.0 Bye")
		return false
	case "":
		ss.fail(ctx, "500 5.5.2 Error: bad syntax")
	default:
		ss.emit("unknown_command", event.Notice, event.FieldCommand, event.Clip(printable([]byte(line)), clipLine))
		if contains(forbidden, verb) || isHeader(line) {
			ss.reply("221 2.7.0 Error: I can break rules, too. Goodbye.")
			return false
		}
		ss.fail(ctx, "500 5.5.2 Error: command not recognized")
	}
	return true
}

func (ss *session) hello(ctx context.Context, verb, arg string) {
	if arg == "" {
		ss.fail(ctx, "501 Syntax: "+verb+" hostname")
		return
	}
	ss.helo, ss.tx = arg, nil
	ss.emit("helo", event.Info, "helo", event.Clip(printable([]byte(arg)), clipAddr), "esmtp", boolText(verb == "EHLO"))
	if verb == "HELO" {
		ss.reply("250 " + ss.site.mta)
		return
	}
	lines := []string{ss.site.mta, "PIPELINING", "SIZE " + itoa(ss.site.sizeMax), "VRFY", "ETRN"}
	if !ss.tls {
		lines = append(lines, "STARTTLS")
	}
	if ss.authOffered() {
		lines = append(lines, "AUTH "+strings.Join(ss.site.mechs, " "))
	}
	lines = append(lines, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")
	for i := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		lines[i] = "250" + sep + lines[i]
	}
	ss.reply(lines...)
}

func (ss *session) vrfy(ctx context.Context, arg string) {
	ss.junkCommand()
	f := strings.Fields(arg)
	if len(f) == 2 && strings.EqualFold(f[1], "SMTPUTF8") {
		f = f[:1]
	}
	switch {
	case len(f) == 0:
		ss.fail(ctx, "501 5.5.4 Syntax: VRFY address [SMTPUTF8]")
	case len(f) > 1:
		ss.fail(ctx, "501 5.1.3 Bad recipient address syntax")
	default:
		ss.reply("252 2.0.0 " + f[0])
	}
}

func (ss *session) etrn(ctx context.Context, arg string) {
	ss.junkCommand()
	switch {
	case ss.helo == "":
		ss.fail(ctx, "503 Error: send HELO/EHLO first")
	case ss.tx != nil:
		ss.fail(ctx, "503 Error: MAIL transaction in progress")
	case arg == "":
		ss.fail(ctx, "500 Syntax: ETRN domain")
	default:
		ss.fail(ctx, "459 <"+arg+">: service unavailable")
	}
}

func (ss *session) starttls(ctx context.Context, arg string) bool {
	switch {
	case arg != "":
		ss.fail(ctx, "501 5.5.4 Syntax: STARTTLS")
	case ss.tls:
		ss.fail(ctx, "554 5.5.1 Error: TLS already active")
	default:
		ss.reply("220 2.0.0 Ready to start TLS")
		ss.w.Flush()
		if !ss.startTLS(ctx) {
			return false
		}
		// RFC 3207: the client starts over.
		ss.helo, ss.authUser, ss.tx = "", "", nil
	}
	return true
}
