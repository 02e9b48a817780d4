package smtp

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"decnet/internal/event"
	"decnet/internal/pause"
)

// errAborted is a client's "*" in a SASL exchange.
var errAborted = errors.New("aborted")

// errGone is a connection that ended within a SASL exchange.
var errGone = errors.New("connection ended")

func (ss *session) auth(ctx context.Context, arg string) bool {
	switch {
	case len(ss.site.mechs) == 0:
		ss.fail(ctx, "503 5.5.1 Error: authentication not enabled")
		return true
	case ss.needTLS():
		ss.fail(ctx, "530 5.7.0 Must issue a STARTTLS command first")
		return true
	case ss.helo == "":
		ss.fail(ctx, "503 5.5.1 Error: send HELO/EHLO first")
		return true
	case ss.authUser != "":
		ss.fail(ctx, "503 5.5.1 Error: already authenticated")
		return true
	case ss.tx != nil:
		ss.fail(ctx, "503 5.5.1 Error: MAIL transaction in progress")
		return true
	case arg == "":
		ss.fail(ctx, "501 5.5.4 Syntax: AUTH mechanism")
		return true
	}
	mech, initial, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	initial = strings.TrimSpace(initial)
	if !contains(ss.site.mechs, mech) {
		ss.fail(ctx, "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
		return true
	}
	cred, err := ss.exchange(mech, initial)
	switch {
	case errors.Is(err, errGone):
		return false
	case errors.Is(err, errAborted):
		ss.fail(ctx, "501 5.7.0 Authentication aborted")
		return true
	case errors.Is(err, errBase64):
		which := "continued"
		if initial != "" {
			which = "initial"
		}
		ss.fail(ctx, "501 5.5.2 Invalid base64 data in "+which+" response")
		return true
	case err != nil:
		cred = credentials{}
	}
	ss.authResult(ctx, mech, cred, err == nil)
	return true
}

// exchange runs the mechanism's steps and returns what the client
// revealed.
func (ss *session) exchange(mech, initial string) (credentials, error) {
	switch mech {
	case "PLAIN":
		b, err := ss.response(initial, "")
		if err != nil {
			return credentials{}, err
		}
		return decodePlain(b)
	case "LOGIN":
		user, err := ss.response(initial, promptUser)
		if err != nil {
			return credentials{}, err
		}
		pass, err := ss.response("", promptPass)
		if err != nil {
			return credentials{}, err
		}
		return credentials{user: string(user), password: string(pass)}, nil
	default: // CRAM-MD5
		var rnd [16]byte
		if _, err := io.ReadFull(ss.srv.random, rnd[:]); err != nil {
			return credentials{}, err
		}
		ch := cramChallenge(rnd[:], ss.srv.now(), ss.site.mta)
		b, err := ss.response("", base64.StdEncoding.EncodeToString([]byte(ch)))
		if err != nil {
			return credentials{}, err
		}
		return decodeCRAM(ch, b)
	}
}

// response is the client's decoded answer: its initial response when it
// sent one, else the line it sends after the 334 prompt.
func (ss *session) response(initial, prompt string) ([]byte, error) {
	if initial != "" {
		return decodeB64(initial)
	}
	ss.reply("334 " + prompt)
	line, ok := ss.readLine()
	if !ok {
		return nil, errGone
	}
	if line == "*" {
		return nil, errAborted
	}
	return decodeB64(strings.TrimSpace(line))
}

// authResult records a finished exchange and answers it: the relay takes
// any login, the smtp service none, with Dovecot's growing penalty and
// Postfix's giving up from the third failure.
func (ss *session) authResult(ctx context.Context, mech string, cred credentials, wellFormed bool) {
	ok := ss.srv.relay && wellFormed
	kv := []string{event.FieldMethod, mech, event.FieldUsername, event.Clip(printable([]byte(cred.user)), clipAddr),
		event.FieldSuccess, boolText(ok)}
	switch {
	case cred.hash != "":
		kv = append(kv, event.FieldHash, cred.hash, event.FieldHashFormat, cramFormat)
	case wellFormed:
		kv = append(kv, event.FieldPassword, event.Clip(cred.password, clipAddr))
	}
	if cred.authzid != "" {
		kv = append(kv, "authzid", event.Clip(printable([]byte(cred.authzid)), clipAddr))
	}
	ss.emit(event.TypeAuth, event.Warning, kv...)
	if ok {
		ss.authUser = cred.user
		ss.reply("235 2.7.0 Authentication successful")
		return
	}
	ss.authFails++
	ss.w.Flush()
	pause.For(ctx, ss.srv.authDelay(ss.authFails))
	if ss.authFails >= 3 {
		ss.fail(ctx, "454 4.7.0 Temporary authentication failure: Connection lost to authentication server")
		return
	}
	ss.fail(ctx, "535 5.7.8 Error: authentication failed: (reason unavailable)")
}
