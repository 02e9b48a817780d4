package rdp

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// fixedChallenge is every NTLM server challenge of a test server.
var fixedChallenge = testutil.Hex("0123456789abcdef")

// startWindows serves a Windows persona whose NTLM challenges are
// fixedChallenge.
func startWindows(t *testing.T, p *Persona) (string, *testutil.Events) {
	t.Helper()
	s, addr, ev := startServer(t, windowsHost, p, "127.0.0.1")
	s.random = bytes.NewReader(bytes.Repeat(fixedChallenge, 16))
	return addr, ev
}

// negotiate sends a Connection Request offering protocols and returns the
// Connection Confirm.
func negotiate(t *testing.T, c net.Conn, protocols uint32) []byte {
	t.Helper()
	req := cr("Cookie: mstshash=eve\r\n", string([]byte{1, 0, 8, 0, byte(protocols), 0, 0, 0}))
	if _, err := c.Write(tpkt(req)); err != nil {
		t.Fatal(err)
	}
	cc, _, err := readTPKT(c)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// hybrid negotiates CredSSP and runs the TLS handshake.
func hybrid(t *testing.T, addr string) *tls.Conn {
	t.Helper()
	c := dial(t, addr)
	if cc := negotiate(t, c, 3); cc[len(cc)-4] != byte(ProtocolHybrid) {
		t.Fatalf("CC %x does not select HYBRID", cc)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

func sendTS(t *testing.T, w io.Writer, version int64, token []byte) {
	t.Helper()
	if _, err := w.Write(TSRequest{Version: version, NegoTokens: [][]byte{token}}.Marshal()); err != nil {
		t.Fatal(err)
	}
}

func readTS(t *testing.T, r io.Reader) TSRequest {
	t.Helper()
	frame, _, err := readBERFrame(r, tagSequence, maxTSRequest)
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseTSRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// CredSSP with each kind of client: raw NTLMSSP (FreeRDP, impacket,
// nmap) or SPNEGO (mstsc), CredSSP 6 or 2. The CHALLENGE names the
// persona, the NTLMv2 response is captured and verifies, and the logon
// fails as Windows fails it.
func TestCredSSP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int64
		spnego  bool
		kerb    bool // SPNEGO offering Kerberos first, with a Kerberos token
	}{
		{"raw v6", 6, false, false},
		{"raw v3", 3, false, false},
		{"raw v2", 2, false, false},
		{"spnego v6", 6, true, false},
		{"spnego kerberos first", 6, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, ev := startWindows(t, &Persona{NLA: true, Domain: "corp.example.com"})
			tc2 := hybrid(t, addr)
			first := ntlmNegotiate
			switch {
			case tc.kerb:
				first = negTokenInit(testutil.Hex("6082 0100"), oidKRB5, oidNTLMSSP)
			case tc.spnego:
				first = negTokenInit(ntlmNegotiate, oidNTLMSSP)
			}
			sendTS(t, tc2, tc.version, first)
			resp := readTS(t, tc2)
			if tc.kerb {
				if !bytes.Equal(resp.NegoTokens[0], ntlmssp.WrapSelectNTLM()) {
					t.Fatalf("answer to a Kerberos token: %x, want NTLMSSP selected", resp.NegoTokens[0])
				}
				sendTS(t, tc2, tc.version, negTokenResp(ntlmNegotiate))
				resp = readTS(t, tc2)
			}
			if resp.Version != credSSPVersion || len(resp.NegoTokens) != 1 || resp.HasErrorCode {
				t.Fatalf("answer to NEGOTIATE: %+v", resp)
			}
			chal := resp.NegoTokens[0]
			if tc.spnego {
				if chal[0] != tagContext0+1 {
					t.Fatalf("SPNEGO client answered without NegTokenResp: %x", chal)
				}
				var err error
				if chal, err = ntlmssp.UnwrapSPNEGO(chal); err != nil {
					t.Fatal(err)
				}
			}
			sc, info := challengeParts(t, chal)
			if !bytes.Equal(sc, fixedChallenge) || !bytes.Contains(info, utf16le("SRV-FILES-42.corp.example.com")) {
				t.Errorf("CHALLENGE %x", chal)
			}
			auth := ntlmAuthenticate(t, chal, "alice", "CORP", ntHashSecret)
			if tc.spnego {
				auth = negTokenResp(auth)
			}
			sendTS(t, tc2, tc.version, auth)
			if tc.version >= 3 {
				fail := readTS(t, tc2)
				if !fail.HasErrorCode || fail.ErrorCode != statusLogonFailure || fail.Version != 6 || fail.NegoTokens != nil {
					t.Errorf("logon failure %+v", fail)
				}
				if _, err := tc2.Read(make([]byte, 1)); err == nil {
					t.Errorf("connection open after the logon failure")
				}
			} else if _, err := tc2.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "access denied") {
				t.Errorf("CredSSP 2 client read %v, want the access denied alert", err)
			}
			a := waitFor(t, ev, event.TypeAuth)
			checkFields(t, "auth", a, map[string]string{event.FieldUsername: "alice", "domain": "CORP", "workstation": "KALI",
				event.FieldSuccess: "false", event.FieldHashFormat: ntlmssp.FormatNetNTLMv2, "security": "HYBRID",
				"anonymous": "", "hash_error": ""})
			if !strings.Contains(a[event.FieldHash], ":"+hex.EncodeToString(fixedChallenge)+":") {
				t.Errorf("hash %q without the server challenge", a[event.FieldHash])
			}
			crackV2(t, a[event.FieldHash], "secret")
			n := waitFor(t, ev, typeNTLMNegotiate)
			checkFields(t, "ntlm_negotiate", n, map[string]string{"ntlm_flags": "0xe20882b7", "client_os_version": "10.0.17763",
				"spnego": map[bool]string{true: "true", false: "false"}[tc.spnego]})
		})
	}
}

