package snmp

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"strconv"
	"time"

	"decnet/internal/event"
)

// timeWindow is USM's 150-second window (RFC 3414 3.2.7).
const timeWindow = 150

// usmStatsOID is the prefix of the USM statistics.
var usmStatsOID = oid{1, 3, 6, 1, 6, 3, 15, 1, 1}

// authorizationError is the error status of a request VACM refuses.
const authorizationError = 16

// v3 processes a v3 message in snmpd's order of checks (snmpusm.c): the
// engine ID, the user, the security level, the digest, the time window,
// the decryption; each failure is a report (when the message asks for
// one) of the USM statistic that counts it.
func (a *Agent) v3(m *message, raw []byte, fields map[string]string) []byte {
	f := event.With(fields, map[string]string{
		fieldVersion:        "3",
		event.FieldUsername: text(m.usm.user),
		fieldSecLevel:       levelName(m.flags),
		fieldMsgID:          strconv.FormatInt(m.msgID, 10),
	})
	if len(m.usm.engineID) > 0 {
		f[fieldEngineID] = hex.EncodeToString(m.usm.engineID)
	}
	if m.secModel != usmSecurityModel || m.flags&(flagAuth|flagPriv) == flagPriv {
		f[fieldError] = "unsupported security model or flags"
		a.emit(typeError, event.Warning, f)
		return nil
	}
	now := a.now()
	u := a.eng.user(m.usm.user)
	ours := bytes.Equal(m.usm.engineID, a.eng.id)
	if m.flags&flagAuth != 0 && len(m.usm.engineID) > 0 {
		ok := u != nil && ours && verify(u, m, raw)
		// Every failed login is recorded with its hash; a session's
		// successful ones (a walk signs every request) once a minute.
		if !ok || a.logins.first(fields[event.FieldSrcIP]+"|"+u.name+"|"+levelName(m.flags), now) {
			a.authEvent(m, raw, u, ok, f)
		}
	}
	var p pdu
	if m.scoped != nil {
		// A request in clear is recorded even when it is refused.
		p, _ = parseScoped(m.scoped)
		f = pduFields(f, p)
	}
	switch {
	case !ours:
		return a.refuse(m, f, "engine discovery", statUnknownEngineIDs, nil, p.reqID, now)
	case u == nil:
		return a.refuse(m, f, "unknown user", statUnknownUserNames, nil, p.reqID, now)
	case m.flags&flagPriv != 0 && u.priv == "":
		return a.refuse(m, f, "unsupported security level", statUnsupportedSecLevels, nil, p.reqID, now)
	case m.flags&flagAuth != 0 && !verify(u, m, raw):
		return a.refuse(m, f, "wrong digest", statWrongDigests, nil, p.reqID, now)
	case m.flags&flagAuth != 0 && (m.usm.boots != a.eng.boots || abs(m.usm.time-a.eng.time(now)) > timeWindow):
		// The one report snmpd signs, so the manager can trust the time
		// it learns from it.
		return a.refuse(m, f, "not in time window", statNotInTimeWindows, u, p.reqID, now)
	}
	if m.flags&flagPriv != 0 {
		plain, err := u.decrypt(m.encrypted, m.usm)
		if err != nil {
			return a.refuse(m, f, "decryption error", statDecryptionErrors, nil, 0, now)
		}
		if p, err = parseScopedData(plain); err != nil {
			// A wrong privacy key gives garbage that snmpd drops as a
			// parse error, without a report.
			f[fieldResult] = "undecodable scoped PDU (wrong privacy key)"
			a.emit(event.TypeRequest, event.Warning, f)
			return nil
		}
		f = pduFields(f, p)
	} else if m.scoped == nil {
		return nil
	}
	if !answerable(p.typ) {
		f[fieldResult] = "ignored"
		a.emit(event.TypeRequest, event.Info, f)
		return nil
	}
	var r result
	if m.flags&flagAuth == 0 {
		// The user exists but VACM gives noAuthNoPriv no view.
		r = echo(p, authorizationError, 0)
	} else {
		r = a.process(p, false, accessRead, now)
	}
	limit := int(min(m.maxSize, maxUDPReply))
	reply := fit(p, r, false, limit, func(pb []byte) []byte {
		return a.v3Message(m, u, m.flags&(flagAuth|flagPriv), pb, now)
	})
	a.st.count(p, reply != nil)
	a.record(f, p, r, accessRead)
	return reply
}

