package pop3

import (
	"context"
	"strconv"
	"strings"

	"decnet/internal/event"
	"decnet/internal/mailbox"
)

// attempt is one login's credentials as the client sent them.
type attempt struct {
	method  string // user, plain, login, apop
	authz   string // PLAIN's authorization identity
	user    string
	pass    string
	hasPass bool
	digest  string // APOP's, lower-case hex
	invalid bool   // a PLAIN response Dovecot cannot split
}

// cmdAuth runs AUTH: the mechanism list, or a SASL exchange. line is the
// whole line, rest what follows "AUTH ". It reports a successful login.
func (ss *session) cmdAuth(ctx context.Context, line, rest []byte) bool {
	mech, ir, hasIR := splitAuth(rest)
	shown := string(trimEOL(line))
	if hasIR {
		shown = string(line[:len(line)-len(rest)]) + mech + " ****"
	}
	ss.command(shown)
	if mech == "" {
		ss.reply(append(append([]string{"+OK"}, ss.s.p.sasl(ss.secured)...), ".")...)
		return false
	}
	mech = upperASCII([]byte(mech))
	if mech == mechAPOP || (mech != mechPlain && mech != mechLogin) || !ss.s.p.has(mech) {
		ss.reply(replyUnsupportedMech)
		return false
	}
	if !ss.plaintextOK() {
		// Dovecot refuses before reading anything; a PLAIN initial
		// response holds the password all the same.
		if hasIR && mech == mechPlain {
			if b, err := decodeSASL(ir); err == nil {
				authz, user, pass, _ := plainCreds(b)
				ss.refused("plain", user, pass, "plaintext authentication disabled", "authzid", authz)
			}
		}
		ss.reply(replyPlaintextDisabled)
		return false
	}
	ss.setAuthenticating(true)
	defer ss.setAuthenticating(false)
	penalty := ss.penaltyWait(ctx)
	var a attempt
	var ok bool
	if mech == mechPlain {
		a, ok = ss.saslPlain(ir, hasIR)
	} else {
		a, ok = ss.saslLogin(ir, hasIR)
	}
	if !ok {
		return false
	}
	return ss.verify(ctx, penalty, a)
}

