package smb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// negotiate answers an SMB2 NEGOTIATE. Its event fingerprints the client:
// the dialects it offers and their order, its GUID, capabilities and
// security mode, and for 3.1.1 its negotiate contexts and ciphers and the
// server name it typed.
func (c *conn) negotiate(r *call) (ntStatus, []byte, bool) {
	r.typ = "negotiate"
	r.note("smb_version", "2")
	req, err := parseNegotiate(r.msg)
	if err != nil {
		r.note("error", err.Error())
		return statusInvalidParameter, nil, true
	}
	r.note("dialects", jsonList(dialectList(req.dialects)),
		"client_guid", formatGUID(req.clientGUID),
		"capabilities", fmt.Sprintf("0x%08x", req.capabilities),
		"security_mode", fmt.Sprintf("0x%04x", req.securityMode))
	d := chooseDialect(req.dialects)
	if d == 0 {
		return statusNotSupported, nil, true
	}
	r.note("dialect", dialectName(d))
	if d == dialect311 {
		if cs, err := req.contexts(r.msg); err == nil {
			names, netname, ciphers := contextSummary(cs)
			r.note("contexts", jsonList(names), "ciphers", jsonList(ciphers))
			if netname != "" {
				r.note("netname", netname)
			}
		}
	}
	n, st := c.pr.negotiate(req, r.msg, d, c.port, c.srv.random)
	if st != statusSuccess {
		return st, nil, true
	}
	c.dialect, c.neg = d, n
	return statusSuccess, c.pr.negotiateBody(n, c.srv.now()), true
}

// sessionSetup runs SPNEGO/NTLMSSP: the client's NEGOTIATE gets the
// persona's CHALLENGE, its AUTHENTICATE is logged as a crackable hash and
// fails, unless it is a null session or the persona maps it to guest.
func (c *conn) sessionSetup(r *call) (ntStatus, []byte) {
	r.typ = "session_setup"
	body, ok := field(r.msg, headerSize, 24)
	if !ok {
		return statusInvalidParameter, nil
	}
	le := binary.LittleEndian
	token, ok := field(r.msg, int(le.Uint16(body[12:])), int(le.Uint16(body[14:])))
	if !ok {
		return statusInvalidParameter, nil
	}
	var s *session
	if r.h.SessionID == 0 {
		if len(c.sessions) >= maxSessions {
			return statusInsufficientResources, nil
		}
		s = &session{id: c.randomUint64()}
		c.sessions[s.id] = s
	} else if s = c.sessions[r.h.SessionID]; s == nil {
		return statusUserSessionDeleted, nil
	}
	r.sessionID = s.id
	if body[2]&0x01 != 0 { // SMB2_SESSION_FLAG_BINDING: no session key to bind with
		r.note("error", "session binding")
		c.dropSession(s)
		return statusInvalidParameter, nil
	}
	if len(token) == 0 {
		// Both products answer an empty token with their NegTokenInit.
		r.note("stage", "empty token")
		return statusMoreProcessingRequired, setupBody(0, ntlmssp.NegTokenInitMechs(c.flavor()))
	}
	inner, err := ntlmssp.UnwrapSPNEGO(token)
	switch {
	case errors.Is(err, ntlmssp.ErrNeedNTLMToken):
		r.note("mechanism", "spnego", "stage", "select ntlmssp")
		return statusMoreProcessingRequired, setupBody(0, ntlmssp.WrapSelectNTLM())
	case errors.Is(err, ntlmssp.ErrNoNTLM):
		// Kerberos alone: there is no KDC behind the persona.
		r.note("mechanism", "kerberos")
		c.dropSession(s)
		return statusLogonFailure, nil
	case err != nil || len(inner) < 12:
		r.note("error", fmt.Sprint("security blob: ", err))
		c.dropSession(s)
		return statusInvalidParameter, nil
	}
	raw := bytes.HasPrefix(token, []byte(ntlmssp.Signature))
	r.note("mechanism", "ntlmssp", "spnego", fmt.Sprint(!raw))
	switch le.Uint32(inner[8:]) {
	case 1:
		return c.ntlmNegotiate(r, s, inner, raw)
	case 3:
		return c.ntlmAuthenticate(r, s, inner, raw)
	}
	r.note("error", "unexpected NTLMSSP message")
	c.dropSession(s)
	return statusInvalidParameter, nil
}

func (c *conn) flavor() ntlmssp.Flavor {
	if c.pr.samba {
		return ntlmssp.Samba
	}
	return ntlmssp.Windows
}

// setupBody is a SESSION_SETUP response body (MS-SMB2 2.2.6).
func setupBody(flags uint16, token []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, 9)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint16(b, headerSize+8)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(token)))
	return append(b, token...)
}

func (c *conn) ntlmNegotiate(r *call, s *session, inner []byte, raw bool) (ntStatus, []byte) {
	r.note("stage", "negotiate")
	neg, err := ntlmssp.ParseNegotiate(inner)
	if err != nil {
		r.note("error", err.Error())
		c.dropSession(s)
		return statusInvalidParameter, nil
	}
	r.note("ntlm_flags", neg.Flags.String(), "client_version", neg.Version.String(),
		"workstation", neg.Workstation, "domain", neg.Domain)
	ch, err := ntlmssp.NewChallenge(neg, c.pr.ntlm, c.srv.now(), c.srv.random)
	if err != nil {
		c.dropSession(s)
		return statusInsufficientResources, nil
	}
	s.challenge, s.negotiate, s.valid = &ch, neg, false
	token := ch.Marshal()
	if !raw {
		token = ntlmssp.WrapChallenge(token)
	}
	return statusMoreProcessingRequired, setupBody(0, token)
}

func (c *conn) ntlmAuthenticate(r *call, s *session, inner []byte, raw bool) (ntStatus, []byte) {
	r.typ, r.sev = event.TypeAuth, event.Warning
	if s.challenge == nil {
		r.note("error", "AUTHENTICATE without a CHALLENGE")
		c.dropSession(s)
		return statusInvalidParameter, nil
	}
	serverChallenge := s.challenge.ServerChallenge
	s.challenge = nil
	a, err := ntlmssp.ParseAuthenticate(inner)
	if err != nil {
		r.note("error", err.Error())
		c.dropSession(s)
		return statusInvalidParameter, nil
	}
	workstation := a.Workstation
	if workstation == "" {
		workstation = s.negotiate.Workstation
	}
	r.note(event.FieldUsername, a.User, "domain", a.Domain, "workstation", workstation,
		"client_version", a.Version.String(), "ntlm_flags", a.Flags.String())
	accept := ntlmssp.WrapAccept()
	if raw {
		accept = nil
	}
	if a.Anonymous() {
		// Both products accept null sessions; what they may do is decided
		// when they open a pipe.
		s.valid, s.flags = true, sessionNull
		r.note("anonymous", "true", event.FieldSuccess, "true", "session_type", "anonymous")
		return statusSuccess, setupBody(sessionNull, accept)
	}
	r.note(a.CaptureFields(serverChallenge)...)
	r.note(event.FieldSuccess, "false")
	if c.pr.guest && !c.pr.knownUser(a.User) {
		s.valid, s.flags = true, sessionGuest
		r.note("session_type", "guest")
		return statusSuccess, setupBody(sessionGuest, accept)
	}
	c.dropSession(s)
	return statusLogonFailure, nil
}