// refuse answers a failed check with a report of USM statistic stat
// (signed by u when not nil), if the message asks for reports.
func (a *Agent) refuse(m *message, f map[string]string, why string, stat int, u *v3user, reqID int64, now time.Time) []byte {
	n := a.eng.usmStats[stat].Add(1)
	f[fieldResult] = why
	sev := event.Warning
	if stat == statUnknownEngineIDs {
		sev = event.Info
	}
	a.emit(event.TypeRequest, sev, f)
	if m.flags&flagReportable == 0 {
		return nil
	}
	o := append(append(oid{}, usmStatsOID...), uint32(stat), 0)
	vb := appendVarbind(nil, o, tagCounter32, uintBytes(uint64(n)))
	pb := appendPDU(nil, pduReport, reqID, 0, 0, vb)
	level := byte(0)
	if u != nil {
		level = flagAuth
	}
	return a.v3Message(m, u, level, pb, now)
}

// v3Message builds a reply to m at security level (msgFlags bits) with
// PDU pb, encrypted and signed with u's keys as level asks.
func (a *Agent) v3Message(m *message, u *v3user, level byte, pb []byte, now time.Time) []byte {
	boots, t := a.eng.boots, a.eng.time(now)
	scoped := appendTLV(nil, tagSequence, appendTLV(nil, tagOctetString, a.eng.id), appendTLV(nil, tagOctetString), pb)
	data, salt := scoped, []byte{}
	if level&flagPriv != 0 {
		var enc []byte
		enc, salt = u.encrypt(scoped, a.eng, boots, t)
		data = appendTLV(nil, tagOctetString, enc)
	}
	authParams := []byte{}
	if level&flagAuth != 0 {
		authParams = make([]byte, authProtocols[u.auth].digest)
	}
	sec := appendTLV(nil, tagSequence,
		appendTLV(nil, tagOctetString, a.eng.id), appendInt(nil, boots), appendInt(nil, t),
		appendTLV(nil, tagOctetString, m.usm.user), appendTLV(nil, tagOctetString, authParams),
		appendTLV(nil, tagOctetString, salt))
	hdr := appendTLV(nil, tagSequence, appendInt(nil, m.msgID), appendInt(nil, maxUDPReply),
		appendTLV(nil, tagOctetString, []byte{level}), appendInt(nil, usmSecurityModel))
	msg := appendTLV(nil, tagSequence, appendInt(nil, version3), hdr, appendTLV(nil, tagOctetString, sec), data)
	if level&flagAuth != 0 {
		back, err := parseMessage(msg)
		if err != nil {
			return nil
		}
		copy(msg[back.usm.authOff:], authProtocols[u.auth].sum(u.authKey, msg))
	}
	return msg
}

// verify checks an authenticated message's digest with u's key.
func verify(u *v3user, m *message, raw []byte) bool {
	ap := authProtocols[u.auth]
	if len(m.usm.authParams) != ap.digest {
		return false
	}
	z := zeroAuth(raw, m.usm.authOff, len(m.usm.authParams))
	return hmac.Equal(ap.sum(u.authKey, z), m.usm.authParams)
}

// authEvent records an authenticated message: the user, what its
// parameters tell of its protocols, and the hashcat line that recovers
// its password offline.
func (a *Agent) authEvent(m *message, raw []byte, u *v3user, ok bool, fields map[string]string) {
	f := event.With(fields, map[string]string{
		fieldAuthParams: hex.EncodeToString(m.usm.authParams),
		fieldAuthProto:  authGuess(len(m.usm.authParams)),
	})
	if m.flags&flagPriv != 0 {
		f[fieldPrivProto] = "DES or AES"
	}
	if ok {
		f[fieldAuthProto] = u.auth
		if u.priv != "" && m.flags&flagPriv != 0 {
			f[fieldPrivProto] = u.priv
		}
	}
	f[event.FieldSuccess] = strconv.FormatBool(ok)
	if line, format := hashcatLine(raw, m.usm, m.msgID); line != "" {
		f[event.FieldHash] = line
		f[event.FieldHashFormat] = format
	}
	a.emit(event.TypeAuth, event.Warning, f)
}

// authGuess names the protocols a digest's length allows.
func authGuess(n int) string {
	switch n {
	case 12:
		return "MD5 or SHA"
	case 16:
		return "SHA-224"
	case 24:
		return "SHA-256"
	case 32:
		return "SHA-384"
	case 48:
		return "SHA-512"
	}
	return "unknown"
}

func levelName(flags byte) string {
	switch {
	case flags&flagPriv != 0:
		return "authPriv"
	case flags&flagAuth != 0:
		return "authNoPriv"
	}
	return "noAuthNoPriv"
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