// splitAuth reads AUTH's arguments as cmd_auth does: the mechanism ends at
// a space, CR or LF, and one space after it is dropped; the rest of the
// line is the initial response. An empty mechanism asks for the list.
func splitAuth(rest []byte) (mech, ir string, hasIR bool) {
	i := 0
	for i < len(rest) && rest[i] != ' ' && rest[i] != '\r' && rest[i] != '\n' {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	mech = string(cstr(rest[:i]))
	if i < len(rest) && rest[i] == ' ' {
		i++
	}
	ir = string(trimEOL(rest[i:]))
	return mech, ir, ir != ""
}

// saslStep sends a challenge and reads the client's answer, decoded. ok
// is false when the exchange ended (abort, bad base64, client gone), its
// reply sent.
func (ss *session) saslStep(challenge string) (b []byte, ok bool) {
	ss.reply("+ " + challenge)
	line, err := ss.readLine(maxSASLLine)
	if err != nil {
		if err == errTooLong {
			ss.end("authentication response too large")
		}
		return nil, false
	}
	resp := string(trimEOL(line))
	if resp == "*" {
		ss.command("*")
		ss.reply(replyAborted)
		return nil, false
	}
	ss.command("****")
	b, err = decodeSASL(resp)
	if err != nil {
		ss.reply(replyBadBase64)
		return nil, false
	}
	return b, true
}

// initial decodes an initial response, or asks for one with challenge.
func (ss *session) initial(ir string, hasIR bool, challenge string) ([]byte, bool) {
	if !hasIR {
		return ss.saslStep(challenge)
	}
	b, err := decodeSASL(ir)
	if err != nil {
		ss.reply(replyBadBase64IR)
		return nil, false
	}
	return b, true
}

func (ss *session) saslPlain(ir string, hasIR bool) (attempt, bool) {
	b, ok := ss.initial(ir, hasIR, "")
	if !ok {
		return attempt{}, false
	}
	authz, user, pass, valid := plainCreds(b)
	return attempt{method: "plain", authz: authz, user: user, pass: pass, hasPass: true, invalid: !valid}, true
}

func (ss *session) saslLogin(ir string, hasIR bool) (attempt, bool) {
	user, ok := ss.initial(ir, hasIR, loginUserPrompt)
	if !ok {
		return attempt{}, false
	}
	pass, ok := ss.saslStep(loginPassPrompt)
	if !ok {
		return attempt{}, false
	}
	return attempt{method: "login", user: string(user), pass: string(pass), hasPass: true}, true
}

// penaltyWait holds an auth request back for the source's penalty, as
// the auth process does before it looks at one, and returns the penalty.
func (ss *session) penaltyWait(ctx context.Context) int {
	p := ss.s.penalty.get(ss.ip, ss.s.now())
	if p > 0 {
		ss.flush()
		ss.s.wait(ctx, penaltySecs(p))
	}
	return p
}

// account finds the account a login names: Dovecot lower-cases the name
// (auth_username_format %Lu) before its lookup.
func (ss *session) account(user string) (string, bool) {
	want := strings.ToLower(user)
	for _, name := range ss.s.users.Names() {
		if strings.ToLower(name) == want {
			return name, true
		}
	}
	return "", false
}

// verify checks an attempt, records it, and answers: a success opens the
// maildrop, a failure waits out Dovecot's failure delay and raises the
// source's penalty.
func (ss *session) verify(ctx context.Context, penalty int, a attempt) bool {
	name, known := ss.account(a.user)
	// A PLAIN authorization identity other than the user asks for a
	// master-user login, which no account here may do.
	authzOK := a.authz == "" || strings.EqualFold(a.authz, a.user)
	ok := known && !a.invalid && authzOK
	if ok {
		if a.method == "apop" {
			ok = apopDigest(ss.challenge, ss.s.users[name]) == a.digest
		} else {
			ok = ss.s.users.Check(name, a.pass)
		}
	}
	f := a.fields()
	f[event.FieldSuccess] = strconv.FormatBool(ok)
	if penalty > 0 {
		f["penalty_s"] = seconds(penaltySecs(penalty))
	}
	if a.method == "apop" {
		f[event.FieldHash] = a.digest + ":" + ss.challenge
		f[event.FieldHashFormat] = HashFormatAPOP
	}
	ss.emit(event.TypeAuth, event.Warning, f)
	if !ok {
		now := ss.s.now()
		ss.s.penalty.failed(ss.ip, penalty, a.user, a.pass+a.digest, now)
		ss.flush()
		ss.s.wait(ctx, ss.s.failureDelay(now))
		ss.reply(replyAuthFailed)
		return false
	}
	if penalty > 0 {
		ss.s.penalty.succeeded(ss.ip)
	}
	ss.login = name
	ss.drop = newMaildrop(mailbox.Inbox(ss.s.cfg.Host, name, ss.s.now()))
	ss.reply(replyLoggedIn)
	return true
}

// fields are an attempt's auth event fields.
func (a attempt) fields() map[string]string {
	f := map[string]string{event.FieldMethod: a.method, event.FieldUsername: event.Clip(a.user, 256)}
	if a.hasPass {
		f[event.FieldPassword] = event.Clip(a.pass, 256)
	}
	if a.authz != "" {
		f["authzid"] = event.Clip(a.authz, 256)
	}
	if a.invalid {
		f["error"] = "malformed PLAIN response"
	}
	return f
}

// refused records credentials that Dovecot turns away before checking
// them (plaintext on a clear connection, a mechanism not enabled).
func (ss *session) refused(method, user, pass, why string, extra ...string) {
	f := attempt{method: method, user: user, pass: pass, hasPass: true}.fields()
	f[event.FieldSuccess] = "false"
	f["refused"] = why
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			f[extra[i]] = event.Clip(extra[i+1], 256)
		}
	}
	ss.emit(event.TypeAuth, event.Warning, f)
}
