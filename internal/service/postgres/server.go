// Package postgres is a PostgreSQL 15 honeypot: the startup and
// authentication phases of the real server, byte for byte, that capture
// cleartext passwords, MD5 responses and SCRAM-SHA-256 exchanges, and, for
// a persona's weak logins, a session that answers a few recon queries.
package postgres

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"decnet/internal/atomicfile"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/tlscert"
)

// Server is one decky's PostgreSQL.
type Server struct {
	cfg     service.Config
	persona *Persona
	// secret seeds the roles' salts: stable per decky, unknown outside.
	secret  []byte
	logins  map[string]string
	dbs     map[string]bool
	nextPID atomic.Int64
	// tls is nil unless the persona has ssl on; cbind is its
	// certificate's tls-server-end-point hash.
	tls   *tls.Config
	cbind []byte
}

// secretFile keeps the salt seed in the data directory across restarts.
const secretFile = "mock_auth_nonce"

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	secret, err := loadSecret(cfg.Host.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, persona: p, secret: secret, logins: map[string]string{},
		dbs: map[string]bool{"postgres": true, "template0": true, "template1": true}}
	for _, l := range p.Logins {
		u, pw, _ := strings.Cut(l, ":")
		s.logins[u] = pw
	}
	for _, d := range p.Databases {
		s.dbs[d] = true
	}
	if p.SSL {
		if err := s.loadTLS(); err != nil {
			return nil, err
		}
	}
	first, _ := rand.Int(rand.Reader, big.NewInt(30000))
	s.nextPID.Store(1000 + first.Int64())
	return s, nil
}

// loadTLS makes the server's TLS side as Debian's postgresql.conf sets
// it: the snakeoil certificate, TLS 1.2 at least, P-256 (ssl_ecdh_curve)
// and no session tickets.
func (s *Server) loadTLS() error {
	cert, err := tlscert.HostSnakeoil(s.cfg.Host.Shared(), s.cfg.Host.Hostname)
	if err != nil {
		return fmt.Errorf("postgres: certificate: %w", err)
	}
	// tls-server-end-point hashes the certificate with its signature's
	// hash, SHA-256 for the snakeoil.
	sum := sha256.Sum256(cert.Certificate[0])
	s.cbind = sum[:]
	s.tls = &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS12,
		CurvePreferences:       []tls.CurveID{tls.CurveP256},
		SessionTicketsDisabled: true,
	}
	return nil
}

func loadSecret(dir string) ([]byte, error) {
	if dir == "" {
		b := make([]byte, 32)
		rand.Read(b)
		return b, nil
	}
	path := filepath.Join(dir, secretFile)
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		return b, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("postgres: keep salt seed: %w", err)
	}
	return b, nil
}

// Serve answers the PostgreSQL port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("postgres: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// maxNegotiations bounds SSLRequest/GSSENCRequest rounds on one
// connection; the real server recurses until its authentication timeout.
const maxNegotiations = 16

// conn is one client connection.
type conn struct {
	s *Server
	c *service.Conn
	// w is the connection or, after SSLRequest, its TLS side; r reads it.
	w     io.Writer
	r     *bufio.Reader
	tlsOn bool
	st    *startup
}

// authTimeout is authentication_timeout: a client that has not logged in
// by then is cut off without a word.
const authTimeout = time.Minute

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	cc := &conn{s: s, c: c, w: c, r: bufio.NewReader(c)}
	// The connection's own deadlines are per read; this one spans the
	// whole login.
	timer := time.AfterFunc(authTimeout, func() { c.CloseWithReason("authentication timeout") })
	if !cc.startupPhase(ctx) {
		timer.Stop()
		return
	}
	user, ok := cc.authenticate()
	if !timer.Stop() || !ok {
		return
	}
	cc.session(ctx, user)
}

