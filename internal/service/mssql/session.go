package mssql

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// Event types besides auth.
const (
	typePrelogin      = "prelogin"          // client_version, encryption, encryption_reply, instance, instance_mismatch, thread_id, mars, trace_id, options
	typeUnexpected    = "unexpected_packet" // stage, packet_type, data
	typeProtocolError = "protocol_error"    // stage, data, error
	typeNTLMNegotiate = "ntlm_negotiate"    // ntlm_flags, client_os_version, client_domain, client_workstation, spnego
)

// Values of the auth event's method field.
const (
	methodSQL  = "sql"
	methodNTLM = "NTLM"
	// methodFedAuth is a login with an Entra ID access token (FEDAUTH).
	methodFedAuth = "fedauth"
)

// What the encryption field says went over TLS.
const (
	encryptionModeNone = "none"  // ENCRYPT_NOT_SUP: everything in the clear
	encryptionModeLog  = "login" // ENCRYPT_OFF: only LOGIN7
	encryptionModeAll  = "all"   // ENCRYPT_ON or REQ: the whole session
)

const (
	maxDataLen = 256 // bytes of a bad message kept in events
	// maxSSPIRounds bounds an SSPI exchange: SPNEGO may take one round
	// more than NTLM's two.
	maxSSPIRounds = 3
	sspiStage     = "sspi"
)

// session is one client's connection, from PRELOGIN to the failed login.
type session struct {
	srv  *Server
	conn net.Conn
	// rw is where TDS messages go now: the connection, or TLS over it.
	rw     io.ReadWriter
	fields map[string]string
	spid   uint16
	// tlsFields describe the TLS session, for the auth event.
	tlsFields []string
}

func (ss *session) emit(typ string, sev event.Severity, kv ...string) {
	f := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	ss.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(ss.fields, f)})
}

func (ss *session) protocolError(stage string, data []byte, err error) {
	ss.emit(typeProtocolError, event.Notice, "stage", stage,
		"data", clean(data[:min(len(data), maxDataLen)], 4*maxDataLen), "error", clean([]byte(err.Error()), maxField))
}

func (ss *session) unexpected(stage string, typ byte, data []byte) {
	ss.emit(typeUnexpected, event.Notice, "stage", stage, "packet_type", packetTypeName(typ),
		"data", clean(data[:min(len(data), maxDataLen)], 4*maxDataLen))
}

// read reads the next message of type want; anything else is recorded and
// ends the session, as SQL Server drops a client out of sequence.
func (ss *session) read(stage string, want byte) ([]byte, bool) {
	typ, msg, got, err := readMessage(ss.rw)
	switch {
	case err != nil:
		if len(got) > 0 {
			ss.protocolError(stage, got, err)
		}
		return nil, false
	case typ != want:
		ss.unexpected(stage, typ, msg)
		return nil, false
	}
	return msg, true
}

// reply sends a tabular result message.
func (ss *session) reply(payload []byte) error {
	_, err := ss.rw.Write(appendMessage(nil, pktReply, ss.spid, prePacket, payload))
	return err
}

// run serves the connection up to the failed login.
func (ss *session) run(ctx context.Context) {
	ss.rw = ss.conn
	typ, msg, got, err := readMessage(ss.rw)
	switch {
	case err != nil:
		if len(got) > 0 {
			ss.protocolError("prelogin", got, err)
		}
		return
	case typ == pktPreTDS7:
		// A TDS 4.2 login, as hydra sends: SQL Server 2005 and later
		// drop it unanswered, but its password is there in the clear.
		ss.tds42Login(msg)
		return
	case typ == pktLogin7:
		// A TDS 7.0 client that skips PRELOGIN logs in in the clear.
		ss.tlsFields = []string{"encryption", encryptionModeNone}
		ss.login(msg)
		return
	case typ != pktPrelogin:
		ss.unexpected("prelogin", typ, msg)
		return
	}
	pre, err := ParsePrelogin(msg)
	if err != nil {
		ss.protocolError("prelogin", msg, err)
		return
	}
	enc, goOn := pre.encryption(ss.srv.force)
	mismatch := !instanceOK(pre.Instance, ss.srv.instance)
	ss.emitPrelogin(pre, enc, mismatch)
	if ss.reply(preloginReply(ss.srv.version, enc, mismatch, pre.HasMARS)) != nil || !goOn {
		return
	}
	mode := map[byte]string{encryptOff: encryptionModeLog, encryptOn: encryptionModeAll, encryptReq: encryptionModeAll}[enc]
	if mode == "" {
		mode = encryptionModeNone
	}
	ss.tlsFields = []string{"encryption", mode}
	if mode != encryptionModeNone {
		tc, ok := ss.handshake(ctx)
		if !ok {
			return
		}
		ss.rw = tc
	}
	msg, ok := ss.read("login7", pktLogin7)
	if mode == encryptionModeLog {
		// Only the login travels encrypted; the answer comes in the clear.
		ss.rw = ss.conn
	}
	if ok {
		ss.login(msg)
	}
}

