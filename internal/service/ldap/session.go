package ldap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// maxMessage bounds one LDAPMessage: slapd's sockbuf_max_incoming for
// anonymous sessions (262143) is the real limit this copies.
const maxMessage = 262143

// Field clips.
const (
	clipValue  = 1024
	clipFilter = 2048
)

// session is one client connection.
type session struct {
	srv    *Server
	site   site
	enc    encoder
	conn   net.Conn
	r      *bufio.Reader
	fields map[string]string
	tls    bool
	// bound is the DN of a successful bind ("" while anonymous); boundAs
	// is the name the client bound with, for WhoAmI.
	bound, boundAs string
	// sasl is the multi-step bind in progress, if any.
	sasl *saslState
}

func newSession(s *Server, c net.Conn, fields map[string]string) *session {
	return &session{srv: s, site: s.site, enc: s.site.enc, conn: c, r: bufio.NewReader(c), fields: fields}
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

func (ss *session) write(b ...[]byte) error {
	_, err := ss.conn.Write(bytes.Join(b, nil))
	return err
}

// startTLS runs the server side of a TLS handshake on the connection
// (LDAPS, or after a StartTLS response), reporting whether it succeeded.
func (ss *session) startTLS(ctx context.Context) bool {
	raw := ss.conn
	if n := ss.r.Buffered(); n > 0 {
		// A client that sent its ClientHello with the StartTLS request.
		buf, _ := ss.r.Peek(n)
		raw = &prefixConn{Conn: raw, r: io.MultiReader(bytes.NewReader(bytes.Clone(buf)), raw)}
	}
	tc := tls.Server(raw, ss.srv.tls)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		ss.emit("tls_error", event.Notice, "error", event.Clip(err.Error(), 200))
		return false
	}
	st := tc.ConnectionState()
	ss.conn, ss.r, ss.tls = tc, bufio.NewReader(tc), true
	ss.emit("tls", event.Info, "tls_version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite),
		"sni", event.Clip(st.ServerName, 255))
	return true
}

// prefixConn reads bytes already buffered before the connection's own.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// NetConn exposes the connection below, for service.ConnFields.
func (p *prefixConn) NetConn() net.Conn { return p.Conn }

// run reads and answers messages until the client unbinds or the
// connection fails. Bytes that are not an LDAPMessage end it silently,
// as slapd ends it.
func (ss *session) run(ctx context.Context) {
	for ctx.Err() == nil {
		frame, err := readFrame(ss.r, maxMessage)
		if err != nil {
			if errors.Is(err, errBER) || errors.Is(err, io.ErrUnexpectedEOF) {
				ss.malformed(frame, err)
			}
			return
		}
		m, err := parseMessage(frame)
		if err != nil {
			ss.malformed(frame, err)
			return
		}
		if !ss.dispatch(ctx, m) {
			return
		}
	}
}

func (ss *session) malformed(frame []byte, err error) {
	ss.emit("malformed", event.Notice, "error", event.Clip(err.Error(), 200),
		"data", hex.EncodeToString(frame[:min(len(frame), 64)]))
}

// dispatch answers one message, reporting whether the session goes on.
func (ss *session) dispatch(ctx context.Context, m message) bool {
	var err error
	switch m.op.id {
	case opBindRequest:
		err = ss.bind(m)
	case opUnbindRequest:
		ss.emit(event.TypeRequest, event.Info, "op", "unbind", "message_id", strconv.FormatInt(m.id, 10))
		return false
	case opSearchRequest:
		err = ss.search(m)
	case opExtendedRequest:
		return ss.extended(ctx, m)
	case opAbandonRequest:
		ss.emit(event.TypeRequest, event.Info, "op", "abandon", "message_id", strconv.FormatInt(m.id, 10))
		return true
	case opAddRequest, opModifyRequest, opDelRequest, opModDNRequest, opCompareRequest:
		err = ss.update(m)
	default:
		// slapd drops a connection that sends an operation it does not know.
		ss.emit(event.TypeRequest, event.Notice, "op", "unknown", "tag", "0x"+strconv.FormatUint(uint64(m.op.id), 16))
		return false
	}
	if errors.Is(err, errBER) {
		ss.malformed(m.op.body, err)
		return false
	}
	return err == nil
}

