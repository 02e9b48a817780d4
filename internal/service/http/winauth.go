package http

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// The auth persona key's values.
const (
	authBasic   = "basic"
	authWindows = "windows"
)

// authFields are WWW-Authenticate header fields, one per challenge, in
// the order the product sends them.
func authFields(challenges []string) []header {
	out := make([]header, len(challenges))
	for i, c := range challenges {
		out[i] = header{"WWW-Authenticate", c}
	}
	return out
}

// challenges are a 401's WWW-Authenticate fields: IIS with Windows
// Authentication offers Negotiate then NTLM, the others Basic.
func (s *site) challenges() []string {
	if s.windowsAuth() {
		return []string{"Negotiate", "NTLM"}
	}
	return []string{`Basic realm="Restricted"`}
}

func (s *site) windowsAuth() bool {
	switch s.persona.Auth {
	case authWindows:
		return true
	case authBasic:
		return false
	}
	return s.product == iis
}

// ntlmConn is a connection's NTLM handshake: NTLM authenticates the
// connection, so the challenge lives as long as it.
type ntlmConn struct {
	challenge *[8]byte
}

// windowsAuth runs NTLM, bare or inside Negotiate (SPNEGO), over a 401's
// Authorization header: a NEGOTIATE gets the persona's CHALLENGE, an
// AUTHENTICATE is recorded as a crackable NetNTLMv2 (hashcat 5600) and
// refused. Kerberos tokens and anything malformed get the plain 401.
func (s *Server) windowsAuth(fields map[string]string, req *request, resp *response, st *ntlmConn) {
	if resp.status != 401 || !s.site.windowsAuth() {
		return
	}
	scheme, token, ok := strings.Cut(req.get("Authorization"), " ")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "ntlm" && scheme != "negotiate" {
		return
	}
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return
	}
	if scheme == "negotiate" {
		if msg, err = ntlmssp.UnwrapSPNEGO(msg); err != nil {
			return
		}
	}
	if neg, err := ntlmssp.ParseNegotiate(msg); err == nil {
		ch, err := ntlmssp.NewChallenge(neg, s.ntlm, time.Now(), rand.Reader)
		if err != nil {
			return
		}
		st.challenge = &ch.ServerChallenge
		out := ch.Marshal()
		name := "NTLM "
		if scheme == "negotiate" {
			out, name = ntlmssp.WrapChallenge(out), "Negotiate "
		}
		resp.auth = []string{name + base64.StdEncoding.EncodeToString(out)}
		return
	}
	a, err := ntlmssp.ParseAuthenticate(msg)
	if err != nil || st.challenge == nil {
		return
	}
	f := fields
	f[event.FieldUsername] = a.User
	f["domain"] = a.Domain
	f["workstation"] = a.Workstation
	f[event.FieldSuccess] = "false"
	f["scheme"] = scheme
	f[event.FieldPath] = req.target
	kv := a.CaptureFields(*st.challenge)
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	st.challenge = nil
	s.emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
}
