package pop3

import (
	"context"
	"strings"

	"decnet/internal/event"
)

// The replies of pop3-login.
const (
	replyPlaintextDisallowed = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
	replyPlaintextDisabled   = "-ERR [AUTH] Plaintext authentication disabled."
	replyUnsupportedMech     = "-ERR [AUTH] Unsupported authentication mechanism."
	replyAuthFailed          = "-ERR [AUTH] Authentication failed."
	replyAborted             = "-ERR Authentication aborted by client."
	replyBadBase64IR         = "-ERR [AUTH] Invalid base64 data in initial response"
	replyBadBase64           = "-ERR [AUTH] Invalid base64 in response"
	replyLoggedIn            = "+OK Logged in."
)

// capabilities is POP3_CAPABILITY_REPLY, what pop3-login and pop3 list
// first.
var capabilities = []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"}

// authorization serves pop3-login's commands until a login succeeds
// (true) or the client is gone (false).
func (ss *session) authorization(ctx context.Context) bool {
	for {
		line, err := ss.readLine(maxSASLLine + maxLoginName + 2)
		name, rest, complete := splitLogin(line)
		if err == errTooLong {
			ss.command(event.Clip(string(line), 64) + "…")
			if name == "AUTH" {
				ss.end("authentication response too large")
			} else {
				ss.end("input buffer full", "-ERR Input buffer full, aborting")
			}
			return false
		}
		if err != nil || !complete {
			return false
		}
		if len(rest) > maxLoginArgs && name != "AUTH" {
			ss.command(event.Clip(string(line), 64) + "…")
			ss.end("input buffer full", "-ERR Input buffer full, aborting")
			return false
		}
		args := loginArgs(rest)
		if name == "AUTH" {
			if ss.cmdAuth(ctx, line, rest) {
				return true
			}
			if ss.isClosed() {
				return false
			}
			continue
		}
		ss.command(shownLogin(line, rest, name, args))
		known, done := ss.loginCommand(ctx, name, args)
		switch {
		case done:
			return ss.loggedInNow()
		case known:
			ss.bad = 0
		default:
			ss.reply("-ERR Unknown command.")
			if ss.bad++; ss.bad >= maxLoginBad {
				ss.end("too many bad commands", "-ERR Too many invalid bad commands.")
				return false
			}
		}
	}
}

// loggedInNow says whether the session has logged in.
func (ss *session) loggedInNow() bool { return ss.drop != nil }

// shownLogin is a pre-login line as a command event shows it, PASS's
// password masked (the auth event holds it).
func shownLogin(line, rest []byte, name, args string) string {
	shown := string(trimEOL(line))
	if name == "PASS" && args != "" {
		shown = string(line[:len(line)-len(rest)]) + "****"
	}
	return shown
}

// loginCommand runs one pre-login command other than AUTH. known is false
// for an unknown one; done is true when the session ended or logged in.
func (ss *session) loginCommand(ctx context.Context, name, args string) (known, done bool) {
	switch name {
	case "CAPA":
		ss.capa()
	case "USER":
		ss.cmdUser(args)
	case "PASS":
		return true, ss.cmdPass(ctx, args)
	case "APOP":
		return true, ss.cmdAPOP(ctx, args)
	case "STLS":
		return true, ss.cmdSTLS(ctx)
	case "QUIT":
		ss.end("quit", "+OK Logging out")
		return true, true
	case "XCLIENT", "XOIP":
		ss.reply("+OK You are not from trusted IP - ignoring")
	default:
		return false, false
	}
	return true, false
}

// plaintextOK is client_check_plaintext_auth without its reply.
func (ss *session) plaintextOK() bool { return ss.secured || !ss.s.p.DisablePlaintextAuth }

func (ss *session) capa() {
	lines := append([]string{"+OK"}, capabilities...)
	if !ss.secured {
		lines = append(lines, "STLS")
	}
	if ss.plaintextOK() {
		lines = append(lines, "USER")
	}
	lines = append(lines, strings.TrimSpace("SASL "+strings.Join(ss.s.p.sasl(ss.secured), " ")), ".")
	ss.reply(lines...)
}

func (ss *session) cmdUser(args string) {
	if !ss.plaintextOK() {
		if ss.virtualUser == "" {
			ss.virtualUser = args
		}
		ss.reply(replyPlaintextDisallowed)
		return
	}
	ss.user, ss.hasUser = args, true
	ss.reply("+OK")
}

// cmdPass logs in with USER's name, through PLAIN as pop3-login does.
func (ss *session) cmdPass(ctx context.Context, args string) bool {
	if !ss.hasUser {
		if !ss.plaintextOK() {
			if ss.virtualUser != "" {
				ss.refused("user", ss.virtualUser, args, "plaintext authentication disallowed")
			}
			ss.reply(replyPlaintextDisallowed)
			return false
		}
		ss.reply("-ERR No username given.")
		return false
	}
	user := ss.user
	ss.user, ss.hasUser = "", false
	if !ss.s.p.has(mechPlain) {
		ss.refused("user", user, args, "mechanism not enabled")
		ss.reply(replyUnsupportedMech)
		return false
	}
	return ss.verify(ctx, ss.penaltyWait(ctx), attempt{method: "user", user: user, pass: args, hasPass: true})
}

func (ss *session) cmdSTLS(ctx context.Context) bool {
	if ss.secured {
		ss.reply("-ERR TLS is already active.")
		return false
	}
	ss.reply("+OK Begin TLS negotiation now.")
	if ss.flush() != nil || !ss.startTLS(ctx) {
		ss.end("tls failed")
		return true
	}
	return false
}

func (ss *session) cmdAPOP(ctx context.Context, args string) bool {
	if ss.challenge == "" {
		ss.reply("-ERR APOP not enabled.")
		return false
	}
	user, digest, errReply := parseAPOP(args)
	if errReply != "" {
		ss.reply(errReply)
		return false
	}
	return ss.verify(ctx, ss.penaltyWait(ctx), attempt{method: "apop", user: user, digest: digest})
}