// opFields are the fields every request event carries.
func (ss *session) opFields(m message, op string) []string {
	kv := []string{"op", op, "message_id", strconv.FormatInt(m.id, 10)}
	if ss.bound != "" {
		kv = append(kv, "bound_dn", event.Clip(ss.bound, clipValue))
	}
	if len(m.controls) > 0 {
		kv = append(kv, "controls", jsonList(m.controls))
	}
	return kv
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return event.Clip(string(b), clipFilter)
}

// search answers a SearchRequest from the root DSE or the seeded tree.
func (ss *session) search(m message) error {
	req, err := parseSearch(m.op)
	if err != nil {
		return err
	}
	res, sent := ss.searchResult(m.id, req)
	kv := append(ss.opFields(m, "search"),
		"base", event.Clip(printable(req.base), clipValue), "scope", scopeNames[req.scope],
		"filter", event.Clip(req.filter.String(), clipFilter), "attributes", jsonList(req.attrs),
		"size_limit", strconv.FormatInt(req.sizeLimit, 10), "entries", strconv.Itoa(sent),
		"result", strconv.Itoa(res.code))
	ss.emit(event.TypeRequest, event.Info, kv...)
	return ss.write(ss.enc.response(m.id, opSearchDone, res))
}

// searchResult sends the matching entries and returns SearchResultDone's
// result and how many entries went out.
func (ss *session) searchResult(id int64, req searchRequest) (result, int) {
	st := ss.site
	if normDN(req.base) == "" && req.scope == scopeBase {
		dse := ss.srv.site.rootDSE(ss.srv.now(), ss.srv.highestUSN)
		// AD's root DSE has no objectClass, yet answers any filter.
		if st.ad || req.filter.matches(dse) {
			if ss.write(ss.enc.searchEntry(id, "", dse.selectAttrs(req.attrs), req.typesOnly)) != nil {
				return result{}, 0
			}
			return result{}, 1
		}
		return result{}, 0
	}
	if st.ad && ss.bound == "" {
		return result{code: resultOperationsError, diag: adBindRequired}, 0
	}
	base := ss.srv.dir.lookup(req.base)
	if base == nil {
		r := result{code: resultNoSuchObject, matched: ss.srv.dir.matched(req.base)}
		if st.ad {
			r.diag = "0000208D: NameErr: DSID-0310028B, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'" + r.matched + "'\n\x00"
		}
		return r, 0
	}
	limit := st.sizeLimit
	if req.sizeLimit > 0 && int(req.sizeLimit) < limit {
		limit = int(req.sizeLimit)
	}
	sent := 0
	for _, e := range ss.srv.dir.scope(base, req.scope) {
		if !req.filter.matches(e) {
			continue
		}
		if sent == limit {
			return result{code: resultSizeLimitExceeded}, sent
		}
		if ss.write(ss.enc.searchEntry(id, e.dn, e.selectAttrs(req.attrs), req.typesOnly)) != nil {
			return result{}, sent
		}
		sent++
	}
	return result{}, sent
}

// AD's answers, as Windows Server 2019 words them (diagnostic messages
// end with a NUL, as AD sends them).
const (
	adBindRequired   = "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563\x00"
	adInvalidCreds   = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563\x00"
	adInsufficient   = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0\n\x00"
	adUnknownExtOp   = "0000203D: LdapErr: DSID-0C0C0D8B, comment: Unknown extended request OID, data 0, v4563\x00"
	adUnknownMech    = "00002027: LdapErr: DSID-0C090643, comment: Unknown authentication mechanism, data 0, v4563\x00"
	adTLSAlreadyOpen = "00000000: LdapErr: DSID-0C091133, comment: TLS or SSL already in effect, data 0, v4563\x00"
)