// An anonymous logon is recorded, with nothing to crack, and refused.
func TestCredSSPAnonymous(t *testing.T) {
	addr, ev := startWindows(t, &Persona{NLA: true})
	tc := hybrid(t, addr)
	sendTS(t, tc, 6, ntlmNegotiate)
	chal := readTS(t, tc).NegoTokens[0]
	sendTS(t, tc, 6, ntlmAuthenticate(t, chal, "", "", nil))
	if fail := readTS(t, tc); fail.ErrorCode != statusLogonFailure {
		t.Errorf("logon failure %+v", fail)
	}
	a := waitFor(t, ev, event.TypeAuth)
	checkFields(t, "auth", a, map[string]string{"anonymous": "true", event.FieldHash: "", event.FieldSuccess: "false"})
}

// What nmap's rdp-ntlm-info does: NEGOTIATE, read the CHALLENGE, leave.
func TestCredSSPNegotiateOnly(t *testing.T) {
	addr, ev := startWindows(t, &Persona{NLA: true})
	tc := hybrid(t, addr)
	sendTS(t, tc, 0x60, ntlmNegotiate)
	if resp := readTS(t, tc); resp.Version != 6 {
		t.Errorf("answer %+v", resp)
	}
	tc.Close()
	waitFor(t, ev, event.TypeDisconnect)
	if n := len(ev.OfType(event.TypeAuth)); n != 0 {
		t.Errorf("%d auth events", n)
	}
	checkFields(t, "ntlm_negotiate", waitFor(t, ev, typeNTLMNegotiate), map[string]string{"credssp_version": "96"})
}

// Hostile or broken CredSSP: recorded as protocol errors, the connection
// ends; a Kerberos-only SPNEGO token is rejected in SPNEGO.
func TestCredSSPErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		send   func(w io.Writer)
		stage  string
		answer []byte
	}{
		{"not DER", func(w io.Writer) { w.Write([]byte("GET / HTTP/1.1\r\n\r\n")) }, "credssp", nil},
		{"no negoTokens", func(w io.Writer) { w.Write(TSRequest{Version: 6}.Marshal()) }, "credssp", nil},
		{"bad TSRequest", func(w io.Writer) { w.Write(testutil.Hex("3005a103020106")) }, "credssp", nil},
		{"AUTHENTICATE first", func(w io.Writer) {
			w.Write(TSRequest{Version: 6, NegoTokens: [][]byte{ntlmAuthenticate(t, nil, "", "", nil)}}.Marshal())
		}, "ntlm", nil},
		{"not NTLM", func(w io.Writer) {
			w.Write(TSRequest{Version: 6, NegoTokens: [][]byte{testutil.Hex("0102")}}.Marshal())
		}, "spnego", nil},
		{"Kerberos only", func(w io.Writer) {
			w.Write(TSRequest{Version: 6, NegoTokens: [][]byte{negTokenInit(testutil.Hex("6082"), oidKRB5)}}.Marshal())
		}, "spnego", ntlmssp.WrapReject()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, ev := startWindows(t, &Persona{NLA: true})
			c := hybrid(t, addr)
			tc.send(c)
			if tc.answer != nil {
				if got := readTS(t, c); len(got.NegoTokens) != 1 || !bytes.Equal(got.NegoTokens[0], tc.answer) {
					t.Errorf("answer %+v, want token %x", got, tc.answer)
				}
			}
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Errorf("connection still open")
			}
			checkFields(t, "protocol_error", waitFor(t, ev, typeProtocolError), map[string]string{"stage": tc.stage, "error": "*"})
		})
	}
}

