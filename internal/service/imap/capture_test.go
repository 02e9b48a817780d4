package imap

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds remakes the fuzz corpora from real clients' traffic:
// curl (AUTHENTICATE PLAIN and LOGIN, STARTTLS, a fetch by UID, a custom
// UID SEARCH), Python's imaplib (LOGIN, SELECT, SEARCH, FETCH, UID
// SEARCH) and nmap's version scan, each sent through a recording proxy.
// Each connection's stream becomes a seed of both targets. Run it with
// IMAP_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("IMAP_CAPTURE_SEEDS") == "" {
		t.Skip("IMAP_CAPTURE_SEEDS is not set")
	}
	s, _ := newTestServer(t, nil)
	plain, _ := serve(t, s, addrFuzz)
	proxy := testutil.StartProxy(t, addrFuzz, plain)
	p := proxy.Addr
	uid := rootMailUID(t)
	sh := func(name string, args ...string) {
		out, _ := exec.Command(name, args...).CombinedOutput()
		t.Log(string(out))
	}
	sh("curl", "-sS", "-u", "admin:admin123", "imap://"+p+"/")
	sh("curl", "-sS", "-u", "mail:mail", "--login-options", "AUTH=LOGIN", "imap://"+p+"/")
	sh("curl", "-sS", "-u", "admin:admin123", fmt.Sprintf("imap://%s/INBOX;UID=%d", p, uid))
	sh("curl", "-sS", "-u", "admin:admin123", "imap://"+p+"/INBOX", "-X", "UID SEARCH ALL")
	sh("curl", "-sS", "-u", "admin:admin123", "imap://"+p+"/INBOX?SUBJECT%20password")
	sh("curl", "-sS", "-k", "--ssl-reqd", "-u", "admin:admin123", "imap://"+p+"/")
	host, port, _ := net.SplitHostPort(p)
	sh("/usr/bin/python3", "-c", `
import imaplib, sys
M = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
M.login("admin", "admin123")
M.list()
M.select("INBOX")
M.search(None, "OR", "UNSEEN", "FROM", '"aws"')
M.fetch("1:3", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] RFC822.SIZE)")
M.fetch("5", "(RFC822)")
M.uid("SEARCH", None, "ALL")
M.store("1", "+FLAGS", "(\\Deleted)")
M.expunge()
M.close()
M.logout()
`, host, port)
	sh("nmap", "-sV", "-Pn", "-n", "-p", port, host)
	for i, flow := range proxy.Flows() {
		if len(flow) == 0 {
			continue
		}
		name := fmt.Sprintf("client-%03d", i+1)
		testutil.WriteSeed(t, "FuzzParser", name, flow)
		testutil.WriteSeed(t, "FuzzSession", name, flow)
	}
}