// login records a LOGIN7 and fails it.
func (ss *session) login(msg []byte) {
	l, err := ParseLogin7(msg)
	if err != nil {
		ss.protocolError("login7", msg, err)
		return
	}
	ss.spid = ss.srv.nextSPID()
	if l.IntegratedSecurity() {
		ss.sspi(l)
		return
	}
	kv := append(ss.loginFields(l), event.FieldUsername, l.UserName)
	if l.FedAuthToken != "" {
		kv = append(kv, event.FieldMethod, methodFedAuth, event.FieldToken, l.FedAuthToken, event.FieldTokenType, "bearer")
	} else {
		kv = append(kv, event.FieldMethod, methodSQL, event.FieldPassword, l.Password)
	}
	ss.emit(event.TypeAuth, event.Notice, kv...)
	ss.reply(errorReply(l.Major, errLoginFailed, loginFailedMsg(l.UserName), ss.srv.serverName))
}

// tds42Login records a TDS 4.2 LOGIN record's host, user and password:
// fixed 30-byte fields, each followed by its length.
func (ss *session) tds42Login(msg []byte) {
	if len(msg) < tds42Fields {
		ss.protocolError("login", msg, fmt.Errorf("TDS 4.2 login of %d bytes: %w", len(msg), ErrMalformed))
		return
	}
	field := func(at int) string {
		n := min(int(msg[at+30]), 30)
		return clean(msg[at:at+n], maxField)
	}
	ss.emit(event.TypeAuth, event.Notice, "hostname", field(0), event.FieldUsername, field(31),
		event.FieldPassword, field(62), event.FieldMethod, methodSQL, "tds", "4.2",
		"encryption", encryptionModeNone, event.FieldSuccess, "false")
}

// tds42Fields is how much of a TDS 4.2 LOGIN record holds the host name,
// user name and password with their lengths.
const tds42Fields = 93

func (ss *session) emitPrelogin(p Prelogin, reply byte, mismatch bool) {
	opts := make([]string, len(p.Options))
	for i, o := range p.Options {
		opts[i] = fmt.Sprintf("0x%02x", o)
	}
	kv := []string{"client_version", p.Version, "encryption_reply", encryptionName(reply),
		"instance", p.Instance, "instance_mismatch", strconv.FormatBool(mismatch),
		"options", "[" + joinQuoted(opts) + "]"}
	if p.HasEncryption {
		kv = append(kv, "encryption", encryptionName(p.Encryption))
	}
	if p.ThreadID != "" {
		kv = append(kv, "thread_id", p.ThreadID)
	}
	if p.HasMARS {
		kv = append(kv, "mars", strconv.Itoa(int(p.MARS)))
	}
	if p.TraceID != "" {
		kv = append(kv, "trace_id", p.TraceID)
	}
	if p.HasFedAuth {
		kv = append(kv, "fedauth", "true")
	}
	ss.emit(typePrelogin, event.Info, kv...)
}

