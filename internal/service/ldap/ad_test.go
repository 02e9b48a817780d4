package ldap

import (
	"bufio"
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// client is a raw LDAP connection for protocol tests.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// send writes a request and returns the answer's messages, up to the
// first that is not a search entry.
func (c *client) send(req []byte) []byte {
	c.t.Helper()
	if _, err := c.c.Write(req); err != nil {
		c.t.Fatal(err)
	}
	var out []byte
	for {
		frame, err := readFrame(c.r, 1<<20)
		if err != nil {
			c.t.Fatalf("reading: %v", err)
		}
		out = append(out, frame...)
		if m, err := parseMessage(frame); err != nil || m.op.id != opSearchEntry {
			return out
		}
	}
}

// bindResult decodes a BindResponse: code, matchedDN, diagnostic and
// serverSaslCreds.
func bindResult(t *testing.T, b []byte) (code int64, matched, diag string, creds []byte) {
	t.Helper()
	m, err := parseMessage(b)
	if err != nil || m.op.id != opBindResponse {
		t.Fatalf("not a BindResponse: %x (%v)", b, err)
	}
	fs, err := children(m.op)
	if err != nil || len(fs) < 3 {
		t.Fatalf("BindResponse %x", b)
	}
	code, _ = parseInt(fs[0].body)
	if len(fs) > 3 && fs[3].id == saslCredentialsTagID {
		creds = fs[3].body
	}
	return code, string(fs[1].body), string(fs[2].body), creds
}

// TestADWire pins the AD persona's bytes in golden files: 4-octet
// lengths on constructed elements, the 52e diagnostic with its NUL, the
// bind-required refusal, and the root DSE nmap's probe gets.
func TestADWire(t *testing.T) {
	s, ev := newTestServer(t, hostWindows, &Persona{Domain: "corp.local"})
	addr, _ := serve(t, s, addrAD)
	e := encoder{}
	c := dial(t, addr)
	tests := []struct {
		name string
		req  []byte
	}{
		{"ad-bind-invalid", req(1, bindReq(3, "CORP\\Administrator", e.str(authSimple, "Winter2025")))},
		{"ad-anonymous-search", req(2, searchReq("DC=corp,DC=local", scopeSub, 0, present("objectClass")))},
		{"ad-rootdse-nmap", nmapSearchProbe},
		{"ad-sicily-discovery", req(3, bindReq(3, "", e.str(authSicilyDiscovery, "")))},
		{"ad-unknown-extop", req(4, extReq("1.2.3.4"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testutil.GoldenHex(t, filepath.Join("testdata", "golden", tc.name+".hex"), c.send(tc.req), *update)
		})
	}
	if f := waitEvent(t, ev, event.TypeRequest, "base", "DC=corp,DC=local"); f["result"] != "1" {
		t.Errorf("anonymous search event %v", f)
	}
}

// TestADGSSSPNEGO runs NTLM inside SASL GSS-SPNEGO, as Windows' own LDAP
// client binds: the NegTokenInit's NEGOTIATE gets a NegTokenResp with the
// CHALLENGE, and the AUTHENTICATE of MS-NLMP §4.2.4 (password
// "Password") is recorded as a NetNTLMv2 line that cracks.
func TestADGSSSPNEGO(t *testing.T) {
	s, ev := newTestServer(t, hostWindows, &Persona{Domain: "corp.local"})
	s.random = repeat{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef} // the spec's server challenge
	addr, _ := serve(t, s, addrAD)
	e := encoder{}
	spnegoOID := testutil.Hex("06 06 2b 06 01 05 05 02")
	ntlmOID := testutil.Hex("06 0a 2b 06 01 04 01 82 37 02 02 0a")
	negotiate := []byte(ntlmssp.Signature + "\x01\x00\x00\x00\x05\x02\x88\xa0")
	initTok := e.tlv(classApplication|constructed, spnegoOID, e.tlv(classContext|constructed,
		e.tlv(tagSequence, e.tlv(classContext|constructed, e.tlv(tagSequence, ntlmOID)),
			e.tlv(classContext|constructed|2, e.tlv(tagOctetString, negotiate)))))
	c := dial(t, addr)
	code, _, _, creds := bindResult(t, c.send(req(1, bindReq(3, "", saslAuth("GSS-SPNEGO", string(initTok))))))
	if code != resultSaslBindInProgress {
		t.Fatalf("first step: result %d", code)
	}
	inner, err := ntlmssp.UnwrapSPNEGO(creds)
	if err != nil || !bytes.HasPrefix(inner, []byte(ntlmssp.Signature+"\x02")) {
		t.Fatalf("no CHALLENGE in %x: %v", creds, err)
	}
	auth := readSpecHex(t, "msnlmp-4.2.4-authenticate.hex")
	respTok := e.tlv(classContext|constructed|1, e.tlv(tagSequence, e.tlv(classContext|constructed|2, e.tlv(tagOctetString, auth))))
	code, _, diag, _ := bindResult(t, c.send(req(2, bindReq(3, "", saslAuth("GSS-SPNEGO", string(respTok))))))
	if code != resultInvalidCredentials || diag != adInvalidCreds {
		t.Errorf("final step: %d %q", code, diag)
	}
	f := waitEvent(t, ev, event.TypeAuth, event.FieldUsername, "User")
	ok, err := ntlmssp.CracksV2(f[event.FieldHash], "Password")
	if !ok || err != nil || f["domain"] != "Domain" || f[event.FieldMethod] != "sasl/GSS-SPNEGO" || f[event.FieldSuccess] != "false" {
		t.Errorf("auth event %v (%v)", f, err)
	}
}

// readSpecHex reads one of ntlmssp's MS-NLMP test vectors.
func readSpecHex(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "ntlmssp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			h.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	return testutil.Hex(h.String())
}

// TestResolve checks the persona defaults a decky gets.
func TestResolve(t *testing.T) {
	tests := []struct {
		name               string
		h                  service.Host
		p                  Persona
		ad                 bool
		domain, base, host string
	}{
		{"windows is AD", hostWindows, Persona{Domain: "corp.local"}, true, "corp.local", "DC=corp,DC=local", "DC01"},
		{"linux is slapd", hostLinux, Persona{Domain: "Kestrel.COM"}, false, "kestrel.com", "dc=kestrel,dc=com", "ldap01"},
		{"hostname's domain", service.Host{Name: "d", Hostname: "dir1.acme.example", OS: "linux"}, Persona{}, false, "acme.example", "dc=acme,dc=example", "dir1"},
		{"forced product", hostLinux, Persona{Product: AD, Domain: "x.local"}, true, "x.local", "DC=x,DC=local", "LDAP01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := resolve(&tc.p, tc.h)
			if s.ad != tc.ad || s.domain != tc.domain || s.base != tc.base || s.host != tc.host {
				t.Errorf("resolve = ad %v %q %q %q", s.ad, s.domain, s.base, s.host)
			}
		})
	}
	a := resolve(&Persona{}, service.Host{Name: "decky-01", Hostname: "SRV-A", OS: "windows"})
	b := resolve(&Persona{}, service.Host{Name: "decky-01", Hostname: "SRV-A", OS: "windows"})
	if a.domain != b.domain || !strings.HasSuffix(a.domain, ".local") {
		t.Errorf("drawn domain %q, %q: want stable and .local", a.domain, b.domain)
	}
	seen := map[string]bool{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		seen[resolve(&Persona{}, service.Host{Name: n, Hostname: n}).domain] = true
	}
	if len(seen) < 2 {
		t.Error("every decky draws the same domain")
	}
}

func TestPersonaValidate(t *testing.T) {
	tests := []struct {
		p  Persona
		ok bool
	}{
		{Persona{}, true},
		{Persona{Product: "ad", Domain: "corp.local", Users: []string{"alice:x"}}, true},
		{Persona{Product: "iis"}, false},
		{Persona{Domain: "local"}, false},
		{Persona{Domain: "bad_label.com"}, false},
		{Persona{Users: []string{"nopass"}}, false},
		{Persona{SizeLimit: -1}, false},
		{Persona{SASLMechanisms: []string{"plain"}}, false},
		{Persona{Site: "has space"}, false},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v", tc.p, err)
		}
	}
	p, err := service.NewPersona(Service{}.Info(), map[string]string{"product": "ad", "starttls": "false", "users": "a:b, c:d"})
	if err != nil {
		t.Fatal(err)
	}
	if pp := p.(*Persona); pp.StartTLS || len(pp.Users) != 2 {
		t.Errorf("decoded %+v", pp)
	}
}