func (cc *conn) emit(typ string, sev event.Severity, kv ...string) {
	f := cc.c.Fields()
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	cc.s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

func (cc *conn) write(b []byte) { cc.w.Write(b) }

func (cc *conn) fail(e *pgError) {
	cc.write(e.encode(cc.s.persona.minor()))
	cc.c.CloseWithReason(e.msg)
}

// startupPhase runs the request codes and the StartupMessage; false when
// the connection ended.
func (cc *conn) startupPhase(ctx context.Context) bool {
	sslDone, gssDone := false, false
	for range maxNegotiations {
		body, err := readStartup(cc.r)
		if err != nil {
			if errors.Is(err, errBadLength) {
				cc.emit("protocol_error", event.Warning, "error", err.Error())
				cc.c.CloseWithReason(err.Error())
			}
			return false
		}
		code := binary.BigEndian.Uint32(body)
		switch {
		case code == codeCancel:
			kv := []string{"request", "cancel"}
			if len(body) == 12 {
				kv = append(kv, "pid", strconv.FormatUint(uint64(binary.BigEndian.Uint32(body[4:])), 10))
			}
			cc.emit(event.TypeRequest, event.Info, kv...)
			return false
		case code == codeSSL && !sslDone:
			cc.emit(event.TypeRequest, event.Info, "request", "ssl")
			if cc.s.tls == nil {
				cc.write([]byte{'N'})
				sslDone, gssDone = true, false
				continue
			}
			cc.write([]byte{'S'})
			if !cc.startTLS(ctx) {
				return false
			}
			sslDone, gssDone = true, true
			continue
		case code == codeGSSENC && !gssDone:
			cc.emit(event.TypeRequest, event.Info, "request", "gssenc")
			cc.write([]byte{'N'})
			sslDone, gssDone = false, true
			continue
		}
		st, perr := parseStartup(body)
		if perr != nil {
			cc.emit("protocol_error", event.Warning, "error", event.Clip(perr.msg, 256))
			if code>>16 < 3 {
				cc.write(perr.encodeV2())
				cc.c.CloseWithReason(perr.msg)
			} else {
				cc.fail(perr)
			}
			return false
		}
		cc.st = st
		params, _ := json.Marshal(st.Params)
		cc.emit("startup", event.Info,
			event.FieldUsername, st.User, "database", st.Database,
			"application_name", event.Clip(st.param("application_name"), 256),
			"protocol", fmt.Sprintf("%d.%d", st.Major, st.Minor), "tls", strconv.FormatBool(cc.tlsOn),
			"params", event.Clip(string(params), 4096))
		if st.Minor > 0 || len(st.ProtoOpts) > 0 {
			cc.write(negotiateVersion(st.ProtoOpts))
		}
		return true
	}
	return false
}

// startTLS runs the TLS handshake after 'S'. Bytes the client sent
// before it in the clear are not a ClientHello, so the handshake fails on
// them and the connection ends, as the real server's does.
func (cc *conn) startTLS(ctx context.Context) bool {
	tc := tls.Server(readerConn{cc.c, cc.r}, cc.s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		cc.emit("protocol_error", event.Warning, "error", event.Clip("tls: "+err.Error(), 256))
		return false
	}
	cc.w, cc.r, cc.tlsOn = tc, bufio.NewReader(tc), true
	st := tc.ConnectionState()
	cc.emit("tls", event.Info, "tls_version", tls.VersionName(st.Version),
		"cipher", tls.CipherSuiteName(st.CipherSuite), "sni", event.Clip(st.ServerName, 256))
	return true
}

// readerConn is a connection whose reads go through a buffer that may
// already hold its first bytes.
type readerConn struct {
	*service.Conn
	r *bufio.Reader
}

func (c readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// negotiateVersion is NegotiateProtocolVersion: the newest version the
// server speaks (3.0) and the _pq_. options it did not recognise.
func negotiateVersion(opts []string) []byte {
	b := binary.BigEndian.AppendUint32(nil, protoV3)
	b = binary.BigEndian.AppendUint32(b, uint32(len(opts)))
	for _, o := range opts {
		b = append(b, cstr(o)...)
	}
	return message('v', b)
}

func authRequest(code uint32, data ...[]byte) []byte {
	return message('R', append([][]byte{int32b(code)}, data...)...)
}

func (cc *conn) authFailed() {
	cc.fail(errf(siteAuthFailed, "28P01", "password authentication failed for user %q", cc.st.User))
}

// authenticate runs the persona's method; it returns the login on success.
func (cc *conn) authenticate() (string, bool) {
	switch cc.s.persona.Auth {
	case AuthReject:
		ip := cc.c.Fields()[event.FieldSrcIP]
		enc := "no encryption"
		if cc.tlsOn {
			enc = "SSL encryption"
		}
		cc.fail(errf(siteNoHBA, "28000", "no pg_hba.conf entry for host %q, user %q, database %q, %s", ip, cc.st.User, cc.st.Database, enc))
		return "", false
	case AuthPassword:
		return cc.authPassword()
	case AuthMD5:
		return cc.authMD5()
	}
	return cc.authSCRAM()
}

// readPassword reads a PasswordMessage as recv_password_packet does.
func (cc *conn) readPassword() (string, bool) {
	typ, body, err := readMessage(cc.r, maxPassword)
	if err != nil && !errors.Is(err, errTooLong) {
		return "", false
	}
	if typ != 'p' {
		cc.fail(errf(siteExpectedPassword, "08P01", "expected password response, got message type %d", typ))
		return "", false
	}
	if err != nil {
		cc.authFailed()
		return "", false
	}
	pw, complete := cstrAt(body, 0)
	if !complete || len(pw)+1 != len(body) {
		cc.fail(errf(siteBadPasswordPacket, "08P01", "invalid password packet size"))
		return "", false
	}
	if pw == "" {
		cc.fail(errf(siteEmptyPassword, "28P01", "empty password returned by client"))
		return "", false
	}
	return pw, true
}

func (cc *conn) authPassword() (string, bool) {
	cc.write(authRequest(3))
	pw, ok := cc.readPassword()
	if !ok {
		return "", false
	}
	want, known := cc.s.logins[cc.st.User]
	good := known && want == pw
	cc.emit(event.TypeAuth, sevFor(good), event.FieldUsername, cc.st.User, event.FieldPassword, event.Clip(pw, 256),
		event.FieldMethod, AuthPassword, "database", cc.st.Database, event.FieldSuccess, strconv.FormatBool(good))
	if !good {
		cc.authFailed()
		return "", false
	}
	return cc.st.User, true
}

func (cc *conn) authMD5() (string, bool) {
	var salt [4]byte
	rand.Read(salt[:])
	cc.write(authRequest(5, salt[:]))
	resp, ok := cc.readPassword()
	if !ok {
		return "", false
	}
	want, known := cc.s.logins[cc.st.User]
	good := known && md5Response(cc.st.User, want, salt) == resp
	kv := []string{event.FieldUsername, cc.st.User, event.FieldMethod, AuthMD5, "database", cc.st.Database,
		event.FieldSuccess, strconv.FormatBool(good)}
	if isMD5Response(resp) {
		kv = append(kv, event.FieldHash, md5Line(cc.st.User, salt, resp), event.FieldHashFormat, FormatMD5)
	} else {
		// Not a hash: a tool that sent its password as it is.
		kv = append(kv, event.FieldPassword, event.Clip(resp, 256))
	}
	cc.emit(event.TypeAuth, sevFor(good), kv...)
	if !good {
		cc.authFailed()
		return "", false
	}
	return cc.st.User, true
}

func isMD5Response(s string) bool {
	if len(s) != 35 || !strings.HasPrefix(s, "md5") {
		return false
	}
	for _, c := range s[3:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func sevFor(success bool) event.Severity {
	if success {
		return event.Notice
	}
	return event.Warning
}

// readSASL reads a SASLResponse body.
func (cc *conn) readSASL() ([]byte, bool) {
	typ, body, err := readMessage(cc.r, maxSASL)
	if err != nil && !errors.Is(err, errTooLong) {
		return nil, false
	}
	if typ != 'p' {
		cc.fail(errf(siteExpectedSASL, "08P01", "expected SASL response, got message type %d", typ))
		return nil, false
	}
	if err != nil {
		cc.authFailed()
		return nil, false
	}
	return body, true
}

func (cc *conn) authSCRAM() (string, bool) {
	offered := []string{mechSCRAM}
	if cc.tlsOn {
		offered = []string{mechSCRAMPlus, mechSCRAM}
	}
	var list []byte
	for _, m := range offered {
		list = append(list, cstr(m)...)
	}
	cc.write(authRequest(10, list, []byte{0}))
	body, ok := cc.readSASL()
	if !ok {
		return "", false
	}
	data, mech, perr := saslInitial(body, offered)
	if perr != nil {
		cc.fail(perr)
		return "", false
	}
	if data == nil {
		cc.write(authRequest(11))
		if data, ok = cc.readSASL(); !ok {
			return "", false
		}
	}
	plus := mech == mechSCRAMPlus
	cf, perr := cc.clientFirst(data, plus)
	if perr != nil {
		cc.fail(perr)
		return "", false
	}
	salt := mockSalt(cc.s.secret, cc.st.User)
	serverFirst := "r=" + cf.nonce + serverNonce() + ",s=" + b64(salt) + ",i=" + strconv.Itoa(scramIterations)
	cc.write(authRequest(11, []byte(serverFirst)))
	if data, ok = cc.readSASL(); !ok {
		return "", false
	}
	if perr := checkInput(data); perr != nil {
		cc.fail(perr)
		return "", false
	}
	fin, perr := parseClientFinal(string(data), cf, plus, cc.s.cbind)
	if perr == nil && fin.nonce != serverFirst[2:strings.IndexByte(serverFirst, ',')] {
		perr = errf(siteSCRAMNonce, "08P01", "invalid SCRAM response")
		perr.detail = "Nonce does not match."
	}
	if perr != nil {
		cc.fail(perr)
		return "", false
	}
	authMessage := cf.bare + "," + serverFirst + "," + fin.withoutProof
	want, known := cc.s.logins[cc.st.User]
	var keys scramKeys
	good := false
	if known {
		keys = newSCRAMKeys(want, salt)
		good = keys.verifyProof(authMessage, fin.proof)
	}
	cc.emit(event.TypeAuth, sevFor(good), event.FieldUsername, cc.st.User, event.FieldMethod, AuthSCRAM,
		"mechanism", mech, "database", cc.st.Database, event.FieldSuccess, strconv.FormatBool(good),
		event.FieldHash, scramLine(salt, authMessage, fin.proof), event.FieldHashFormat, FormatSCRAM)
	if !good {
		cc.authFailed()
		return "", false
	}
	cc.write(authRequest(12, []byte("v="+b64(hmacSHA256(keys.serverKey, authMessage)))))
	return cc.st.User, true
}

func (cc *conn) clientFirst(data []byte, plus bool) (*clientFirst, *pgError) {
	if perr := checkInput(data); perr != nil {
		return nil, perr
	}
	return parseClientFirst(string(data), plus, cc.tlsOn)
}
