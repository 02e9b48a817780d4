package sip

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// FreePBX 16 Server headers ("FPBX-<framework>(<asterisk>)", as its
// pjsip.conf user_agent sets them); a decky's name picks one.
var freePBXServers = []string{
	"FPBX-16.0.33(18.13.0)",
	"FPBX-16.0.40.7(18.20.0)",
	"FPBX-16.0.40.4(20.5.0)",
	"FPBX-16.0.21.3(18.9.0)",
}

// What chan_pjsip answers an OPTIONS with (Asterisk 18's res_pjsip
// registrations of Accept and Allow, in their order).
const (
	asteriskAccept = "application/sdp, application/dialog-info+xml, application/simple-message-summary, " +
		"application/xpidf+xml, application/cpim-pidf+xml, application/pidf+xml, application/pidf+xml, " +
		"application/dialog-info+xml, application/simple-message-summary, message/sipfrag;version=2.0"
	asteriskAllow     = "OPTIONS, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, REGISTER, REFER, MESSAGE"
	asteriskSupported = "100rel, timer, replaces, norefersub"
	// pjsip pads the Content-Length value to its field width.
	asteriskLength = "Content-Length:  0"
	// nonceLifetime is res_pjsip's default auth nonce_lifetime.
	nonceLifetime = 32
	// Registration bounds of res_pjsip's aor defaults.
	defaultExpires = 3600
	maxExpires     = 7200
	minExpires     = 60
)

// pjsip's reason phrases.
var pjsipText = map[int]string{
	100: "Trying", 200: "OK", 401: "Unauthorized", 404: "Not Found", 423: "Interval Too Brief",
	481: "Call/Transaction Does Not Exist", 501: "Not Implemented",
}

// inviteRetransmit is pjsip's Timer G schedule for a final INVITE reply
// over UDP (T1 500 ms doubling to T2 4 s, until Timer H at 32 s).
var inviteRetransmit = []time.Duration{
	500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second,
	4 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second,
}

// asterisk answers as FreePBX 16's chan_pjsip: every request but ACK and
// CANCEL is challenged (unknown users get the same challenge as known
// ones: pjsip's artificial endpoint), a wrong digest draws a fresh 401,
// and only the persona's accounts get in.
type asterisk struct {
	server string
	realm  string
	users  map[string]string
	// eid is the secret in the nonces (res_pjsip's entity id), so that
	// nonces need no state: a nonce is its timestamp and a hash of it.
	eid string
}

func newAsterisk(p *Persona, deckyName string) *asterisk {
	users, _ := parseUsers(p.Users)
	server := p.Server
	if server == "" {
		h := fnv.New32a()
		h.Write([]byte(deckyName))
		server = freePBXServers[int(h.Sum32()%uint32(len(freePBXServers)))]
	}
	return &asterisk{server: server, realm: p.Realm, users: users, eid: uuid()}
}

func (a *asterisk) handle(r *request) []reply {
	switch strings.ToUpper(r.msg.method) {
	case "ACK":
		return nil
	case "CANCEL":
		// The distributor finds no INVITE transaction to cancel: every
		// INVITE was answered at once.
		return a.simple(r, 481, "", nil)
	}
	if r.cred == nil {
		return a.challenge(r, false)
	}
	cred := *r.cred
	ok, stale := a.verify(r, cred)
	r.auth[fieldSuccess] = strconv.FormatBool(ok)
	if ok {
		r.auth[fieldPassword] = a.users[cred.username]
	}
	switch {
	case stale:
		return a.challenge(r, true)
	case !ok:
		return a.challenge(r, false)
	}
	return a.authenticated(r, cred.username)
}

// verify checks credentials as res_pjsip_authenticator_digest does: the
// response against the account's password, then the nonce's age and
// origin (a right password with a bad nonce is stale).
func (a *asterisk) verify(r *request, c credentials) (ok, stale bool) {
	pass, known := a.users[c.username]
	if !known || c.realm != a.realm || c.response != c.expected(r.msg.method, pass) {
		return false, false
	}
	if !a.nonceValid(c.nonce, r.srcIP, r.now) {
		return false, true
	}
	return true, false
}

// nonce is "<unix time>/<md5(time:source ip:eid:realm)>".
func (a *asterisk) nonce(ts, srcIP string) string {
	return ts + "/" + md5hex(ts+":"+srcIP+":"+a.eid+":"+a.realm)
}

func (a *asterisk) nonceValid(nonce, srcIP string, now time.Time) bool {
	ts, _, ok := strings.Cut(nonce, "/")
	t, err := strconv.ParseInt(ts, 10, 32)
	if !ok || err != nil || now.Unix()-t > nonceLifetime {
		return false
	}
	return nonce == a.nonce(ts, srcIP)
}

// challenge is pjsip's stateless 401 with a digest challenge.
func (a *asterisk) challenge(r *request, stale bool) []reply {
	ts := strconv.FormatInt(r.now.Unix(), 10)
	c := `Digest realm="` + a.realm + `",nonce="` + a.nonce(ts, r.srcIP) + `",opaque="` + randomHex(8) +
		`",algorithm=md5,qop="auth"`
	if stale {
		c += ",stale=true"
	}
	r.fields[fieldNonce] = a.nonce(ts, r.srcIP)
	return a.simple(r, 401, "", []header{{"WWW-Authenticate", c}})
}

