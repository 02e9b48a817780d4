package vnc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"decnet/internal/event"
	"decnet/internal/tlsanon"
)

// The texts the servers send.
const (
	tooManyFailures     = "Too many security failures"                // RFB4 blacklist
	noType33            = "No supported security type for 3.3 client" // RFB4, 3.3 client, no None or VncAuth
	authFailure         = "Authentication failure"                    // RFB4 AuthFailureException default
	tightRejected       = "Your connection has been rejected"         // TightVNC ban
	tightAuthFailedFrom = "Authentication failed from "               // TightVNC, + peer address
	libVNCAuthFailed    = "password check failed!"                    // LibVNCServer
	// TigerVNC 1.12 prefixes the reason of every AuthFailureException
	// but VncAuth's plain "Authentication failure" (measured).
	authFailed  = authFailure + ": "
	tlsFailure  = authFailed + "TLS Handshake failed"
	x509Failure = authFailed + "Error loading X509 certificate or key"
)

// Event types of this service, beside the shared ones.
const (
	typeVersion        = "version"         // client_version (the store's vnc_client_version fingerprint), negotiated
	typeSecurityChoice = "security_choice" // type, name[, subtype, subtype_name]
	typeRefused        = "refused"         // reason: the server turned the client away before authentication
	typeProtocolError  = "protocol_error"  // stage, data, error
	typeTLS            = "tls"             // version, cipher_suite, group: a VeNCrypt TLS handshake that completed
	typeClientInit     = "client_init"     // shared
	typeEncodings      = "client_encodings"
	typeClipboard      = "clipboard"
	typeDesktopSession = "desktop_session"
)

// session is one client's conversation.
type session struct {
	srv *Server
	rw  io.ReadWriter
	// conn is the connection under any TLS, which rfb4Fail drains.
	conn   io.Reader
	fields map[string]string
	addr   string // the client's IP address: the blacklists' key
	// minor is the client's minor version as the server acts on it.
	minor int
	// tls is the TLS layer of a VeNCrypt TLS subtype, which rw then reads
	// and writes through.
	tls *tlsanon.Conn
	// tight is set when the client chose TightVNC's security type, whose
	// ServerInit carries capability lists.
	tight bool
}

