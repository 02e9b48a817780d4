package rdp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// Event types of this service, beside the shared ones.
const (
	// typeNegotiate is the Connection Request and the server's choice:
	// username (the mstshash cookie), routing_token, requested_protocols,
	// neg_flags, correlation_id, selected_protocol or failure.
	typeNegotiate = "negotiate"
	// typeTLS is the TLS handshake: tls_version, cipher, sni, or error.
	typeTLS = "tls_handshake"
	// typeNTLMNegotiate is the client's NTLM NEGOTIATE inside CredSSP:
	// credssp_version, ntlm_flags, client_os_version, spnego.
	typeNTLMNegotiate = "ntlm_negotiate"
	// typeMCSConnect is a client's MCS Connect-Initial, reached with
	// standard RDP security or TLS: client_name, client_build, desktop...
	typeMCSConnect = "mcs_connect"
	// typeProtocolError is input the server could not parse: stage, data,
	// error.
	typeProtocolError = "protocol_error"
)

// Limits on what goes into event fields.
const (
	maxFieldLen = 256
	maxDataLen  = 64
	// maxCredSSPRounds bounds the TSRequests of one CredSSP exchange:
	// NEGOTIATE and AUTHENTICATE, and one more for SPNEGO's mechanism
	// selection.
	maxCredSSPRounds = 4
)

// session is one client's connection.
type session struct {
	srv    *Server
	conn   net.Conn
	fields map[string]string
	// tap follows the TLS records under a CredSSP exchange, to end it
	// with an alert (tlsalert.go).
	tap *recordTap
}

// emit records an event with the connection's fields and the non-empty
// ones of kv (name, value pairs).
func (ss *session) emit(typ string, sev event.Severity, kv ...string) {
	ss.emitWith(typ, sev, nil, kv...)
}

// emitWith is emit with fields kept even when empty.
func (ss *session) emitWith(typ string, sev event.Severity, keep map[string]string, kv ...string) {
	f := event.With(ss.fields, keep)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			f[kv[i]] = kv[i+1]
		}
	}
	ss.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

func (ss *session) protocolError(stage string, data []byte, err error) {
	ss.emit(typeProtocolError, event.Notice, "stage", stage,
		"data", clean(data[:min(len(data), maxDataLen)], 4*maxDataLen), "error", err.Error())
}

// run serves the connection from the Connection Request to the end of the
// security exchange.
func (ss *session) run(ctx context.Context) {
	pdu, got, err := readTPKT(ss.conn)
	if err != nil {
		if errors.Is(err, ErrMalformed) && got[0] == tlsHandshakeRecord && ss.srv.prod.directTLS {
			ss.directTLS(ctx, got)
			return
		}
		ss.notRDP(got, err, false)
		return
	}
	cr, err := ParseConnectionRequest(pdu)
	if err != nil {
		ss.notRDP(pdu, err, true)
		return
	}
	ss.negotiated(ctx, cr)
}

// notRDP records a first message that is not a Connection Request and
// treats the connection as the product does: Windows drops it; xrdp reads
// the frame the first bytes announce (waiting, silent, while it is
// incomplete), then sends a Disconnect Provider Ultimatum and closes (nmap
// -sV names xrdp by that answer to its TLS probe).
// whole tells that data is a whole TPKT's payload, not the first bytes
// of a message.
func (ss *session) notRDP(data []byte, err error, whole bool) {
	if !errors.Is(err, ErrMalformed) || !ss.srv.prod.xrdpFraming {
		if len(data) > 0 {
			ss.protocolError("x224", data, err)
		}
		return
	}
	if !whole && data[0] != tpktVersion {
		var rerr error
		if data, rerr = fastPathRest(ss.conn, data); rerr != nil {
			ss.protocolError("x224", data, err)
			return
		}
	}
	ss.protocolError("x224", data, err)
	ss.conn.Write(disconnectUltimatum())
}