// joinQuoted renders strings as the inside of a JSON array.
func joinQuoted(s []string) string {
	var b bytes.Buffer
	for i, v := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

// handshake runs the TLS handshake inside PRELOGIN packets.
func (ss *session) handshake(ctx context.Context) (*tls.Conn, bool) {
	pt := &preloginTLS{Conn: ss.conn, wrapped: true}
	tc := tls.Server(pt, ss.srv.tls)
	err := tc.HandshakeContext(ctx)
	pt.wrapped = false
	if err != nil {
		if !errors.Is(err, io.EOF) {
			ss.protocolError("tls", nil, err)
		}
		return nil, false
	}
	st := tc.ConnectionState()
	ss.tlsFields = append(ss.tlsFields, "tls_version", tls.VersionName(st.Version),
		"tls_cipher", tls.CipherSuiteName(st.CipherSuite))
	return tc, true
}

// tdsVersionNames name the TDS versions.
var tdsVersionNames = map[byte]string{0x70: "7.0", 0x71: "7.1", 0x72: "7.2", 0x73: "7.3", 0x74: "7.4"}

// featureNames name the LOGIN7 FeatureExt features (MS-TDS 2.2.6.4).
var featureNames = map[byte]string{0x01: "SESSIONRECOVERY", 0x02: "FEDAUTH", 0x04: "COLUMNENCRYPTION",
	0x05: "GLOBALTRANSACTIONS", 0x08: "AZURESQLSUPPORT", 0x09: "DATACLASSIFICATION",
	0x0a: "UTF8_SUPPORT", 0x0b: "AZURESQLDNSCACHING"}

func featureName(id byte) string {
	if n, ok := featureNames[id]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", id)
}

// loginFields are what LOGIN7 tells about the client, for its auth event.
func (ss *session) loginFields(l Login7) []string {
	kv := append([]string{
		"hostname", l.HostName, "app_name", l.AppName, "server_name", l.ServerName,
		"library", l.Library, "language", l.Language, "database", l.Database,
		"client_pid", strconv.FormatUint(uint64(l.ClientPID), 10),
		"client_prog_version", fmt.Sprintf("0x%08x", l.ClientProgVer),
		"tds_version", fmt.Sprintf("0x%08x", l.TDSVersion),
		"packet_size", strconv.FormatUint(uint64(l.PacketSize), 10),
		"client_mac", l.ClientID,
		"lcid", strconv.FormatUint(uint64(l.LCID), 10),
		event.FieldSuccess, "false",
	}, ss.tlsFields...)
	if n, ok := tdsVersionNames[l.Major]; ok {
		kv = append(kv, "tds", n)
	}
	if l.AttachDBFile != "" {
		kv = append(kv, "attach_db_file", l.AttachDBFile)
	}
	if l.ChangePassword != "" {
		kv = append(kv, "new_password", l.ChangePassword)
	}
	if len(l.Features) > 0 {
		names := make([]string, len(l.Features))
		for i, id := range l.Features {
			names[i] = featureName(id)
		}
		kv = append(kv, "features", "["+joinQuoted(names)+"]")
	}
	if l.TypeFlags&readOnlyFlag != 0 {
		kv = append(kv, "read_only_intent", "true")
	}
	return kv
}

// sspi runs Windows authentication: the NTLM NEGOTIATE (bare or in
// SPNEGO) came in LOGIN7, the CHALLENGE goes back in an SSPI token, and
// the client's AUTHENTICATE comes in an SSPI packet. Windows then refuses
// the unknown account, which SQL Server reports as error 18452.
func (ss *session) sspi(l Login7) {
	token := l.SSPI
	var chal *ntlmssp.Challenge
	for range maxSSPIRounds {
		spnego := !bytes.HasPrefix(token, []byte(ntlmssp.Signature))
		msg, err := ntlmssp.UnwrapSPNEGO(token)
		switch {
		case errors.Is(err, ntlmssp.ErrNeedNTLMToken):
			if ss.reply(sspiReply(ntlmssp.WrapSelectNTLM())) != nil {
				return
			}
			if token, err = ss.nextSSPI(); err != nil {
				return
			}
			continue
		case err != nil:
			ss.protocolError(sspiStage, token, err)
			ss.reply(errorReply(l.Major, errUntrustedLogin, msgUntrustedLogin, ss.srv.serverName))
			return
		}
		if chal == nil {
			neg, err := ntlmssp.ParseNegotiate(msg)
			if err != nil {
				ss.protocolError(sspiStage, msg, err)
				ss.reply(errorReply(l.Major, errUntrustedLogin, msgUntrustedLogin, ss.srv.serverName))
				return
			}
			c, err := ntlmssp.NewChallenge(neg, ss.srv.ntlm, ss.srv.now(), ss.srv.random)
			if err != nil {
				ss.srv.cfg.Log.Error("mssql: NTLM challenge", "err", err)
				return
			}
			ss.emit(typeNTLMNegotiate, event.Info, "ntlm_flags", neg.Flags.String(),
				"client_os_version", neg.Version.String(),
				"client_domain", clean([]byte(neg.Domain), maxField),
				"client_workstation", clean([]byte(neg.Workstation), maxField),
				"spnego", strconv.FormatBool(spnego))
			out := c.Marshal()
			if spnego {
				out = ntlmssp.WrapChallenge(out)
			}
			if ss.reply(sspiReply(out)) != nil {
				return
			}
			chal = &c
			if token, err = ss.nextSSPI(); err != nil {
				return
			}
			continue
		}
		a, err := ntlmssp.ParseAuthenticate(msg)
		if err != nil {
			ss.protocolError(sspiStage, msg, err)
			ss.reply(errorReply(l.Major, errUntrustedLogin, msgUntrustedLogin, ss.srv.serverName))
			return
		}
		ss.emitNTLM(l, a, chal.ServerChallenge)
		ss.reply(errorReply(l.Major, errUntrustedLogin, msgUntrustedLogin, ss.srv.serverName))
		return
	}
	ss.reply(errorReply(l.Major, errUntrustedLogin, msgUntrustedLogin, ss.srv.serverName))
}

// errSessionEnded ends an SSPI exchange whose next packet did not come.
var errSessionEnded = errors.New("no SSPI packet")

func (ss *session) nextSSPI() ([]byte, error) {
	msg, ok := ss.read(sspiStage, pktSSPI)
	if !ok {
		return nil, errSessionEnded
	}
	return msg, nil
}

func (ss *session) emitNTLM(l Login7, a ntlmssp.Authenticate, serverChallenge [8]byte) {
	kv := append(ss.loginFields(l),
		event.FieldUsername, clean([]byte(a.User), maxField),
		"domain", clean([]byte(a.Domain), maxField),
		"workstation", clean([]byte(a.Workstation), maxField),
		event.FieldMethod, methodNTLM,
		"client_os_version", a.Version.String())
	kv = append(kv, a.CaptureFields(serverChallenge)...)
	ss.emit(event.TypeAuth, event.Notice, kv...)
}
