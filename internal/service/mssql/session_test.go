package mssql

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// notSup is a captured PRELOGIN with its ENCRYPTION set to ENCRYPT_NOT_SUP,
// so that the login that follows comes in the clear.
func notSup(t *testing.T, name string) []byte {
	t.Helper()
	p := capture(t, name)
	for i := 0; p[i] != optTerminator; i += 5 {
		if p[i] == optEncryption {
			p[binary.BigEndian.Uint16(p[i+1:])] = encryptNotSup
		}
	}
	return appendMessage(nil, pktPrelogin, 0, prePacket, p)
}

func packet(typ byte, msg []byte) []byte { return appendMessage(nil, typ, 0, prePacket, msg) }

// Sessions driven with captured client messages: what the server answers
// and records for each.
func TestSessions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		persona Persona
		in      func(t *testing.T) []byte
		// reply is the server's answer after its PRELOGIN answer: a golden
		// file, or nil for none.
		reply  string
		events []string
		fields map[string]string // of the last event
	}{
		{"tsql in the clear", Persona{}, func(t *testing.T) []byte {
			return append(notSup(t, "prelogin-tsql"), packet(pktLogin7, capture(t, "login7-tsql"))...)
		}, "login-failed-7.4", []string{typePrelogin, event.TypeAuth},
			map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw", "encryption": "none", "tds": "7.4"}},
		{"impacket NTLM in the clear", Persona{}, func(t *testing.T) []byte {
			return bytes.Join([][]byte{notSup(t, "prelogin-impacket"), packet(pktLogin7, capture(t, "login7-impacket-ntlm")),
				packet(pktSSPI, capture(t, "sspi-impacket"))}, nil)
		}, "", []string{typePrelogin, typeNTLMNegotiate, event.TypeAuth},
			map[string]string{event.FieldUsername: "alice", "domain": "CORP", event.FieldMethod: methodNTLM,
				event.FieldHashFormat: ntlmssp.FormatNetNTLMv2, "app_name": "AgJyxBAD"}},
		{"forced encryption turns away NOT_SUP", Persona{ForceEncryption: true}, func(t *testing.T) []byte {
			return append(notSup(t, "prelogin-tsql"), packet(pktLogin7, capture(t, "login7-tsql"))...)
		}, "", []string{typePrelogin}, map[string]string{"encryption": "not_sup", "encryption_reply": "req"}},
		{"named instance mismatch", Persona{Instance: "SQLEXPRESS"}, func(t *testing.T) []byte {
			return notSup(t, "prelogin-nmap")
		}, "", []string{typePrelogin}, map[string]string{"instance": "MSSQLServer", "instance_mismatch": "true"}},
		{"hydra's TDS 4.2 login", Persona{}, func(t *testing.T) []byte {
			return appendMessage(nil, pktPreTDS7, 0, 512, capture(t, "login42-hydra"))
		}, "", []string{event.TypeAuth}, map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw",
			"tds": "4.2", "hostname": ""}},
		{"TDS 4.2 login cut", Persona{}, func(t *testing.T) []byte {
			return packet(pktPreTDS7, capture(t, "login42-hydra")[:92])
		}, "", []string{typeProtocolError}, map[string]string{"stage": "login"}},
		{"LOGIN7 without PRELOGIN", Persona{}, func(t *testing.T) []byte {
			return packet(pktLogin7, capture(t, "login7-tsql"))
		}, "login-failed-7.4", []string{event.TypeAuth},
			map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw", "encryption": "none"}},
		{"SQL batch first", Persona{}, func(t *testing.T) []byte {
			return packet(pktSQLBatch, []byte("s\x00e\x00l\x00"))
		}, "", []string{typeUnexpected}, map[string]string{"packet_type": "SQLBatch", "stage": "prelogin"}},
		{"HTTP request", Persona{}, func(t *testing.T) []byte {
			return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		}, "", []string{typeProtocolError}, map[string]string{"stage": "prelogin"}},
		{"LOGIN7 cut", Persona{}, func(t *testing.T) []byte {
			return append(notSup(t, "prelogin-tsql"), packet(pktLogin7, capture(t, "login7-tsql")[:90])...)
		}, "", []string{typePrelogin, typeProtocolError}, map[string]string{"stage": "login7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := newTestServer(t, &tc.persona)
			out := drive(t, s, tc.in(t))
			var types []string
			for _, e := range ev.All() {
				types = append(types, e.Type)
			}
			if len(types) != len(tc.events) {
				t.Fatalf("events %v, want %v", types, tc.events)
			}
			for i := range types {
				if types[i] != tc.events[i] {
					t.Fatalf("events %v, want %v", types, tc.events)
				}
			}
			if len(types) > 0 {
				wantFields(t, ev.All()[len(types)-1], tc.fields)
			}
			if len(out) == 0 {
				return
			}
			_, _, raw, err := readMessage(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			rest := out[len(raw):]
			if tc.name == "LOGIN7 without PRELOGIN" {
				rest = out
			}
			switch {
			case tc.reply != "":
				golden(t, tc.reply, rest)
			case tc.name == "impacket NTLM in the clear":
				// The CHALLENGE in an SSPI token, then 18452.
				_, msg, raw, err := readMessage(bytes.NewReader(rest))
				if err != nil || msg[0] != tokenSSPI || !bytes.HasPrefix(msg[3:], []byte(ntlmssp.Signature)) {
					t.Fatalf("SSPI answer %x: %v", msg, err)
				}
				_, msg, _, err = readMessage(bytes.NewReader(rest[len(raw):]))
				if err != nil || !bytes.Equal(msg, errorReply(0x71, errUntrustedLogin, msgUntrustedLogin, "SQL-PROD-01")) {
					t.Fatalf("answer to AUTHENTICATE %x: %v", msg, err)
				}
			case len(rest) > 0:
				t.Errorf("server sent %x after its PRELOGIN answer", rest)
			}
		})
	}
}

// Each decky has its own SQL Server fallback certificate, kept in its
// data directory across restarts.
func TestFallbackCertificate(t *testing.T) {
	leaf := func(s *Server) *x509.Certificate {
		c := s.tls.Certificates[0]
		if c.Leaf != nil {
			return c.Leaf
		}
		l, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, _ := newTestServer(t, &Persona{})
	b, _ := newTestServer(t, &Persona{})
	ca := leaf(a)
	if ca.Subject.CommonName != fallbackCN || ca.Issuer.CommonName != fallbackCN {
		t.Errorf("subject %q issuer %q", ca.Subject, ca.Issuer)
	}
	if bytes.Equal(ca.Raw, leaf(b).Raw) {
		t.Error("two deckies share a certificate")
	}
	again, err := newServer(a.cfg, &Persona{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.Raw, leaf(again).Raw) {
		t.Error("the certificate changed across a restart")
	}
	if ca.NotAfter.Sub(ca.NotBefore) < 29*365*24*time.Hour {
		t.Errorf("valid %v to %v, want 30 years", ca.NotBefore, ca.NotAfter)
	}
}

func TestPersona(t *testing.T) {
	for _, tc := range []struct {
		p       Persona
		version string
		ok      bool
	}{
		{Persona{}, "15.0.4355.3", true},
		{Persona{Version: "2017"}, "14.0.3456.2", true},
		{Persona{Version: "2022"}, "16.0.4135.4", true},
		{Persona{Version: "15.0.2000.5"}, "15.0.2000.5", true},
		{Persona{Version: "13.0.5026"}, "13.0.5026.0", true},
		{Persona{Version: "2025"}, "", false},
		{Persona{Version: "7.0.623"}, "", false},
		{Persona{Version: "15.0.x"}, "", false},
		{Persona{Version: "15.0.70000.1"}, "", false},
		{Persona{Instance: "SQLEXPRESS"}, "15.0.4355.3", true},
		{Persona{Instance: "BAD NAME"}, "", false},
		{Persona{Instance: "ABCDEFGHIJKLMNOPQ"}, "", false},
		{Persona{Domain: "corp.example.com"}, "15.0.4355.3", true},
		{Persona{Domain: "corp example"}, "", false},
	} {
		err := tc.p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v, want ok %v", tc.p, err, tc.ok)
			continue
		}
		if v, _, _ := tc.p.build(); tc.ok && v.String() != tc.version {
			t.Errorf("%+v: version %s, want %s", tc.p, v, tc.version)
		}
	}
}

// A named instance's errors carry HOST\INSTANCE, and its NTLM challenge
// names the domain a persona joins.
func TestServerNames(t *testing.T) {
	s, _ := newTestServer(t, &Persona{Instance: "SQLEXPRESS", Domain: "corp.example.com"})
	if s.serverName != `SQL-PROD-01\SQLEXPRESS` || s.ntlm.DNSComputer != "SQL-PROD-01.corp.example.com" {
		t.Errorf("server name %q, NTLM computer %q", s.serverName, s.ntlm.DNSComputer)
	}
	if s.ntlm.NetBIOSDomain != "CORP" {
		t.Errorf("NetBIOS domain %q", s.ntlm.NetBIOSDomain)
	}
}

// buildLogin7 makes a TDS 7.4 LOGIN7 as a client would, with Windows
// authentication when sspi is set.
func buildLogin7(user, password string, sspi []byte) []byte {
	return buildLogin7Ext(user, password, sspi, nil)
}

// buildLogin7Ext is buildLogin7 with a FeatureExt block.
func buildLogin7Ext(user, password string, sspi, featureExt []byte) []byte {
	const fixed = login7Len72
	var data []byte
	head := make([]byte, fixed)
	le := binary.LittleEndian
	le.PutUint32(head[4:], 0x74000004)
	le.PutUint32(head[8:], 4096)
	put := func(at int, b []byte, units int) {
		le.PutUint16(head[at:], uint16(fixed+len(data)))
		le.PutUint16(head[at+2:], uint16(units))
		data = append(data, b...)
	}
	host, app := appendUTF16(nil, "WS01"), appendUTF16(nil, "SSMS")
	put(36, host, len(host)/2)
	u := appendUTF16(nil, user)
	put(40, u, len(u)/2)
	p := appendUTF16(nil, password)
	put(44, obfuscate(p), len(p)/2)
	put(48, app, len(app)/2)
	if sspi != nil {
		head[25] |= intSecurity
		put(78, sspi, len(sspi))
	}
	if featureExt != nil {
		head[27] |= fExtension
		var ptr [4]byte
		le.PutUint32(ptr[:], uint32(fixed+len(data)+4))
		put(56, ptr[:], 4)
		data = append(data, featureExt...)
	}
	msg := append(head, data...)
	le.PutUint32(msg, uint32(len(msg)))
	return msg
}

// A client logging in with an Entra ID access token (go-mssqldb's and
// SqlClient's FEDAUTH security-token library) leaves the token.
func TestFedAuthToken(t *testing.T) {
	const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2RhdGFiYXNlLndpbmRvd3MubmV0LyJ9.c2ln"
	tok := appendUTF16(nil, jwt)
	fed := append([]byte{fedAuthSecurityToken<<1 | 1}, binary.LittleEndian.AppendUint32(nil, uint32(len(tok)))...)
	fed = append(fed, tok...)
	ext := []byte{0x0a, 1, 0, 0, 0, 1, featureFedAuth}
	ext = binary.LittleEndian.AppendUint32(ext, uint32(len(fed)))
	ext = append(append(ext, fed...), featureTerminator)

	s, ev := newTestServer(t, &Persona{})
	out := drive(t, s, append(notSup(t, "prelogin-tsql"), packet(pktLogin7, buildLogin7Ext("", "", nil, ext))...))
	a := lastAuth(t, ev)
	wantFields(t, a, map[string]string{event.FieldToken: jwt, event.FieldTokenType: "bearer",
		event.FieldMethod: methodFedAuth, "features": `["UTF8_SUPPORT","FEDAUTH"]`})
	if _, ok := a.Fields[event.FieldPassword]; ok {
		t.Errorf("a token login has a password field")
	}
	if !bytes.Contains(out, appendUTF16(nil, loginFailedMsg(""))) {
		t.Errorf("answer %x lacks 18456", out)
	}
}

// A Windows login over SPNEGO that offers Kerberos first, as SSMS on a
// domain machine does: the server asks for NTLM, then answers the
// NEGOTIATE with a CHALLENGE inside a NegTokenResp, and records the
// AUTHENTICATE's hash (made for another challenge: impacket's, replayed).
func TestSPNEGOLogin(t *testing.T) {
	s, ev := newTestServer(t, &Persona{Domain: "corp.example.com"})
	// The client's messages, from impacket's Windows login.
	login := capture(t, "login7-impacket-ntlm")
	negotiate := login[bytes.Index(login, []byte(ntlmssp.Signature)):]
	in := bytes.Join([][]byte{
		notSup(t, "prelogin-tsql"),
		packet(pktLogin7, buildLogin7("", "", ntlmssp.NegTokenInitMechs(ntlmssp.Windows))),
		packet(pktSSPI, ntlmssp.WrapChallenge(negotiate)),
		packet(pktSSPI, ntlmssp.WrapChallenge(capture(t, "sspi-impacket"))),
	}, nil)
	out := drive(t, s, in)
	var msgs [][]byte
	for r := bytes.NewReader(out); r.Len() > 0; {
		_, msg, _, err := readMessage(r)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) != 4 || !bytes.Equal(msgs[1], sspiReply(ntlmssp.WrapSelectNTLM())) ||
		msgs[2][0] != tokenSSPI || msgs[3][0] != tokenError {
		t.Fatalf("answers %x", msgs)
	}
	chal, err := ntlmssp.UnwrapSPNEGO(msgs[2][3:])
	if err != nil || !bytes.Contains(chal, appendUTF16(nil, "CORP")) {
		t.Fatalf("CHALLENGE %x: %v", chal, err)
	}
	neg := ev.OfType(typeNTLMNegotiate)
	auth := ev.OfType(event.TypeAuth)
	if len(neg) != 1 || neg[0].Fields["spnego"] != "true" || len(auth) != 1 {
		t.Fatalf("events %v", ev.All())
	}
	wantFields(t, auth[0], map[string]string{event.FieldUsername: "alice", "domain": "CORP",
		"hostname": "WS01", "app_name": "SSMS", event.FieldHashFormat: ntlmssp.FormatNetNTLMv2})
}

// A SQL login built by hand, with a password in other scripts, arrives
// intact.
func TestSQLLoginUnicode(t *testing.T) {
	s, ev := newTestServer(t, &Persona{})
	out := drive(t, s, append(notSup(t, "prelogin-tsql"), packet(pktLogin7, buildLogin7("администратор", "Пароль€1", nil))...))
	wantFields(t, lastAuth(t, ev), map[string]string{event.FieldUsername: "администратор", event.FieldPassword: "Пароль€1",
		"hostname": "WS01", "app_name": "SSMS", "tds": "7.4"})
	if !bytes.Contains(out, appendUTF16(nil, loginFailedMsg("администратор"))) {
		t.Errorf("answer %x lacks the user's 18456", out)
	}
}