// The X.224 stage: Windows closes a connection that does not open with a
// Connection Request. xrdp reads the TPKT or fast-path frame the first
// bytes announce, silent while it is incomplete, then sends a Disconnect
// Provider Ultimatum and closes: the answers of Debian's xrdp to the same
// bytes (nmap's TLSSessionReq probe gets the DPUM, by which nmap -sV names
// xrdp). Both record the input.
func TestNotRDP(t *testing.T) {
	const open, closed = "open", ""
	dpum := string(testutil.Hex("0300000902f0802180"))
	for _, tc := range []struct {
		name  string
		host  service.Host
		in    string
		reply string
	}{
		{"windows http", windowsHost, "GET / HTTP/1.1\r\n\r\n", closed},
		{"windows bad CR", windowsHost, string(tpkt(testutil.Hex("06f00000000000"))), closed},
		{"xrdp http, frame incomplete", linuxHost, "GET / HTTP/1.1\r\n\r\n", open},
		{"xrdp http, frame complete", linuxHost, "GET / HTTP/1.1\r\n" + strings.Repeat("A", 60), dpum},
		{"xrdp TLS ClientHello", linuxHost, string(testutil.Hex("16030100050102030405")), dpum},
		{"xrdp fast-path length in two bytes", linuxHost, string(testutil.Hex("0081050000")), open},
		{"xrdp data TPDU", linuxHost, string(testutil.Hex("0300000802f08028")), dpum},
		{"xrdp bad TPDU", linuxHost, string(testutil.Hex("030000070102ff")), dpum},
		{"xrdp TPKT incomplete", linuxHost, string(testutil.Hex("0300000b06e0000000")), open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, tc.host, &Persona{NLA: true}, "127.0.0.1")
			c := dial(t, addr)
			c.Write([]byte(tc.in))
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			got, err := io.ReadAll(c)
			switch timedOut := errors.Is(err, os.ErrDeadlineExceeded); {
			case tc.reply == open && (!timedOut || len(got) > 0):
				t.Errorf("read %x, %v; want the connection open and silent", got, err)
			case tc.reply != open && (timedOut || string(got) != tc.reply):
				t.Errorf("read %x, %v; want %x and the connection closed", got, err, tc.reply)
			}
			c.Close()
			checkFields(t, "protocol_error", waitFor(t, ev, typeProtocolError), map[string]string{"stage": "x224", "data": "*"})
		})
	}
}

// A client without RDP_NEG_REQ gets a bare CC and is recorded up to its
// MCS Connect-Initial; garbage in its place is a protocol error.
func TestLegacyRDP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mcs    []byte
		typ    string
		fields map[string]string
	}{
		{"connect initial", readHex(t, "nmap-mcs.hex"), typeMCSConnect, map[string]string{"client_name": "EMP-LAP-0014",
			"desktop": "1280x800", "channels": "rdpdr,cliprdr,rdpsnd", "client_build": "2600", "rdp_version": "0x00080004",
			"keyboard_layout": "0x00000409", "encryption_methods": "0x00000001", "server_selected_protocol": "RDP"}},
		{"garbage", testutil.Hex("02f080 ffff"), typeProtocolError, map[string]string{"stage": "mcs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, windowsHost, &Persona{NLA: true}, "127.0.0.1")
			c := dial(t, addr)
			c.Write(tpkt(cr("Cookie: mstshash=nmap\r\n")))
			cc, _, err := readTPKT(c)
			if err != nil || !bytes.Equal(tpkt(cc), testutil.Hex("0300000b06d00000123400")) {
				t.Fatalf("CC %x, %v", cc, err)
			}
			c.Write(tpkt(tc.mcs))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Errorf("connection open after the Connect-Initial")
			}
			f := waitFor(t, ev, tc.typ)
			checkFields(t, tc.typ, f, tc.fields)
			checkFields(t, tc.typ, f, peerFields)
		})
	}
}

