package rdp

import (
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// windowsHost is a workgroup Windows decky.
var windowsHost = service.Host{Name: "decky1", Hostname: "SRV-FILES-42", OS: "windows", Distro: "debian"}

// linuxHost is a Debian decky.
var linuxHost = service.Host{Name: "decky2", Hostname: "files-nova", OS: "linux", Distro: "debian"}

// startServer serves a server for persona p on host at a loopback
// address; an empty DataDir becomes a temporary one.
func startServer(t *testing.T, host service.Host, p *Persona, ip string) (*Server, string, *testutil.Events) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if host.DataDir == "" {
		host.DataDir = t.TempDir()
	}
	ev := &testutil.Events{}
	s, err := newServer(service.Config{Host: host, Persona: p, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	return s, servicetest.ServeTCP(t, s, ip, Port), ev
}

// dial connects to addr with a deadline for the whole test exchange.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor waits for the first event of type typ.
func waitFor(t *testing.T, ev *testutil.Events, typ string) map[string]string {
	t.Helper()
	testutil.Eventually(t, typ+" event", func() bool { return len(ev.OfType(typ)) > 0 })
	return ev.OfType(typ)[0].Fields
}

// checkFields fails for each field of f that differs from want; "*"
// wants any non-empty value, "" wants the field absent.
func checkFields(t *testing.T, what string, f, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := f[k]
		switch {
		case v == "*" && got == "":
			t.Errorf("%s: no %s", what, k)
		case v == "" && ok:
			t.Errorf("%s: %s = %q, want none", what, k, got)
		case v != "*" && v != "" && got != v:
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

// peerFields are on every event of a connection.
var peerFields = map[string]string{event.FieldSrcIP: "*", event.FieldSrcPort: "*", event.FieldSession: "*", "dst_port": "*"}

// crackV2 checks a captured hashcat 5600 line: it must verify with
// password and not with another one.
func crackV2(t *testing.T, line, password string) {
	t.Helper()
	f := strings.Split(line, ":")
	if len(f) != 6 || f[1] != "" {
		t.Fatalf("hash %q is not user::domain:challenge:proof:blob", line)
	}
	sc, proof, blob := testutil.Hex(f[3]), testutil.Hex(f[4]), testutil.Hex(f[5])
	if len(sc) != 8 || len(proof) != 16 {
		t.Fatalf("hash %q: challenge or NTProofStr of the wrong size", line)
	}
	a := ntlmssp.Authenticate{User: f[0], Domain: f[2], NTResponse: append(proof, blob...)}
	var chal [8]byte
	copy(chal[:], sc)
	if !ntlmssp.VerifyV2(a, chal, password) {
		t.Errorf("hash %q does not verify with %q", line, password)
	}
	if ntlmssp.VerifyV2(a, chal, password+"x") {
		t.Errorf("hash %q verifies with a wrong password", line)
	}
}
