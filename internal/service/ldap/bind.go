package ldap

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// saslState is a multi-step bind in progress.
type saslState struct {
	mech      string // SASL mechanism, or "SICILY"
	challenge ntlmssp.Challenge
	nonce     string // DIGEST-MD5 nonce, CRAM-MD5 challenge
}

// Hash formats of the crackable binds besides NTLM's.
const formatCRAMMD5 = "cram-md5 (hashcat 10200)"

// slapd's Cyrus SASL texts (measured against slapd 2.5.13).
const (
	saslContinue   = "SASL(0): successful result: "
	saslNoSecret   = "SASL(-13): user not found: no secret in database"
	saslNoMech     = "SASL(-4): no mechanism available: "
	saslNeedsCrypt = "SASL(-16): encryption needed to use mechanism: security flags do not match required"
)

// bind answers a BindRequest, capturing what it carries.
func (ss *session) bind(m message) error {
	req, err := parseBind(m.op)
	if err != nil {
		return err
	}
	ss.bound, ss.boundAs = "", ""
	kv := append(ss.opFields(m, "bind"), "version", strconv.FormatInt(req.version, 10))
	var r result
	switch {
	case req.version != 3 && !(ss.site.ad && req.version == 2):
		ss.sasl = nil
		r = result{code: resultProtocolError, diag: "historical protocol version requested, use LDAPv3 instead"}
		kv = append(kv, event.FieldMethod, "simple", event.FieldUsername, event.Clip(printable(req.name), clipValue))
	case req.auth == authSimple:
		ss.sasl = nil
		r, kv = ss.simpleBind(req, kv)
	case req.auth == authSASL:
		r, kv = ss.saslBind(req, kv)
	case ss.site.ad && (req.auth == authSicilyDiscovery || req.auth == authSicilyNegotiate || req.auth == authSicilyResponse):
		r, kv = ss.sicilyBind(req, kv)
	default:
		ss.sasl = nil
		r = result{code: resultAuthMethodNotSupported, diag: "unknown authentication method"}
		if ss.site.ad {
			r.diag = adUnknownMech
		}
		kv = append(kv, event.FieldMethod, "0x"+strconv.FormatUint(uint64(req.auth), 16))
	}
	kv = append(kv, "result", strconv.Itoa(r.code))
	if r.code != resultSaslBindInProgress && req.auth != authSicilyDiscovery && req.auth != authSicilyNegotiate {
		kv = append(kv, event.FieldSuccess, strconv.FormatBool(r.code == resultSuccess))
	}
	ss.emit(event.TypeAuth, event.Warning, kv...)
	return ss.write(ss.enc.response(m.id, opBindResponse, r))
}