// The negotiate event carries the whole Connection Request.
func TestNegotiateEvent(t *testing.T) {
	_, addr, ev := startServer(t, windowsHost, &Persona{NLA: true}, "127.0.0.1")
	c := dial(t, addr)
	c.Write(tpkt(cr("Cookie: msts=3640205228.15629.0000\r\n", string(testutil.Hex("0108080001000000")),
		string(testutil.Hex("0600240000112233445566778899aabbccddeeff00000000000000000000000000000000")))))
	if cc, _, err := readTPKT(c); err != nil || cc[len(cc)-4] != failureHybridRequired {
		t.Fatalf("CC %x, %v", cc, err)
	}
	checkFields(t, "negotiate", waitFor(t, ev, typeNegotiate), map[string]string{
		"routing_token": "Cookie: msts=3640205228.15629.0000", "requested_protocols": "SSL",
		"requested_protocols_raw": "0x00000001", "neg_flags": "CORRELATION_INFO_PRESENT",
		"correlation_id": "00112233445566778899aabbccddeeff", "failure": "HYBRID_REQUIRED_BY_SERVER",
		event.FieldUsername: "", "selected_protocol": ""})
}

// A TLS ClientHello instead of a Connection Request (MS-RDPBCGR's Direct
// Approach) gets Windows's certificate and CredSSP; xrdp answers a
// Disconnect Provider Ultimatum, which is no TLS (TestNotRDP has its
// bytes).
func TestDirectTLS(t *testing.T) {
	addr, ev := startWindows(t, &Persona{NLA: true})
	tc := tls.Client(dial(t, addr), &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	st := tc.ConnectionState()
	if cn := st.PeerCertificates[0].Subject.CommonName; cn != "SRV-FILES-42" || st.Version != tls.VersionTLS12 ||
		st.CipherSuite != tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("certificate %s, %s, %s", cn, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	sendTS(t, tc, 6, ntlmNegotiate)
	if resp := readTS(t, tc); len(resp.NegoTokens) != 1 {
		t.Errorf("answer %+v", resp)
	}
	checkFields(t, "negotiate", waitFor(t, ev, typeNegotiate), map[string]string{"direct_tls": "true"})

	_, addr, _ = startServer(t, linuxHost, &Persona{}, "127.0.0.1")
	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if err := tls.Client(c, &tls.Config{InsecureSkipVerify: true}).Handshake(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("xrdp's answer to a ClientHello: %v, want a record that is not TLS", err)
	}
}

// Schannel picks the suite in its own order; the TLS event records it.
func TestServerCipherOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		client  []uint16
		version uint16
		want    uint16
	}{
		{"client prefers AES-128", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
			tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{"TLS 1.0 skips TLS 1.2 suites", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}, tls.VersionTLS10, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA},
		{"plain RSA", []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
			tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, ev := startWindows(t, &Persona{NLA: true})
			c := dial(t, addr)
			negotiate(t, c, 3)
			tc2 := tls.Client(c, &tls.Config{InsecureSkipVerify: true, CipherSuites: tc.client, MinVersion: tc.version, MaxVersion: tc.version})
			if err := tc2.Handshake(); err != nil {
				t.Fatal(err)
			}
			if got := tc2.ConnectionState().CipherSuite; got != tc.want {
				t.Errorf("suite %s, want %s", tls.CipherSuiteName(got), tls.CipherSuiteName(tc.want))
			}
			checkFields(t, "tls", waitFor(t, ev, typeTLS), map[string]string{"cipher": tls.CipherSuiteName(tc.want),
				"tls_version": tls.VersionName(tc.version)})
		})
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                  "alice",
		"Jörg Müller":            "Jörg Müller",
		"a\x00b":                 `a\x00b`,
		"\xff\xfe":               `\xff\xfe`,
		"line\r\n":               `line\r\n`,
		strings.Repeat("é", 200): strings.Repeat("é", 128),
	} {
		if got := clean([]byte(in), maxFieldLen); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