// authenticated answers a request whose digest was right.
func (a *asterisk) authenticated(r *request, user string) []reply {
	m := r.msg
	switch strings.ToUpper(m.method) {
	case "REGISTER":
		return a.register(r)
	case "OPTIONS":
		return a.simple(r, 200, "", []header{
			{"Accept", asteriskAccept}, {"Allow", asteriskAllow}, {"Supported", asteriskSupported},
			{"Accept-Encoding", "text/plain"}, {"Accept-Language", "en"},
		})
	case "INVITE":
		return a.invite(r, user)
	case "MESSAGE", "SUBSCRIBE", "PUBLISH":
		return a.simple(r, 404, "", nil)
	case "BYE", "INFO", "UPDATE", "PRACK", "REFER", "NOTIFY":
		return a.simple(r, 481, "", nil)
	}
	return a.simple(r, 501, "", []header{{"Allow", asteriskAllow}})
}

// invite records the dialled number and rejects the call as pjsip does
// when the dialplan has no route for it: 100 Trying, then 404 from the
// new dialog (its own To tag), repeated until the ACK.
func (a *asterisk) invite(r *request, user string) []reply {
	dialled, _ := uriParts(r.msg.uri)
	r.call = map[string]string{
		fieldDialled: dialled, fieldCaller: user, fieldRequestURI: r.msg.uri,
		fieldIntent: intentOf(dialled),
	}
	trying := a.simple(r, 100, "", nil)
	final := a.simple(r, 404, uuid(), nil)
	final[0].retransmit = inviteRetransmit
	return append(trying, final...)
}

// register accepts the bindings of an authenticated REGISTER.
func (a *asterisk) register(r *request) []reply {
	m := r.msg
	expires := defaultExpires
	if v, err := strconv.Atoi(m.get("expires")); err == nil {
		expires = v
	}
	var extra []header
	extra = append(extra, header{"Date", r.now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")})
	for _, h := range m.all("contact") {
		for _, c := range splitContacts(h.value) {
			_, uri, params := nameAddr(c)
			e := expires
			if v, ok := param(params, "expires"); ok {
				if n, err := strconv.Atoi(v); err == nil {
					e = n
				}
			}
			if e == 0 || uri == "*" || uri == "" {
				continue
			}
			if e < minExpires {
				// res_pjsip_registrar refuses the whole REGISTER.
				return a.simple(r, 423, "", []header{{"Min-Expires", strconv.Itoa(minExpires)}})
			}
			e = min(e, maxExpires)
			extra = append(extra, header{"Contact", "<" + uri + ">;expires=" + strconv.Itoa(e-1)})
			expires = e
		}
	}
	extra = append(extra, header{"Expires", strconv.Itoa(min(max(expires, 0), maxExpires))})
	return a.simple(r, 200, "", extra)
}

// simple builds one pjsip response: Via (rport and received filled in),
// Call-ID, From, To (tagged with toTag, or with the top Via's branch when
// toTag is empty, as pjsip_endpt_create_response does), CSeq, extra,
// Server, Content-Length.
func (a *asterisk) simple(r *request, code int, toTag string, extra []header) []reply {
	m := r.msg
	text := pjsipText[code]
	r.status(code, text)
	w := newResponse(code, text)
	vias := m.all("via")
	for i, h := range vias {
		if i == 0 {
			w.header("Via", pjsipVia(h.value, r.srcIP, r.srcPort))
			continue
		}
		w.header("Via", h.value)
	}
	w.header("Call-ID", m.get("call-id"))
	w.header("From", pjsipAddr(m.get("from")))
	to := pjsipAddr(m.get("to"))
	if code > 100 {
		if toTag == "" {
			v, _ := parseVia(vias[0].value)
			toTag, _ = v.get("branch")
		}
		if toTag != "" {
			to = withTag(to, toTag)
		}
	}
	w.header("To", to)
	num, method, _ := m.cseq()
	w.header("CSeq", fmt.Sprintf("%d %s", num, method))
	for _, h := range extra {
		w.header(h.name, h.value)
	}
	w.header("Server", a.server)
	return []reply{{data: w.end(asteriskLength)}}
}

// pjsipVia reprints the top Via as pjsip does: rport (given the source
// port), received (the source address, always), branch, then the rest.
func pjsipVia(value, srcIP string, srcPort int) string {
	v, ok := parseVia(value)
	if !ok {
		return value
	}
	var b strings.Builder
	b.WriteString(v.proto + " " + v.sentBy)
	if _, ok := v.get("rport"); ok {
		b.WriteString(";rport=" + strconv.Itoa(srcPort))
	}
	for _, name := range []string{"ttl", "maddr"} {
		if val, ok := v.get(name); ok {
			b.WriteString(";" + name + "=" + val)
		}
	}
	b.WriteString(";received=" + srcIP)
	if br, ok := v.get("branch"); ok {
		b.WriteString(";branch=" + br)
	}
	for _, p := range v.params {
		k, _, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "rport", "ttl", "maddr", "received", "branch":
			continue
		}
		b.WriteString(";" + p)
	}
	return b.String()
}

// pjsipAddr reprints a From or To value as pjsip does: the URI always in
// angle brackets, one space after a display name.
func pjsipAddr(v string) string {
	display, uri, params := nameAddr(v)
	if display != "" {
		return display + " <" + uri + ">" + params
	}
	return "<" + uri + ">" + params
}

// credentialsOf reads the request's Authorization or Proxy-Authorization.
func credentialsOf(m *message) (credentials, bool) {
	v := m.get("authorization")
	if v == "" {
		v = m.get("proxy-authorization")
	}
	if v == "" {
		return credentials{}, false
	}
	c, _ := parseCredentials(v)
	return c, true
}

// splitContacts splits a Contact value at the commas between contacts
// (not inside quotes or angle brackets).
func splitContacts(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

// uuid is a random RFC 4122 version 4 UUID, as pjsip's dialog tags and
// Asterisk's entity ids are.
func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
