package pop3

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds remakes the fuzz corpora from real clients' traffic:
// curl (AUTH PLAIN, LOGIN with an initial response, APOP, STLS), poplib
// (USER/PASS, APOP, STAT, UIDL, RETR, TOP, DELE, RSET), fetchmail, hydra
// and nmap's version probes, each sent through a recording proxy. Each
// connection's stream is a FuzzSession seed, each of its plaintext lines
// a FuzzCommand seed, and each SASL response a FuzzSASL seed. Run it with
// POP3_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("POP3_CAPTURE_SEEDS") == "" {
		t.Skip("POP3_CAPTURE_SEEDS is not set")
	}
	p := defaultPersona().(*Persona)
	p.Mechanisms = []string{"plain", "login", "apop"}
	s, _, _ := newTestServer(t, p)
	addr, _ := serve(t, s, addrClients)
	proxy := testutil.StartProxy(t, addrClients, addr)
	host, port, _ := net.SplitHostPort(proxy.Addr)
	sh := func(c string) { out, _ := exec.Command("sh", "-c", c).CombinedOutput(); t.Log(string(out)) }
	url := "pop3://" + proxy.Addr
	sh("curl -s -u admin:admin123 " + url + "/")
	sh("curl -s -u admin:admin123 " + url + "/1")
	sh("curl -s --sasl-ir --login-options AUTH=LOGIN -u mail:mail " + url + "/2")
	sh("curl -s --login-options AUTH=+APOP -u admin:admin123 " + url + "/3")
	sh("curl -s -k --ssl-reqd -u user:user " + url + "/")
	for _, mode := range []string{"user", "apop"} {
		sh(fmt.Sprintf("/usr/bin/python3 -c '%s' %s %s admin admin123 %s", poplibScript, host, port, mode))
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "rc")
	if err := os.WriteFile(rc, fmt.Appendf(nil, "poll %s port %s proto pop3 user \"mail\" password \"mail\" no sslcertck sslproto ''\n", host, port), 0o600); err != nil {
		t.Fatal(err)
	}
	sh("HOME=" + dir + " fetchmail -f " + rc + " --check --nosyslog")
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("123456\nadmin123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh(fmt.Sprintf("hydra -l admin -P %s -t 2 -s %s -I pop3://%s", pw, port, host))
	sh(fmt.Sprintf("hydra -l admin -P %s -t 1 -s %s -I pop3://%s/PLAIN", pw, port, host))
	sh(fmt.Sprintf("nmap -sV -Pn -n -p %s %s", port, host))
	for i, flow := range proxy.Flows() {
		testutil.WriteSeed(t, "FuzzSession", fmt.Sprintf("flow-%02d", i), flow)
		for j, line := range bytes.SplitAfter(flow, []byte("\n")) {
			if len(line) == 0 || line[0] == 0x16 || line[0] < ' ' && line[0] != '\r' {
				break // a TLS handshake or binary probe from here on
			}
			testutil.WriteSeed(t, "FuzzCommand", fmt.Sprintf("flow-%02d-%02d", i, j), line)
			tok := trimEOL(line)
			if _, rest, ok := splitLogin(line); ok && bytes.HasPrefix(bytes.ToUpper(line), []byte("AUTH ")) {
				_, ir, _ := splitAuth(rest)
				tok = []byte(ir)
			}
			if _, err := decodeSASL(string(tok)); err == nil && len(tok) > 0 {
				testutil.WriteSeed(t, "FuzzSASL", fmt.Sprintf("flow-%02d-%02d", i, j), tok)
			}
		}
	}
}