// fastPathRest reads the rest of a fast-path PDU of which got holds the
// first bytes (at least three): its length is in the second byte, or in
// the second and third when the top bit is set (MS-RDPBCGR 2.2.9.1.2), so
// at most 32 KiB.
func fastPathRest(r io.Reader, got []byte) ([]byte, error) {
	n := int(got[1])
	if n&0x80 != 0 {
		n = int(got[1]&0x7f)<<8 | int(got[2])
	}
	if n <= len(got) {
		return got, nil
	}
	rest := make([]byte, n-len(got))
	k, err := io.ReadFull(r, rest)
	return append(got, rest[:k]...), err
}

// drain reads and drops what the client sends until it or a deadline
// ends the connection, with a small buffer: many such connections may be
// held open at once.
func drain(r io.Reader) {
	buf := make([]byte, 256)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// tlsHandshakeRecord starts a TLS ClientHello.
const tlsHandshakeRecord = recordTypeHandshake

// directTLS serves a client that opened with a TLS ClientHello instead of
// a Connection Request: MS-RDPBCGR's Direct Approach (5.4.2.2), in which
// CredSSP follows the handshake at once. Windows accepts it, so TLS
// scanners pointed at 3389 get the RDP certificate. read is what was read
// of the ClientHello already.
func (ss *session) directTLS(ctx context.Context, read []byte) {
	ss.emit(typeNegotiate, event.Info, "neg_request", "false", "direct_tls", "true")
	ss.tap = newRecordTap(&prefixConn{Conn: ss.conn, pre: read})
	if tc := ss.startTLS(ctx, ss.tap, &ss.tap.keyLog); tc != nil {
		ss.credSSP(tc, protocolString(ProtocolHybrid))
	}
}

// prefixConn reads pre before the connection's own bytes.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// negotiated answers the Connection Request and goes on with the security
// protocol chosen.
func (ss *session) negotiated(ctx context.Context, cr ConnectionRequest) {
	cc := ss.srv.prod.confirm(cr)
	ss.emitNegotiate(cr, cc)
	if _, err := ss.conn.Write(cc.Marshal()); err != nil || cc.Failure != 0 {
		return
	}
	switch {
	case !cc.Neg || cc.Selected == ProtocolRDP:
		// Standard RDP security would need the server's RSA key exchange
		// and RC4 before the Client Info PDU: not imitated.
		ss.mcsConnect(ss.conn)
	case cc.Selected == ProtocolSSL:
		if tc := ss.startTLS(ctx, ss.conn, nil); tc != nil {
			if ci, ok := ss.mcsConnect(tc); ok {
				ss.activate(tc, cr.Protocols, ci)
			}
		}
	case cc.Selected == ProtocolRDSTLS:
		// RDSTLS carries a broker's redirection token, which no attacker
		// has: the connection ends after TLS.
		ss.startTLS(ctx, ss.conn, nil)
	default:
		ss.tap = newRecordTap(ss.conn)
		if tc := ss.startTLS(ctx, ss.tap, &ss.tap.keyLog); tc != nil {
			ss.credSSP(tc, protocolString(cc.Selected))
		}
	}
}

func (ss *session) emitNegotiate(cr ConnectionRequest, cc Confirm) {
	kv := []string{"neg_request", strconv.FormatBool(cr.HasNegReq)}
	if cr.HasCookie {
		kv = append(kv, event.FieldUsername, clean([]byte(cr.Cookie), maxFieldLen))
	}
	kv = append(kv, "routing_token", clean([]byte(cr.RoutingToken), maxFieldLen))
	if cr.HasNegReq {
		kv = append(kv, "requested_protocols", protocolString(cr.Protocols),
			"requested_protocols_raw", fmt.Sprintf("0x%08x", cr.Protocols),
			"neg_flags", negFlagsString(cr.NegFlags))
	}
	if cr.CorrelationID != nil {
		kv = append(kv, "correlation_id", hex.EncodeToString(cr.CorrelationID))
	}
	switch {
	case cc.Failure != 0:
		kv = append(kv, "failure", failureNames[cc.Failure])
	case cc.Neg:
		kv = append(kv, "selected_protocol", protocolString(cc.Selected))
	}
	ss.emit(typeNegotiate, event.Info, kv...)
}

// startTLS runs the server side of the TLS handshake on c and records it;
// nil means it failed. keyLog, when set, receives the connection's
// secrets.
func (ss *session) startTLS(ctx context.Context, c net.Conn, keyLog io.Writer) *tls.Conn {
	cfg := ss.srv.tls
	if keyLog != nil {
		cfg = cfg.Clone()
		cfg.KeyLogWriter = keyLog
	}
	if ss.srv.prod.serverOrder {
		cfg = serverOrder(cfg)
	}
	tc := tls.Server(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		ss.emit(typeTLS, event.Info, "error", err.Error())
		return nil
	}
	st := tc.ConnectionState()
	ss.emit(typeTLS, event.Info, "tls_version", tls.VersionName(st.Version),
		"cipher", tls.CipherSuiteName(st.CipherSuite), "sni", clean([]byte(st.ServerName), maxFieldLen))
	return tc
}

// mcsConnect reads and records the client's MCS Connect-Initial; false
// means there was none.
func (ss *session) mcsConnect(r io.Reader) (ConnectInitial, bool) {
	pdu, got, err := readTPKT(r)
	if err != nil {
		if len(got) > 0 {
			ss.protocolError("mcs", got, err)
		}
		return ConnectInitial{}, false
	}
	ci, err := ParseConnectInitial(pdu)
	if err != nil {
		ss.protocolError("mcs", pdu, err)
		return ci, false
	}
	var kv []string
	if ci.HasCore {
		kv = append(kv, "client_name", clean([]byte(ci.ClientName), maxFieldLen),
			"client_build", strconv.FormatUint(uint64(ci.ClientBuild), 10),
			"rdp_version", fmt.Sprintf("0x%08x", ci.RDPVersion),
			"desktop", fmt.Sprintf("%dx%d", ci.DesktopWidth, ci.DesktopHeight),
			"keyboard_layout", fmt.Sprintf("0x%08x", ci.KeyboardLayout),
			"client_dig_product_id", clean([]byte(ci.ClientDigProductID), maxFieldLen))
	}
	if ci.HasServerSelectedProtocol {
		kv = append(kv, "server_selected_protocol", protocolString(ci.ServerSelectedProtocol))
	}
	if ci.HasEncryptionMethods {
		kv = append(kv, "encryption_methods", fmt.Sprintf("0x%08x", ci.EncryptionMethods))
	}
	if len(ci.Channels) > 0 {
		kv = append(kv, "channels", clean([]byte(strings.Join(ci.Channels, ",")), maxFieldLen))
	}
	ss.emit(typeMCSConnect, event.Info, kv...)
	return ci, true
}

// credSSP runs CredSSP over the TLS channel up to the client's NTLM
// AUTHENTICATE, records it, and refuses the logon.
func (ss *session) credSSP(tc *tls.Conn, security string) {
	var chal *ntlmssp.Challenge
	for range maxCredSSPRounds {
		frame, got, err := readBERFrame(tc, tagSequence, maxTSRequest)
		if err != nil {
			if len(got) > 0 {
				ss.protocolError("credssp", got, err)
			}
			return
		}
		req, err := ParseTSRequest(frame)
		if err == nil && len(req.NegoTokens) == 0 {
			err = fmt.Errorf("TSRequest without negoTokens: %w", ErrMalformed)
		}
		if err != nil {
			ss.protocolError("credssp", frame, err)
			return
		}
		token := req.NegoTokens[0]
		spnego := !bytes.HasPrefix(token, []byte(ntlmssp.Signature))
		msg, err := ntlmssp.UnwrapSPNEGO(token)
		switch {
		case errors.Is(err, ntlmssp.ErrNeedNTLMToken):
			if ss.reply(tc, ntlmssp.WrapSelectNTLM()) != nil {
				return
			}
			continue
		case errors.Is(err, ntlmssp.ErrNoNTLM):
			ss.protocolError("spnego", token, err)
			ss.reply(tc, ntlmssp.WrapReject())
			return
		case err != nil:
			ss.protocolError("spnego", token, err)
			return
		}
		if chal == nil {
			neg, err := ntlmssp.ParseNegotiate(msg)
			if err != nil {
				ss.protocolError("ntlm", msg, err)
				return
			}
			c, err := ntlmssp.NewChallenge(neg, ss.srv.ntlm, ss.srv.now(), ss.srv.random)
			if err != nil {
				ss.srv.cfg.Log.Error("rdp: NTLM challenge", "err", err)
				return
			}
			ss.emit(typeNTLMNegotiate, event.Info, "credssp_version", strconv.FormatInt(req.Version, 10),
				"ntlm_flags", neg.Flags.String(), "client_os_version", neg.Version.String(),
				"client_domain", clean([]byte(neg.Domain), maxFieldLen),
				"client_workstation", clean([]byte(neg.Workstation), maxFieldLen),
				"spnego", strconv.FormatBool(spnego))
			out := c.Marshal()
			if spnego {
				out = ntlmssp.WrapChallenge(out)
			}
			if ss.reply(tc, out) != nil {
				return
			}
			chal = &c
			continue
		}
		auth, err := ntlmssp.ParseAuthenticate(msg)
		if err != nil {
			ss.protocolError("ntlm", msg, err)
			return
		}
		ss.emitAuth(auth, chal.ServerChallenge, req.Version, security)
		ss.logonFailure(tc, req.Version)
		return
	}
}

// reply sends a TSRequest carrying one negoToken.
func (ss *session) reply(w io.Writer, token []byte) error {
	_, err := w.Write(TSRequest{Version: credSSPVersion, NegoTokens: [][]byte{token}}.Marshal())
	return err
}

func (ss *session) emitAuth(a ntlmssp.Authenticate, serverChallenge [8]byte, credSSP int64, security string) {
	kv := []string{
		event.FieldUsername, clean([]byte(a.User), maxFieldLen),
		"domain", clean([]byte(a.Domain), maxFieldLen),
		"workstation", clean([]byte(a.Workstation), maxFieldLen),
		event.FieldMethod, "NTLM",
		"security", security,
		"credssp_version", strconv.FormatInt(credSSP, 10),
		"client_os_version", a.Version.String(),
		event.FieldSuccess, "false",
	}
	kv = append(kv, a.CaptureFields(serverChallenge)...)
	ss.emit(event.TypeAuth, event.Notice, kv...)
}

// logonFailure refuses the logon as Windows refuses a wrong password: a
// TSRequest whose errorCode is STATUS_LOGON_FAILURE for CredSSP 3 and
// later, a fatal access_denied alert for older clients, which have no
// errorCode; then the connection ends.
func (ss *session) logonFailure(tc *tls.Conn, peerVersion int64) {
	if peerVersion >= credSSPErrorCodeFrom {
		tc.Write(TSRequest{Version: credSSPVersion, ErrorCode: statusLogonFailure, HasErrorCode: true}.Marshal())
		return
	}
	if alert, err := ss.tap.accessDenied(tc.ConnectionState()); err == nil {
		ss.conn.Write(alert)
	}
}

// clean makes attacker bytes fit for an event field: valid, printable
// UTF-8 is kept (cut to max bytes); anything else is escaped as a Go
// string literal without its quotes.
func clean(b []byte, max int) string {
	s := string(b)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		q := strconv.QuoteToASCII(s)
		s = q[1 : len(q)-1]
	}
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
