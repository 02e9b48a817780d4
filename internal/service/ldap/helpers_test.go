package ldap

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.108.0/24.
const (
	addrSlapd   = "127.0.108.10" // OpenLDAP persona
	addrAD      = "127.0.108.20" // AD persona
	addrReal    = "127.0.108.66" // the real slapd of the differential test
	addrNmapOL  = "127.0.108.30"
	addrNmapAD  = "127.0.108.31"
	addrClients = "127.0.108.40"
)

// repeat reads as its bytes over and over: predictable challenges.
type repeat []byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r[i%len(r)]
	}
	return len(p), nil
}

// testNow is the clock of test servers.
var testNow = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// hosts of the two kinds of decky the tests use.
var (
	hostLinux   = service.Host{Name: "decky-ol", Hostname: "ldap01", OS: "linux", Distro: "debian"}
	hostWindows = service.Host{Name: "decky-dc", Hostname: "DC01", OS: "windows", Distro: "debian"}
)

// newTestServer builds a server for persona p on host h with a pinned
// clock and challenge bytes.
func newTestServer(t testing.TB, h service.Host, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	h.DataDir = t.TempDir()
	ev := &testutil.Events{}
	s, err := newServer(service.Config{Host: h, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	s.random = repeat{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	s.now = func() time.Time { return testNow }
	return s, ev
}

// serve runs s on free ports of ip until the test ends, and returns the
// addresses of 389 and 636.
func serve(t *testing.T, s *Server, ip string) (ldapAddr, ldapsAddr string) {
	t.Helper()
	addrs := servicetest.ServeTCPPorts(t, s, ip, PortLDAP, PortLDAPS)
	return addrs[PortLDAP], addrs[PortLDAPS]
}

// startServer builds and serves a test server on free ports of ip.
func startServer(t *testing.T, h service.Host, p *Persona, ip string) (s *Server, ldapAddr, ldapsAddr string, ev *testutil.Events) {
	t.Helper()
	s, ev = newTestServer(t, h, p)
	ldapAddr, ldapsAddr = serve(t, s, ip)
	return s, ldapAddr, ldapsAddr, ev
}

// waitEvent waits for an event of type typ whose field key is value.
func waitEvent(t *testing.T, ev *testutil.Events, typ, key, value string) map[string]string {
	t.Helper()
	var got []event.Event
	testutil.Eventually(t, typ+" event with "+key+"="+value, func() bool {
		got = ev.With(typ, key, value)
		return len(got) > 0
	})
	return got[len(got)-1].Fields
}

// url is an ldap:// or ldaps:// URL for an address.
func url(scheme, addr string) string { return scheme + "://" + addr }

// cracksCRAM checks a hashcat 10200 line as hashcat would: HMAC-MD5 of
// the challenge under the password is the digest after the user name.
func cracksCRAM(t *testing.T, line, password string) bool {
	t.Helper()
	parts := strings.Split(line, "$")
	if len(parts) != 4 || parts[1] != "cram_md5" {
		t.Fatalf("not a cram_md5 line: %q", line)
	}
	ch, err1 := base64.StdEncoding.DecodeString(parts[2])
	resp, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		t.Fatalf("cram_md5 line %q: %v %v", line, err1, err2)
	}
	m := hmac.New(md5.New, []byte(password))
	m.Write(ch)
	_, digest, _ := strings.Cut(string(resp), " ")
	return digest == hex.EncodeToString(m.Sum(nil))
}