func (ss *session) emit(typ string, sev event.Severity, kv ...string) {
	f := maps.Clone(ss.fields)
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	ss.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

// write sends the parts in one write, as the servers flush them together.
func (ss *session) write(parts ...[]byte) error {
	_, err := ss.rw.Write(bytes.Join(parts, nil))
	return err
}

func (ss *session) read(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(ss.rw, b)
	return b, err
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// reasonString is RFB's string: a u32 length and the bytes.
func reasonString(s string) []byte { return append(u32(uint32(len(s))), s...) }

// readVersion reads the client's ProtocolVersion and parses it; a message
// that does not parse, or ends early, is recorded and ends the session.
func (ss *session) readVersion(parse func([]byte) (int, int, bool)) (raw []byte, major, minor int, ok bool, err error) {
	raw = make([]byte, versionLen)
	n, err := io.ReadFull(ss.rw, raw)
	if err != nil {
		if n > 0 {
			ss.protocolError("version", raw[:n], "short ProtocolVersion")
		}
		return nil, 0, 0, false, err
	}
	if major, minor, ok = parse(raw); !ok {
		ss.protocolError("version", raw, "not an RFB ProtocolVersion")
	}
	return raw, major, minor, ok, nil
}

// emitVersion records the client's version and, when the server goes on,
// the version it acts as.
func (ss *session) emitVersion(raw []byte, negotiated string) {
	kv := []string{"client_version", printable(bytes.TrimSuffix(raw, []byte("\n")))}
	if negotiated != "" {
		kv = append(kv, "negotiated", negotiated)
	}
	ss.emit(typeVersion, event.Info, kv...)
}

func (ss *session) protocolError(stage string, data []byte, why string) {
	ss.emit(typeProtocolError, event.Notice, "stage", stage, "data", printable(data), "error", why)
}

func (ss *session) refuse(reason string, sev event.Severity) {
	ss.emit(typeRefused, sev, "reason", reason)
}

func (ss *session) emitChoice(t uint32, kv ...string) {
	ss.emit(typeSecurityChoice, event.Info, append([]string{"type", strconv.FormatUint(uint64(t), 10), "name", secTypeName(t)}, kv...)...)
}

// challenge sends prefix and a fresh challenge, and reads the response.
func (ss *session) challenge(prefix []byte) (challenge, response []byte, err error) {
	challenge = make([]byte, challengeLen)
	if _, err := io.ReadFull(ss.srv.random, challenge); err != nil {
		return nil, nil, fmt.Errorf("vnc challenge: %w", err)
	}
	if err := ss.write(prefix, challenge); err != nil {
		return nil, nil, err
	}
	response, err = ss.read(challengeLen)
	return challenge, response, err
}

// recordVncAuth emits the auth event of a VNC authentication, with what
// John the Ripper needs to crack it.
func (ss *session) recordVncAuth(secType string, challenge, response []byte, ok bool) {
	sev := event.Notice
	if ok {
		sev = event.Warning
	}
	ss.emit(event.TypeAuth, sev,
		event.FieldMethod, "VncAuth",
		"security_type", secType,
		"challenge", hex.EncodeToString(challenge),
		"response", hex.EncodeToString(response),
		event.FieldHash, johnHash(challenge, response),
		event.FieldHashFormat, hashFormat,
		event.FieldSuccess, strconv.FormatBool(ok))
}

// rfb4 is the handshake of RealVNC 4 and TigerVNC (SConnection,
// VNCServerST::addSocket). It reports whether the client logged in.
func (ss *session) rfb4(ctx context.Context) (bool, error) {
	s := ss.srv
	if s.blacklist.isBlackmarked(ss.addr) {
		// "Shortest possible way to tell a client it is not welcome."
		ss.refuse(tooManyFailures, event.Warning)
		return false, ss.write([]byte("RFB 003.003\n"), u32(0), reasonString(tooManyFailures))
	}
	if err := ss.write([]byte(serverVersion)); err != nil {
		return false, err
	}
	raw, major, minor, ok, err := ss.readVersion(scanVersion)
	if !ok || err != nil {
		return false, err
	}
	if major != 3 {
		ss.emitVersion(raw, "")
		reason := fmt.Sprintf(s.prod.majorMismatch, major, minor)
		ss.refuse(reason, event.Notice)
		return false, ss.write([]byte{0}, reasonString(reason))
	}
	// Unofficial minor versions (Apple's 3.889, UltraVNC's 3.4 and 3.6,
	// ...) are taken as the nearest official one at or below them.
	switch {
	case minor > 8:
		minor = 8
	case minor != 7 && minor != 8:
		minor = 3
	}
	ss.minor = minor
	ss.emitVersion(raw, fmt.Sprintf("3.%d", minor))
	if minor == 3 {
		// The server picks, and only None or VncAuth will do.
		for _, t := range s.primary {
			if t == secNone || t == secVncAuth {
				ss.emitChoice(uint32(t))
				return ss.rfb4Security(ctx, t, u32(uint32(t)))
			}
		}
		ss.refuse(noType33, event.Notice)
		return false, ss.write(u32(0), reasonString(noType33))
	}
	if err := ss.write([]byte{byte(len(s.primary))}, s.primary); err != nil {
		return false, err
	}
	b, err := ss.read(1)
	if err != nil {
		return false, err
	}
	if !slices.Contains(s.primary, b[0]) {
		// A plain exception: the connection closes with no answer.
		ss.protocolError("security_type", b, "Requested security type not available")
		return false, nil
	}
	ss.emitChoice(uint32(b[0]))
	return ss.rfb4Security(ctx, b[0], nil)
}

// rfb4Security runs the chosen security type; prefix is the 3.3 server's
// choice, sent with the type's first message.
func (ss *session) rfb4Security(ctx context.Context, t uint8, prefix []byte) (bool, error) {
	switch t {
	case secNone:
		return ss.rfb4Accept(prefix, secNone)
	case secVncAuth:
		return ss.rfb4VncAuth(ctx, prefix, "VncAuth")
	default:
		return ss.vencrypt(ctx)
	}
}

func (ss *session) rfb4VncAuth(ctx context.Context, prefix []byte, secType string) (bool, error) {
	challenge, response, err := ss.challenge(prefix)
	if err != nil {
		return false, err
	}
	ok := ss.srv.checkPassword(challenge, response)
	ss.recordVncAuth(secType, challenge, response, ok)
	if !ok {
		return ss.rfb4Fail(ctx, authFailure)
	}
	return ss.rfb4Accept(nil, secVncAuth)
}

// rfb4Accept ends a successful authentication (approveConnection): the
// SecurityResult is sent unless the client is older than 3.8 and used
// None. The login clears the client's blacklist count.
func (ss *session) rfb4Accept(prefix []byte, t uint32) (bool, error) {
	out := prefix
	if ss.minor >= 8 || t != secNone {
		out = append(out, u32(0)...)
	}
	if len(out) > 0 {
		if err := ss.write(out); err != nil {
			return false, err
		}
	}
	ss.srv.blacklist.clear(ss.addr)
	return true, nil
}

// rfb4Fail answers an AuthFailureException: SecurityResult failed, with the
// reason from 3.8 on, after TigerVNC's delay. During the delay the server
// reads and drops what the client sends, and a client that closes gets no
// answer (measured). The reading goes on until the session's connection
// closes.
func (ss *session) rfb4Fail(ctx context.Context, reason string) (bool, error) {
	if d := ss.srv.prod.failDelay; d > 0 {
		gone := make(chan struct{})
		go func() {
			io.Copy(io.Discard, ss.conn)
			close(gone)
		}()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-gone:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	out := u32(1)
	if ss.minor >= 8 {
		out = append(out, reasonString(reason)...)
	}
	return false, ss.write(out)
}

// maxPlainLen is TigerVNC's MaxSaneUsernameLength and
// MaxSanePasswordLength.
const maxPlainLen = 1024

// vencrypt is TigerVNC's SSecurityVeNCrypt, version 0.2.
func (ss *session) vencrypt(ctx context.Context) (bool, error) {
	if err := ss.write([]byte{0, 2}); err != nil {
		return false, err
	}
	v, err := ss.read(2)
	if err != nil {
		return false, err
	}
	if v[0] != 0 || v[1] != 2 {
		reason := "The client returned an unsupported VeNCrypt version"
		if v[0] == 0 && v[1] <= 1 {
			reason = "The client cannot support the server's VeNCrypt version"
		}
		if err := ss.write([]byte{0xff}); err != nil {
			return false, err
		}
		ss.protocolError("vencrypt_version", v, reason)
		return ss.rfb4Fail(ctx, authFailed+reason)
	}
	out := []byte{0, byte(len(ss.srv.ext))}
	for _, t := range ss.srv.ext {
		out = binary.BigEndian.AppendUint32(out, t)
	}
	if err := ss.write(out); err != nil {
		return false, err
	}
	b, err := ss.read(4)
	if err != nil {
		return false, err
	}
	sub := binary.BigEndian.Uint32(b)
	if !slices.Contains(ss.srv.ext, sub) {
		ss.protocolError("vencrypt_subtype", b, "No valid VeNCrypt sub-type")
		return ss.rfb4Fail(ctx, authFailed+"No valid VeNCrypt sub-type")
	}
	ss.emitChoice(secVeNCrypt, "subtype", strconv.FormatUint(uint64(sub), 10), "subtype_name", secTypeName(sub))
	switch sub {
	case secNone:
		return ss.rfb4Accept(nil, secNone)
	case secVncAuth:
		return ss.rfb4VncAuth(ctx, nil, "VeNCrypt")
	case secPlain:
		return ss.plain(ctx)
	case secX509None, secX509Vnc, secX509Plain:
		// TigerVNC's default X509Cert and X509Key are empty, so the server
		// refuses the subtype and says why.
		if err := ss.write([]byte{0}); err != nil {
			return false, err
		}
		return ss.rfb4Fail(ctx, x509Failure)
	default:
		return ss.tlsSubtype(ctx, sub)
	}
}

// plain is VeNCrypt's Plain subtype: the username and password in clear.
// TigerVNC lets in only the users of its PlainUsers setting, empty by
// default, so every attempt fails.
func (ss *session) plain(ctx context.Context) (bool, error) {
	h, err := ss.read(8)
	if err != nil {
		return false, err
	}
	ulen, plen := binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:])
	if ulen > maxPlainLen {
		return ss.rfb4Fail(ctx, authFailed+"Too long username")
	}
	if plen > maxPlainLen {
		return ss.rfb4Fail(ctx, authFailed+"Too long password")
	}
	b, err := ss.read(int(ulen + plen))
	if err != nil {
		return false, err
	}
	ss.emit(event.TypeAuth, event.Notice, event.FieldMethod, "Plain", "security_type", "VeNCrypt",
		event.FieldUsername, string(b[:ulen]), event.FieldPassword, string(b[ulen:]), event.FieldSuccess, "false")
	return ss.rfb4Fail(ctx, authFailed+"invalid password or username")
}

// tlsSubtype runs an anonymous TLS VeNCrypt subtype (SSecurityTLS): the
// server accepts, carries out GnuTLS's handshake, and runs the inner
// security type inside TLS. A failed handshake gets GnuTLS's close_notify
// in clear, then the failure in clear after the usual delay.
func (ss *session) tlsSubtype(ctx context.Context, sub uint32) (bool, error) {
	if err := ss.write([]byte{1}); err != nil {
		return false, err
	}
	tc := tlsanon.Server(ss.rw, nil)
	if err := tc.Handshake(); err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
			ss.protocolError("tls", nil, err.Error())
		}
		tc.Close()
		return ss.rfb4Fail(ctx, tlsFailure)
	}
	st := tc.State()
	ss.emit(typeTLS, event.Info, "version", st.Version, "cipher_suite", st.CipherSuite, "group", st.Group)
	ss.tls = tc
	ss.rw = tc
	switch sub {
	case secTLSNone:
		return ss.rfb4Accept(nil, secNone)
	case secTLSVnc:
		return ss.rfb4VncAuth(ctx, nil, "VeNCrypt")
	default:
		return ss.plain(ctx)
	}
}

