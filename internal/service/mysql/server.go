package mysql

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Event types of their own.
const (
	typeProtocolError = "protocol_error"
	typeTLS           = "tls"
)

// handshakeTimeout bounds the login, far below the session's idle limit,
// as MariaDB's connect_timeout (10 s) does.
var handshakeTimeout = 10 * time.Second

// Server is one decky's database server.
type Server struct {
	cfg      service.Config
	persona  *Persona
	prod     product
	rel      release
	tls      *tls.Config     // nil when SSL is not offered
	rsaKey   *rsa.PrivateKey // caching_sha2_password's key (MySQL only)
	random   io.Reader
	nextID   atomic.Uint32
	accounts map[string][]string // user -> passwords that log in
	acl      []account           // MariaDB's account list
	bait     *schema
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	s := &Server{cfg: cfg, persona: p, prod: products[p.Product], rel: p.releaseFor(cfg.Host.Distro),
		random: rand.Reader, accounts: map[string][]string{}}
	names := slices.Clone(p.RemoteUsers)
	for _, u := range p.Users {
		name, pw, _ := strings.Cut(u, ":")
		s.accounts[name] = append(s.accounts[name], pw)
		names = append(names, name)
	}
	s.acl = accountList(names)
	// Connection ids go on from where a server up for a while would be.
	h := fnv.New32a()
	h.Write([]byte(cfg.Host.Name))
	s.nextID.Store(8 + h.Sum32()%400)
	s.bait = newSchema(p.Databases)
	if p.sslOn() {
		c, err := loadCert(cfg.Host.DataDir, p.Product, s.rel.version)
		if err != nil {
			return nil, err
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}
	}
	if p.Product == MySQL {
		k, err := loadRSAKey(cfg.Host.DataDir)
		if err != nil {
			return nil, err
		}
		s.rsaKey = k
	}
	return s, nil
}

// Serve answers the MySQL port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("mysql: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// session is one client connection.
type session struct {
	s      *Server
	conn   net.Conn // the TCP connection, or TLS over it
	fields map[string]string
	seq    byte // the next sequence number to send
	salt   []byte
	host   string // the client as error messages name it
	res    *response
	user   string
	db     string
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	s.serve(ctx, c, c.Fields())
}

// serve runs one connection: the login, cut off after handshakeTimeout,
// then the commands of a client that logged in.
func (s *Server) serve(ctx context.Context, c net.Conn, fields map[string]string) {
	ss := &session{s: s, conn: c, fields: fields, host: clientHost(c.RemoteAddr())}
	timer := time.AfterFunc(handshakeTimeout, func() { reset(c) })
	ok, err := ss.login()
	if !timer.Stop() {
		ss.emit(typeProtocolError, event.Notice, map[string]string{"error": "handshake timeout"})
		return
	}
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF) {
			ss.emit(typeProtocolError, event.Notice, map[string]string{"error": err.Error()})
		}
		return
	}
	if ok {
		ss.commands(ctx)
	}
}

// reset closes a connection with a TCP reset, as MariaDB drops a client
// that does not log in within connect_timeout.
func reset(c net.Conn) {
	if sc, ok := c.(*service.Conn); ok {
		if tc, ok := sc.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
	c.Close()
}

// clientHost is the client's host as MariaDB prints it: its address, or
// localhost for the loopback address that resolves to it.
func clientHost(a net.Addr) string {
	host, _, _ := net.SplitHostPort(a.String())
	if host == "127.0.0.1" || host == "::1" {
		return "localhost"
	}
	return host
}

func (ss *session) emit(typ string, sev event.Severity, extra map[string]string) {
	ss.s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(ss.fields, extra)})
}

// write sends payloads as consecutive packets in one write.
func (ss *session) write(payloads ...[]byte) error {
	var out []byte
	for _, p := range payloads {
		out = appendPacket(out, ss.seq, p)
		ss.seq++
	}
	_, err := ss.conn.Write(out)
	return err
}

// read takes the client's next packet; the sequence then goes on from it.
func (ss *session) read() ([]byte, error) {
	seq, p, err := readPacket(ss.conn)
	if err != nil {
		return nil, err
	}
	ss.seq = seq + 1
	return p, nil
}