// simpleBind answers a simple bind as the product does.
func (ss *session) simpleBind(req bindRequest, kv []string) (result, []string) {
	name, pw := req.name, string(req.secret)
	kv = append(kv, event.FieldMethod, "simple", event.FieldUsername, event.Clip(printable(name), clipValue))
	if pw != "" {
		kv = append(kv, event.FieldPassword, event.Clip(printable(pw), clipValue))
	}
	if dom, _, ok := strings.Cut(name, `\`); ok && ss.site.ad {
		kv = append(kv, "domain", event.Clip(printable(dom), 255))
	}
	if pw == "" {
		// slapd refuses an unauthenticated bind; AD takes it (and an
		// empty name) as anonymous.
		kv = append(kv, "anonymous", "true")
		if name != "" && !ss.site.ad {
			return result{code: resultUnwillingToPerform, diag: "unauthenticated bind (DN with no password) disallowed"}, kv
		}
		return result{}, kv
	}
	if !ss.site.ad && !validDN(name) {
		return result{code: resultInvalidDNSyntax, diag: "invalid DN"}, kv
	}
	if dn, as, ok := ss.accept(name, pw); ok {
		ss.bound, ss.boundAs = dn, as
		return result{}, kv
	}
	return ss.invalidCredentials(""), kv
}

// invalidCredentials is the product's answer to a wrong password; slapd
// gives Cyrus's text for a SASL bind, nothing for a simple one.
func (ss *session) invalidCredentials(saslText string) result {
	if ss.site.ad {
		return result{code: resultInvalidCredentials, diag: adInvalidCreds}
	}
	return result{code: resultInvalidCredentials, diag: saslText}
}

// accept checks a bind name and password against the persona's users:
// the name may be the entry's DN, its uid/sAMAccountName, its
// userPrincipalName or DOMAIN\name. It returns the entry's DN and the
// account name.
func (ss *session) accept(name, pw string) (dn, account string, ok bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if _, after, found := strings.Cut(n, `\`); found {
		n = after
	}
	n = strings.TrimSuffix(n, "@"+ss.site.domain)
	e := ss.srv.dir.lookup(name)
	for _, cand := range ss.srv.dir.entries {
		if e != nil {
			break
		}
		for _, key := range []string{"uid", "sAMAccountName"} {
			for _, v := range cand.get(key) {
				if strings.EqualFold(v, n) {
					e = cand
				}
			}
		}
	}
	if e == nil {
		return "", "", false
	}
	account = firstOf(e.get("sAMAccountName"), firstOf(e.get("uid"), n))
	for _, key := range []string{strings.ToLower(e.dn), strings.ToLower(account), strings.ToLower(name)} {
		if want, has := ss.site.users[key]; has && want == pw {
			return e.dn, account, true
		}
	}
	return "", "", false
}

func firstOf(v []string, def string) string {
	if len(v) > 0 {
		return v[0]
	}
	return def
}

// saslBind runs one step of a SASL bind.
func (ss *session) saslBind(req bindRequest, kv []string) (result, []string) {
	mech := req.mech
	kv = append(kv, event.FieldMethod, "sasl/"+event.Clip(printable(mech), 40))
	if ss.sasl != nil && ss.sasl.mech != mech {
		ss.sasl = nil
	}
	noMech := func() result {
		if ss.site.ad {
			return result{code: resultAuthMethodNotSupported, diag: adUnknownMech}
		}
		return result{code: resultAuthMethodNotSupported, diag: saslNoMech + "Couldn't find mech " + event.Clip(mech, 64)}
	}
	switch mech {
	case "PLAIN":
		// Captured whether or not the product takes PLAIN: the client
		// has sent the password either way.
		if req.hasCred {
			parts := strings.SplitN(string(req.secret), "\x00", 3)
			if len(parts) == 3 {
				kv = append(kv, "authzid", event.Clip(printable(parts[0]), clipValue),
					event.FieldUsername, event.Clip(printable(parts[1]), clipValue),
					event.FieldPassword, event.Clip(printable(parts[2]), clipValue))
			}
		}
		if ss.offersPlain() {
			return ss.invalidCredentials(saslNoSecret), kv
		}
		if ss.site.ad {
			return noMech(), kv
		}
		return result{code: resultInappropriateAuth, diag: saslNeedsCrypt}, kv
	case "EXTERNAL":
		if ss.site.ad {
			return result{code: resultInappropriateAuth, diag: "80090346: LdapErr: DSID-0C090565, comment: AcceptSecurityContext error, data 0, v4563\x00"}, kv
		}
		return result{code: resultAuthMethodNotSupported, diag: saslNoMech}, kv
	}
	if !ss.site.offers(mech) {
		ss.sasl = nil
		return noMech(), kv
	}
	switch mech {
	case "NTLM", "GSS-SPNEGO":
		return ss.ntlmStep(mech, req, kv)
	case "DIGEST-MD5":
		return ss.digestStep(req, kv)
	case "CRAM-MD5":
		return ss.cramStep(req, kv)
	}
	// GSSAPI (Kerberos, no KDC here) and SCRAM (the user's salted secret
	// is needed for the first answer): the client's identity, if it gave
	// one, is recorded and the bind fails as for an unknown user.
	ss.sasl = nil
	if strings.HasPrefix(mech, "SCRAM-") && req.hasCred {
		if u := scramUser(string(req.secret)); u != "" {
			kv = append(kv, event.FieldUsername, event.Clip(u, clipValue))
		}
	}
	if req.hasCred {
		kv = append(kv, "credentials", hex.EncodeToString(req.secret[:min(len(req.secret), 64)]))
	}
	return ss.invalidCredentials(saslNoSecret), kv
}

// offersPlain is whether PLAIN is allowed now: slapd lists it only over
// TLS (its default minssf forbids it in the clear).
func (ss *session) offersPlain() bool { return ss.site.offers("PLAIN") || (!ss.site.ad && ss.tls) }

// scramUser reads n=<user> from a SCRAM client-first message.
func scramUser(msg string) string {
	for _, f := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(f, "n="); ok {
			return printable(strings.NewReplacer("=2C", ",", "=3D", "=").Replace(v))
		}
	}
	return ""
}

// ntlmStep runs NTLM inside SASL: raw NTLMSSP for Cyrus's NTLM mechanism,
// SPNEGO-wrapped for AD's GSS-SPNEGO.
func (ss *session) ntlmStep(mech string, req bindRequest, kv []string) (result, []string) {
	spnego := mech == "GSS-SPNEGO"
	if !req.hasCred || len(req.secret) == 0 {
		// Cyrus's NTLM starts with an empty server challenge.
		ss.sasl = &saslState{mech: mech}
		return result{code: resultSaslBindInProgress, diag: ss.continueText(), extra: [][]byte{ss.enc.str(saslCredentialsTagID, "")}}, kv
	}
	tok := req.secret
	if spnego {
		inner, err := ntlmssp.UnwrapSPNEGO(tok)
		switch {
		case errors.Is(err, ntlmssp.ErrNeedNTLMToken):
			ss.sasl = &saslState{mech: mech}
			return result{code: resultSaslBindInProgress, extra: [][]byte{ss.enc.tlv(saslCredentialsTagID, ntlmssp.WrapSelectNTLM())}}, kv
		case err != nil:
			ss.sasl = nil
			return ss.invalidCredentials(""), append(kv, "error", event.Clip(err.Error(), 200))
		}
		tok = inner
	}
	out, kv, ok := ss.ntlmToken(mech, tok, kv)
	if !ok {
		ss.sasl = nil
		return ss.invalidCredentials(saslNoSecret), kv
	}
	if out == nil { // the AUTHENTICATE was checked
		defer func() { ss.sasl = nil }()
		if ss.bound != "" {
			if spnego {
				return result{extra: [][]byte{ss.enc.tlv(saslCredentialsTagID, ntlmssp.WrapAccept())}}, kv
			}
			return result{}, kv
		}
		return ss.invalidCredentials(saslNoSecret), kv
	}
	if spnego {
		out = ntlmssp.WrapChallenge(out)
	}
	return result{code: resultSaslBindInProgress, diag: ss.continueText(), extra: [][]byte{ss.enc.tlv(saslCredentialsTagID, out)}}, kv
}

// continueText is the diagnostic of a saslBindInProgress answer.
func (ss *session) continueText() string {
	if ss.site.ad {
		return ""
	}
	return saslContinue
}

// ntlmToken handles an NTLMSSP NEGOTIATE (returning the CHALLENGE to
// send) or AUTHENTICATE (returning nil after recording its hash and
// binding when the persona accepts the password). ok is false for
// anything else.
func (ss *session) ntlmToken(mech string, tok []byte, kv []string) (out []byte, _ []string, ok bool) {
	if neg, err := ntlmssp.ParseNegotiate(tok); err == nil {
		ch, err := ntlmssp.NewChallenge(neg, ss.srv.ntlm, ss.srv.now(), ss.srv.random)
		if err != nil {
			return nil, append(kv, "error", event.Clip(err.Error(), 200)), false
		}
		ss.sasl = &saslState{mech: mech, challenge: ch}
		if neg.Workstation != "" {
			kv = append(kv, "workstation", event.Clip(neg.Workstation, 255))
		}
		return ch.Marshal(), kv, true
	}
	auth, err := ntlmssp.ParseAuthenticate(tok)
	if err != nil || ss.sasl == nil || ss.sasl.challenge.ServerChallenge == [8]byte{} {
		msg := "not an NTLM message"
		if err != nil {
			msg = err.Error()
		}
		return nil, append(kv, "error", event.Clip(msg, 200)), false
	}
	kv = append(kv, event.FieldUsername, event.Clip(auth.User, clipValue), "domain", event.Clip(auth.Domain, 255),
		"workstation", event.Clip(auth.Workstation, 255))
	if auth.Anonymous() {
		return nil, append(kv, "anonymous", "true"), true
	}
	kv = append(kv, auth.CaptureFields(ss.sasl.challenge.ServerChallenge)...)
	for key, pw := range ss.site.users {
		name := key
		if _, after, found := strings.Cut(key, `\`); found {
			name = after
		}
		if strings.EqualFold(name, auth.User) && ntlmssp.VerifyV2(auth, ss.sasl.challenge.ServerChallenge, pw) {
			if dn, acct, ok := ss.accept(auth.User, pw); ok {
				ss.bound, ss.boundAs = dn, acct
			}
		}
	}
	return nil, kv, true
}

// sicilyBind runs AD's Sicily NTLM exchange: package discovery, then
// NEGOTIATE and AUTHENTICATE, each answered in a BindResponse whose
// matchedDN carries the server's token (MS-ADTS §5.1.1.1.3).
func (ss *session) sicilyBind(req bindRequest, kv []string) (result, []string) {
	kv = append(kv, event.FieldMethod, "sicily")
	switch req.auth {
	case authSicilyDiscovery:
		ss.sasl = nil
		return result{matched: "NTLM"}, append(kv, "step", "package_discovery")
	case authSicilyNegotiate:
		ss.sasl = nil
		out, kv, ok := ss.ntlmToken("SICILY", req.secret, append(kv, "step", "negotiate"))
		if !ok || out == nil {
			return ss.invalidCredentials(""), kv
		}
		return result{matched: string(out)}, kv
	}
	if ss.sasl == nil {
		return ss.invalidCredentials(""), append(kv, "step", "response")
	}
	_, kv, _ = ss.ntlmToken("SICILY", req.secret, append(kv, "step", "response"))
	ss.sasl = nil
	if ss.bound != "" {
		return result{}, kv
	}
	return ss.invalidCredentials(""), kv
}

// digestStep runs DIGEST-MD5 (RFC 2831): a challenge, then the client's
// digest-response, recorded and refused. Its md5-sess response has no
// hashcat mode, so it is kept as fields rather than a hash.
func (ss *session) digestStep(req bindRequest, kv []string) (result, []string) {
	if ss.sasl == nil || !req.hasCred {
		nonce := make([]byte, 32)
		if _, err := io.ReadFull(ss.srv.random, nonce); err != nil {
			return ss.invalidCredentials(saslNoSecret), kv
		}
		ss.sasl = &saslState{mech: "DIGEST-MD5", nonce: base64.StdEncoding.EncodeToString(nonce)}
		var ch string
		if ss.site.ad {
			ch = fmt.Sprintf(`realm="%s",nonce="%s",qop="auth,auth-int,auth-conf",cipher="3des,rc4",charset=utf-8,algorithm=md5-sess`,
				ss.site.domain, ss.sasl.nonce)
		} else {
			ch = fmt.Sprintf(`nonce="%s",realm="%s",qop="auth,auth-int,auth-conf",cipher="rc4-40,rc4-56,rc4,des,3des",maxbuf=65536,charset=utf-8,algorithm=md5-sess`,
				ss.sasl.nonce, ss.srv.cfg.Host.Hostname)
		}
		return result{code: resultSaslBindInProgress, diag: ss.continueText(), extra: [][]byte{ss.enc.str(saslCredentialsTagID, ch)}}, kv
	}
	ss.sasl = nil
	f := digestFields(string(req.secret))
	kv = append(kv, event.FieldUsername, event.Clip(f["username"], clipValue), "domain", event.Clip(f["realm"], 255),
		"digest_uri", event.Clip(f["digest-uri"], 255), "digest", event.Clip(string(req.secret), clipFilter))
	return ss.invalidCredentials(saslNoSecret), kv
}

// digestFields parses a digest-response's key=value list.
func digestFields(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				break
			}
			v, rest = rest[1:1+end], rest[2+end:]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		out[k] = printable(v)
		_, s, _ = strings.Cut(rest, ",")
	}
	return out
}

// cramStep runs CRAM-MD5 (RFC 2195): the client's "user hexdigest" is
// HMAC-MD5(password, challenge), which hashcat mode 10200 cracks.
func (ss *session) cramStep(req bindRequest, kv []string) (result, []string) {
	if ss.sasl == nil || !req.hasCred {
		var n [8]byte
		if _, err := io.ReadFull(ss.srv.random, n[:]); err != nil {
			return ss.invalidCredentials(saslNoSecret), kv
		}
		now := ss.srv.now()
		ch := fmt.Sprintf("<%d.%d@%s>", uint32(n[0])<<24|uint32(n[1])<<16|uint32(n[2])<<8|uint32(n[3]),
			now.Nanosecond()/1000, ss.srv.cfg.Host.Hostname)
		ss.sasl = &saslState{mech: "CRAM-MD5", nonce: ch}
		return result{code: resultSaslBindInProgress, diag: ss.continueText(), extra: [][]byte{ss.enc.str(saslCredentialsTagID, ch)}}, kv
	}
	ch := ss.sasl.nonce
	ss.sasl = nil
	user, digest, ok := strings.Cut(string(req.secret), " ")
	kv = append(kv, event.FieldUsername, event.Clip(printable(user), clipValue))
	if ok && len(digest) == 32 {
		if _, err := hex.DecodeString(digest); err == nil {
			kv = append(kv, event.FieldHash, "$cram_md5$"+base64.StdEncoding.EncodeToString([]byte(ch))+"$"+
				base64.StdEncoding.EncodeToString(req.secret), event.FieldHashFormat, formatCRAMMD5)
			if pw, has := ss.site.users[strings.ToLower(user)]; has && bytes.Equal([]byte(cramDigest(pw, ch)), []byte(digest)) {
				if dn, acct, ok := ss.accept(user, pw); ok {
					ss.bound, ss.boundAs = dn, acct
					return result{}, kv
				}
			}
		}
	}
	return ss.invalidCredentials(saslNoSecret), kv
}

// cramDigest is CRAM-MD5's answer for a password.
func cramDigest(password, challenge string) string {
	m := hmac.New(md5.New, []byte(password))
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}