// exchangeVersions sends the server's version and reads the client's with
// parse; a client that does not speak RFB 3 is recorded and gets no more
// (ok false), as TightVNC and LibVNCServer close on it.
func (ss *session) exchangeVersions(parse func([]byte) (int, int, bool)) (minor int, ok bool, err error) {
	if err := ss.write([]byte(serverVersion)); err != nil {
		return 0, false, err
	}
	raw, major, minor, ok, err := ss.readVersion(parse)
	if !ok || err != nil {
		return 0, false, err
	}
	if major != 3 {
		ss.emitVersion(raw, "")
		return 0, false, nil
	}
	ss.minor = minor
	ss.emitVersion(raw, fmt.Sprintf("3.%d", minor))
	return minor, true, nil
}

// tightVNC is TightVNC 2.x's RfbInitializer. Its ban list is checked
// after the client's version and again after the response.
func (ss *session) tightVNC() (bool, error) {
	s := ss.srv
	minor, ok, err := ss.exchangeVersions(strictVersion)
	if !ok || err != nil {
		return false, err
	}
	if s.bans.banned(ss.addr) {
		ss.refuse(tightRejected, event.Warning)
		first := []byte{0}
		if minor == 3 {
			first = u32(0)
		}
		return false, ss.write(first, reasonString(tightRejected))
	}
	var prefix []byte
	if minor >= 7 {
		// VNC authentication, then the code that enables TightVNC's
		// protocol extensions.
		if err := ss.write([]byte{2, secVncAuth, secTight}); err != nil {
			return false, err
		}
		b, err := ss.read(1)
		if err != nil {
			return false, err
		}
		switch b[0] {
		case secVncAuth:
			ss.emitChoice(secVncAuth)
		case secTight:
			ss.tight = true
			ss.emitChoice(secTight)
			// No tunnels; one authentication capability, STDV VNCAUTH_.
			if err := ss.write(u32(0), u32(1), u32(secVncAuth), []byte("STDVVNCAUTH_")); err != nil {
				return false, err
			}
			a, err := ss.read(4)
			if err != nil {
				return false, err
			}
			if binary.BigEndian.Uint32(a) != secVncAuth {
				ss.protocolError("tight_auth", a, "unknown authentication capability")
				return false, nil
			}
		default:
			ss.protocolError("security_type", b, "Security types do not match")
			return false, nil
		}
	} else {
		prefix = u32(secVncAuth)
		ss.emitChoice(secVncAuth)
	}
	challenge, response, err := ss.challenge(prefix)
	if err != nil {
		return false, err
	}
	banned := s.bans.banned(ss.addr)
	ok = !banned && s.checkPassword(challenge, response)
	secType := "VncAuth"
	if ss.tight {
		secType = "Tight"
	}
	ss.recordVncAuth(secType, challenge, response, ok)
	if ok {
		s.bans.update(ss.addr, true)
		return true, ss.write(u32(0))
	}
	reason := tightRejected
	if !banned {
		s.bans.update(ss.addr, false)
		reason = tightAuthFailedFrom + ss.addr
	}
	// Only 3.8 clients hear why; the others see the connection close.
	if minor >= 8 {
		return false, ss.write(u32(1), reasonString(reason))
	}
	return false, nil
}