// update refuses add, modify, delete, modrdn and compare as the product
// refuses them to this client, after recording what was asked.
func (ss *session) update(m message) error {
	w, err := parseWrite(m.op)
	if err != nil {
		return err
	}
	name := opNames[m.op.id]
	r := result{code: resultInsufficientAccess}
	switch {
	case m.op.id == opCompareRequest:
		r = ss.compare(w)
	case ss.site.ad && ss.bound == "":
		r = result{code: resultOperationsError, diag: adBindRequired}
	case ss.site.ad:
		r.diag = adInsufficient
	case ss.bound == "":
		r = result{code: resultStrongerAuthRequired, diag: "modifications require authentication"}
	}
	kv := append(ss.opFields(m, name), "dn", event.Clip(printable(w.dn), clipValue), "result", strconv.Itoa(r.code))
	if w.detail != "" {
		kv = append(kv, "detail", event.Clip(w.detail, clipFilter))
	}
	ss.emit(event.TypeRequest, event.Notice, kv...)
	return ss.write(ss.enc.response(m.id, responseOf[m.op.id], r))
}

// compare answers a CompareRequest from the seeded tree.
func (ss *session) compare(w writeRequest) result {
	if ss.site.ad && ss.bound == "" {
		return result{code: resultOperationsError, diag: adBindRequired}
	}
	e := ss.srv.dir.lookup(w.dn)
	if e == nil {
		return result{code: resultNoSuchObject, matched: ss.srv.dir.matched(w.dn)}
	}
	attr, val, _ := strings.Cut(w.detail, "=")
	for _, v := range e.get(attr) {
		if strings.EqualFold(v, val) {
			return result{code: resultCompareTrue}
		}
	}
	return result{code: resultCompareFalse}
}

// extended answers an ExtendedRequest, reporting whether the session
// goes on.
func (ss *session) extended(ctx context.Context, m message) bool {
	req, err := parseExtended(m.op)
	if err != nil {
		ss.malformed(m.op.body, err)
		return false
	}
	kv := append(ss.opFields(m, "extended"), "oid", event.Clip(printable(req.oid), 200))
	var r result
	switch {
	case req.oid == oidStartTLS && ss.srv.tls != nil && !ss.tls:
		ss.emit(event.TypeRequest, event.Info, append(kv, "result", "0")...)
		// slapd leaves responseName out; Windows names the operation, as
		// RFC 2830 asked.
		var ok result
		if ss.site.ad {
			ok.extra = [][]byte{ss.enc.str(classContext|10, req.oid)}
		}
		if ss.write(ss.enc.response(m.id, opExtendedResponse, ok)) != nil {
			return false
		}
		return ss.startTLS(ctx)
	case req.oid == oidStartTLS && ss.tls:
		r = result{code: resultOperationsError, diag: "TLS already started"}
		if ss.site.ad {
			r.diag = adTLSAlreadyOpen
		}
	case req.oid == oidWhoAmI:
		who := ""
		if ss.bound != "" {
			who = "dn:" + ss.bound
			if ss.site.ad {
				who = "u:" + ss.site.netbios + `\` + ss.boundAs
			}
		}
		r.extra = [][]byte{ss.enc.str(classContext|11, who)}
	case req.oid == oidPasswdModify && !ss.site.ad:
		p, perr := parsePasswdModify(req.value)
		if perr != nil {
			ss.malformed(req.value, perr)
			return false
		}
		// The old password is a credential the attacker believes in.
		kv = append(kv, event.FieldMethod, "passwd_modify", event.FieldUsername, event.Clip(printable(p.user), clipValue),
			"new_password", event.Clip(printable(p.newPassword), clipValue))
		if p.oldPassword != "" {
			kv = append(kv, event.FieldPassword, event.Clip(printable(p.oldPassword), clipValue))
		}
		r = result{code: resultStrongerAuthRequired, diag: "only authenticated users may change passwords"}
		if ss.bound != "" {
			r = result{code: resultInsufficientAccess}
		}
	case ss.site.ad:
		r = result{code: resultProtocolError, diag: adUnknownExtOp}
	default:
		r = result{code: resultProtocolError, diag: "unsupported extended operation"}
	}
	ss.emit(event.TypeRequest, event.Info, append(kv, "result", strconv.Itoa(r.code))...)
	return ss.write(ss.enc.response(m.id, opExtendedResponse, r)) == nil
}
