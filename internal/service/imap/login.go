package imap

import (
	"bytes"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/event"
	"decnet/internal/mailbox"
	"decnet/internal/pause"
)

// maxSASLLine bounds a SASL response line (Dovecot's login buffer for
// authentication is 8 KiB).
const maxSASLLine = 8192

// preLogin answers a command before login, as Dovecot's imap-login does.
func (ss *session) preLogin(ctx context.Context, cmd *command) {
	if cmd.err != nil {
		ss.badPreLogin(cmd.tag)
		return
	}
	tag := cmd.tag
	switch cmd.name {
	case "CAPABILITY":
		ss.capSeen = ss.capSeen || !ss.starttls
		ss.write("* CAPABILITY " + ss.capabilities() + "\r\n" + tag + " OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
	case "NOOP":
		ss.write(tag + " OK NOOP completed.\r\n")
	case "LOGOUT":
		ss.logout(tag)
	case "ID":
		ss.id(cmd)
		ss.write("* ID (\"name\" \"Dovecot\")\r\n" + tag + " OK ID completed.\r\n")
	case "ENABLE":
		ss.write("* ENABLED\r\n" + tag + " OK ENABLE ignored in non-authenticated state.\r\n")
	case "STARTTLS":
		if ss.tls {
			ss.write(tag + " BAD TLS is already active.\r\n")
			return
		}
		ss.write(tag + " OK Begin TLS negotiation now.\r\n")
		ss.starttls = true
		if !ss.startTLS(ctx) {
			ss.closed.Store(true)
		}
	case "LOGIN":
		ss.login(ctx, cmd)
	case "AUTHENTICATE":
		ss.authenticate(ctx, cmd)
	default:
		ss.badPreLogin(tag)
	}
}

// badPreLogin answers a bad command; the third ends the connection.
func (ss *session) badPreLogin(tag string) {
	if ss.bad++; ss.bad >= maxBadPreLogin {
		ss.write("* BYE Too many invalid IMAP commands.\r\n")
		ss.closed.Store(true)
		return
	}
	ss.write(tag + " BAD Error in IMAP command received by server.\r\n")
}

// id records what a client's ID says about it (a fingerprint).
func (ss *session) id(cmd *command) {
	if len(cmd.args) != 1 || cmd.args[0].kind != list {
		return
	}
	var parts []string
	l := cmd.args[0].list
	for i := 0; i+1 < len(l); i += 2 {
		parts = append(parts, l[i].s+"="+l[i+1].s)
	}
	if len(parts) > 0 {
		ss.emit("client_id", event.Info, event.FieldUserAgent, event.Clip(strings.Join(parts, "; "), clipValue))
	}
}

// login is the LOGIN command.
func (ss *session) login(ctx context.Context, cmd *command) {
	if len(cmd.args) != 2 || cmd.args[0].kind == list || cmd.args[1].kind == list {
		ss.badPreLogin(cmd.tag)
		return
	}
	user, pass := cmd.args[0].s, cmd.args[1].s
	if ss.plaintextRefused() {
		ss.emitAuth("LOGIN", user, pass, "", false, "plaintext authentication disallowed")
		ss.write("* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\n" +
			cmd.tag + " NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
		return
	}
	ss.verify(ctx, cmd.tag, "LOGIN", user, pass, "")
}

// authenticate is the AUTHENTICATE command, PLAIN or LOGIN, with or
// without an initial response (SASL-IR).
func (ss *session) authenticate(ctx context.Context, cmd *command) {
	if len(cmd.args) < 1 || len(cmd.args) > 2 || cmd.args[0].kind != atom {
		ss.badPreLogin(cmd.tag)
		return
	}
	mech := strings.ToUpper(cmd.args[0].s)
	if (mech == "PLAIN" || mech == "LOGIN") && ss.plaintextRefused() {
		ss.write(cmd.tag + " NO [PRIVACYREQUIRED] Plaintext authentication disabled.\r\n")
		return
	}
	if !slices.Contains(ss.srv.p.mechanisms(), mech) {
		ss.write(cmd.tag + " NO [ALERT] Unsupported authentication mechanism.\r\n")
		return
	}
	var ir []byte
	hasIR := len(cmd.args) == 2
	if hasIR {
		ir = []byte(cmd.args[1].s)
	}
	method := "AUTHENTICATE " + mech
	var user, pass, authz string
	switch mech {
	case "PLAIN":
		resp, ok := ss.saslStep(cmd.tag, "", ir, hasIR)
		if !ok {
			return
		}
		parts := bytes.SplitN(resp, []byte{0}, 3)
		if len(parts) != 3 {
			ss.emitAuth(method, "", "", "", false, "malformed PLAIN response")
			ss.fail(ctx, cmd.tag)
			return
		}
		authz, user, pass = string(parts[0]), string(parts[1]), string(parts[2])
	case "LOGIN":
		u, ok := ss.saslStep(cmd.tag, "VXNlcm5hbWU6", ir, hasIR)
		if !ok {
			return
		}
		p, ok := ss.saslStep(cmd.tag, "UGFzc3dvcmQ6", nil, false)
		if !ok {
			ss.emitAuth(method, string(u), "", "", false, "aborted")
			return
		}
		user, pass = string(u), string(p)
	}
	ss.verify(ctx, cmd.tag, method, user, pass, authz)
}

// saslStep sends a challenge (unless the client gave its initial
// response) and decodes the client's answer. "=" is an empty initial
// response; "*" aborts.
func (ss *session) saslStep(tag, challenge string, ir []byte, hasIR bool) ([]byte, bool) {
	line := ir
	if !hasIR {
		ss.write("+ " + challenge + "\r\n")
		var err error
		if line, err = ss.rd.readLine(maxSASLLine); err != nil {
			ss.closed.Store(true)
			return nil, false
		}
	}
	if string(line) == "*" {
		ss.write(tag + " BAD Authentication aborted by client.\r\n")
		return nil, false
	}
	if hasIR && string(line) == "=" {
		return nil, true
	}
	b, err := base64.StdEncoding.DecodeString(string(line))
	if err != nil {
		ss.write(tag + " NO [ALERT] Invalid base64 in response\r\n")
		return nil, false
	}
	return b, true
}

// verify checks a login, records it and answers after Dovecot's delays.
func (ss *session) verify(ctx context.Context, tag, method, user, pass, authz string) {
	srv := ss.srv
	ip := ss.fields[event.FieldSrcIP]
	n, last := srv.penalty.failures(ip, srv.now())
	penalty := srv.penaltyDelay(n) - srv.now().Sub(last)
	ok := user != "" && (authz == "" || authz == user) && srv.users.Check(user, pass)
	ss.emitAuth(method, user, pass, authz, ok, "")
	if !pause.For(ctx, penalty) {
		ss.closed.Store(true)
		return
	}
	if !ok {
		srv.penalty.fail(ip, srv.now())
		ss.fail(ctx, tag)
		return
	}
	srv.penalty.succeed(ip)
	if ss.capSeen {
		ss.write("* CAPABILITY " + postLoginCapabilities + "\r\n" + tag + " OK Logged in\r\n")
	} else {
		ss.write(tag + " OK [CAPABILITY " + postLoginCapabilities + "] Logged in\r\n")
	}
	ss.loggedIn(user)
}

// fail answers a failed authentication after auth_failure_delay.
func (ss *session) fail(ctx context.Context, tag string) {
	if !pause.For(ctx, ss.srv.failDelay()) {
		ss.closed.Store(true)
		return
	}
	ss.write(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
}

// emitAuth records a login attempt: username and password make the
// credential bounty.
func (ss *session) emitAuth(method, user, pass, authz string, ok bool, refused string) {
	sev := event.Warning
	kv := []string{
		event.FieldUsername, event.Clip(user, clipValue), event.FieldPassword, event.Clip(pass, clipValue),
		event.FieldMethod, method, event.FieldSuccess, strconv.FormatBool(ok),
	}
	if authz != "" {
		kv = append(kv, "authzid", event.Clip(authz, clipValue))
	}
	if refused != "" {
		kv = append(kv, "refused", refused)
	}
	ss.emit(event.TypeAuth, sev, kv...)
}

// loggedIn moves the session to the authenticated state with the user's
// bait mailboxes.
func (ss *session) loggedIn(user string) {
	ss.stop()
	ss.timer = nil
	ss.user = user
	ss.bad = 0
	ss.rd.lim = postLoginLimits
	box := mailbox.Inbox(ss.srv.cfg.Host, user, ss.srv.now())
	ss.folders = folders(box, ss.srv.p.Folders)
	ss.enabled = map[string]bool{}
}