// libVNC is LibVNCServer's handshake (rfbProcessClientProtocolVersion,
// rfbAuthNewClient, rfbAuthProcessClientMessage), with a VNC password.
func (ss *session) libVNC() (bool, error) {
	s := ss.srv
	minor, ok, err := ss.exchangeVersions(scanVersion)
	if !ok || err != nil {
		return false, err
	}
	var prefix []byte
	if minor < 7 {
		prefix = u32(secVncAuth)
	} else {
		if err := ss.write([]byte{1, secVncAuth}); err != nil {
			return false, err
		}
		b, err := ss.read(1)
		if err != nil {
			return false, err
		}
		if b[0] != secVncAuth {
			ss.protocolError("security_type", b, "wrong security type requested")
			return false, nil
		}
	}
	ss.emitChoice(secVncAuth)
	challenge, response, err := ss.challenge(prefix)
	if err != nil {
		return false, err
	}
	ok = s.checkPassword(challenge, response)
	ss.recordVncAuth("VncAuth", challenge, response, ok)
	if ok {
		return true, ss.write(u32(0))
	}
	if err := ss.write(u32(1)); err != nil {
		return false, err
	}
	// "support RFB 3.8 clients, they expect a reason *why* it was
	// disconnected"
	if minor > 7 {
		return false, ss.write(reasonString(libVNCAuthFailed))
	}
	return false, nil
}