// login runs the handshake; ok says the client logged in.
func (ss *session) login() (ok bool, err error) {
	s := ss.s
	if ss.salt, err = s.prod.newSalt(s.random); err != nil {
		return false, err
	}
	connID := s.nextID.Add(1)
	if err := ss.write(s.prod.greeting(s.rel.version, connID, ss.salt, s.tls != nil)); err != nil {
		return false, err
	}
	p, err := ss.read()
	if err != nil {
		return false, err
	}
	res, err := parseResponse(p)
	switch {
	case err != nil || !res.ssl:
	case s.tls == nil:
		err = fmt.Errorf("%w: SSL request, no SSL offered", errBadHandshake)
	default:
		if p, err = ss.startTLS(); err != nil {
			return false, err
		}
		res, err = parseResponse(p)
	}
	if err != nil {
		ss.write(errPacket(1043, "08S01", "Bad handshake"))
		return false, err
	}
	ss.res, ss.user = res, res.user
	plugin, auth, clear, err := ss.authenticate()
	if err != nil {
		return false, err
	}
	ok = ss.accepts(plugin, auth, clear)
	ss.emitAuth(plugin, auth, clear, ok)
	if !ok {
		return false, ss.write(ss.deniedPacket(len(auth) > 0 || clear != ""))
	}
	if res.database != "" && !s.bait.has(res.database) {
		return false, ss.write(unknownDB(res.database))
	}
	ss.db = res.database
	if ss.db != "" && ss.sessionTrack() {
		return true, ss.write(okSchemaPacket(ss.db))
	}
	return true, ss.write(okPacket(0))
}

// startTLS answers an SSLRequest with a TLS handshake and reads the
// HandshakeResponse41 that follows it.
func (ss *session) startTLS() ([]byte, error) {
	tc := tls.Server(ss.conn, ss.s.tls)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	st := tc.ConnectionState()
	ss.conn = tc
	ss.fields["tls"] = tls.VersionName(st.Version)
	ss.emit(typeTLS, event.Info, map[string]string{"cipher": tls.CipherSuiteName(st.CipherSuite), "sni": event.Clip(st.ServerName, 256)})
	return ss.read()
}

// authenticate takes the client through the product's auth plugin: the
// scramble it answered with, or the clear password a caching_sha2_password
// full authentication reveals.
func (ss *session) authenticate() (plugin string, auth []byte, clear string, err error) {
	want := ss.s.prod.plugin
	auth = ss.res.auth
	if ss.res.plugin != want && ss.res.caps&capPluginAuth != 0 {
		if err := ss.write(authSwitch(want, ss.salt)); err != nil {
			return "", nil, "", err
		}
		if auth, err = ss.read(); err != nil {
			return "", nil, "", err
		}
	}
	if want == sha2Plugin {
		clear, err = ss.sha2FullAuth(auth)
	}
	return want, auth, clear, err
}

// accepts says whether the login matches a persona account.
func (ss *session) accepts(plugin string, auth []byte, clear string) bool {
	for _, pw := range ss.s.accounts[ss.user] {
		if clear != "" && clear == pw || clear == "" && matches(plugin, ss.salt, auth, pw) {
			return true
		}
	}
	return false
}

// deniedPacket is the refusal of the product.
func (ss *session) deniedPacket(usedPassword bool) []byte {
	if ss.s.persona.Product == MariaDB {
		return mariadbRefusal(ss.s.acl, serverUserName(ss.user), ss.host, usedPassword)
	}
	return accessDenied(event.Clip(ss.user, 48), ss.host, usedPassword)
}

// emitAuth records the login with everything needed to crack it.
func (ss *session) emitAuth(plugin string, auth []byte, clear string, ok bool) {
	res := ss.res
	f := map[string]string{
		event.FieldUsername: event.Clip(res.user, 256),
		event.FieldMethod:   plugin,
		event.FieldSuccess:  strconv.FormatBool(ok),
		"client_plugin":     event.Clip(res.plugin, 64),
		"client_flags":      fmt.Sprintf("%#08x", res.caps),
		"password_used":     strconv.FormatBool(len(auth) > 0 || clear != ""),
	}
	if res.database != "" {
		f["database"] = event.Clip(res.database, 256)
	}
	if len(res.attrKeys) > 0 {
		attrs, _ := json.Marshal(res.attrs)
		f["client_attrs"] = string(attrs)
		if prog := res.attrs["program_name"]; prog != "" {
			f["program"] = prog
		}
	}
	switch {
	case clear != "" || len(auth) == 0:
		// An empty answer is itself a credential: the empty password.
		f[event.FieldPassword] = event.Clip(clear, 256)
	case plugin == nativePlugin && len(auth) == saltLen:
		f[event.FieldHash] = hashcatNative(ss.salt, auth)
		f[event.FieldHashFormat] = HashFormatNative
	}
	sev := event.Notice
	if ok {
		sev = event.Warning
	}
	ss.emit(event.TypeAuth, sev, f)
}
