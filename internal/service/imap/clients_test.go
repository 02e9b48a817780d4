package imap

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/mailbox"
	"decnet/internal/testutil"
)

// rootMailUID is the UID of the bait message about the root password.
func rootMailUID(t testing.TB) uint32 {
	t.Helper()
	for _, m := range mailbox.Inbox(testHost, "admin", testNow).Messages {
		if strings.Contains(strings.ToLower(string(m.Header())), "subject: root password") {
			return m.UID
		}
	}
	t.Fatal("no root password mail in the bait")
	return 0
}

// run runs a client program and returns its output.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// wantAuth waits for a successful auth event of user with method.
func wantAuth(t testing.TB, ev *testutil.Events, user, pass, method string) {
	t.Helper()
	testutil.Eventually(t, "auth event "+method, func() bool {
		for _, e := range ev.With(event.TypeAuth, event.FieldMethod, method) {
			f := e.Fields
			if f[event.FieldUsername] == user && f[event.FieldPassword] == pass && f[event.FieldSuccess] == "true" && f[event.FieldSrcIP] != "" {
				return true
			}
		}
		return false
	})
}

// TestCurl drives curl 7.88 through AUTHENTICATE PLAIN and LOGIN (curl
// picks SASL when AUTH= is offered and has no way to force the LOGIN
// command: imaplib and fetchmail use that), STARTTLS, imaps, a fetch by
// UID and a custom UID SEARCH.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	s, ev := newTestServer(t, nil)
	plain, tlsAddr := serve(t, s, addrClients)
	uid := rootMailUID(t)

	t.Run("list with AUTHENTICATE PLAIN", func(t *testing.T) {
		out := run(t, curl, "-sS", "-u", "admin:admin123", "imap://"+plain+"/")
		if !strings.Contains(out, `* LIST (\HasNoChildren) "." INBOX`) || !strings.Contains(out, `\Sent) "." Sent`) {
			t.Errorf("curl list: %q", out)
		}
		wantAuth(t, ev, "admin", "admin123", "AUTHENTICATE PLAIN")
	})
	t.Run("AUTHENTICATE LOGIN", func(t *testing.T) {
		run(t, curl, "-sS", "-u", "mail:mail", "--login-options", "AUTH=LOGIN", "imap://"+plain+"/")
		wantAuth(t, ev, "mail", "mail", "AUTHENTICATE LOGIN")
	})
	t.Run("STARTTLS fetch by UID", func(t *testing.T) {
		out := run(t, curl, "-sS", "-k", "--ssl-reqd", "-u", "user:user", fmt.Sprintf("imap://%s/INBOX;UID=%d", plain, uid))
		if !strings.Contains(strings.ToLower(out), "subject: root password") {
			t.Errorf("curl fetch: %q", out)
		}
		testutil.Eventually(t, "fetch event over TLS", func() bool {
			for _, e := range ev.With("fetch", "read", "true") {
				if e.Fields["tls"] == "true" && e.Fields["user"] == "user" && strings.Contains(strings.ToLower(e.Fields["subjects"]), "root password") {
					return true
				}
			}
			return false
		})
	})
	t.Run("imaps search", func(t *testing.T) {
		out := run(t, curl, "-sS", "-k", "-u", "admin:admin123", "imaps://"+tlsAddr+"/INBOX", "-X", "UID SEARCH ALL")
		if !strings.Contains(out, "* SEARCH ") || !strings.Contains(out, fmt.Sprint(uid)) {
			t.Errorf("curl search: %q", out)
		}
		testutil.Eventually(t, "search event", func() bool { return len(ev.With("search", "matches", "10")) > 0 })
	})
	t.Run("wrong password", func(t *testing.T) {
		out, err := exec.Command(curl, "-sS", "-u", "admin:guess", "imap://"+plain+"/").CombinedOutput()
		if err == nil {
			t.Errorf("curl logged in with a wrong password: %s", out)
		}
		testutil.Eventually(t, "failed auth", func() bool {
			return len(ev.With(event.TypeAuth, event.FieldPassword, "guess")) == 1
		})
	})
}

func TestPythonImaplib(t *testing.T) {
	py := testutil.RequireTool(t, "/usr/bin/python3")
	s, ev := newTestServer(t, nil)
	plain, tlsAddr := serve(t, s, addrClients)
	host, port, _ := net.SplitHostPort(plain)
	_, tport, _ := net.SplitHostPort(tlsAddr)
	script := `
import imaplib, ssl, sys
host, port, tport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()
for mode in ("plain", "starttls", "ssl"):
    if mode == "ssl":
        M = imaplib.IMAP4_SSL(host, tport, ssl_context=ctx)
    else:
        M = imaplib.IMAP4(host, port)
        if mode == "starttls":
            M.starttls(ssl_context=ctx)
    M.login("admin", "admin123")
    typ, n = M.select("INBOX")
    typ, data = M.search(None, "SUBJECT", '"root password"')
    num = data[0].split()[0]
    typ, msg = M.fetch(num, "(RFC822)")
    print(mode, n[0].decode(), msg[0][1].decode().split("\r\n\r\n", 1)[1].splitlines()[0])
    typ, data = M.uid("SEARCH", None, "UNSEEN")
    print(mode, "unseen", data[0].decode())
    M.logout()
try:
    M = imaplib.IMAP4(host, port)
    M.login("root", "wrong")
except imaplib.IMAP4.error as e:
    print("refused", e)
`
	out := run(t, py, "-c", script, host, port, tport)
	for _, want := range []string{"plain 10 ", "starttls 10 ", "ssl 10 ", "refused b'[AUTHENTICATIONFAILED] Authentication failed.'"} {
		if !strings.Contains(out, want) {
			t.Errorf("imaplib output lacks %q:\n%s", want, out)
		}
	}
	testutil.Eventually(t, "three logins and a failure", func() bool {
		return len(ev.With(event.TypeAuth, event.FieldSuccess, "true")) == 3 && len(ev.With(event.TypeAuth, event.FieldPassword, "wrong")) == 1
	})
	if n := len(ev.With("fetch", "read", "true")); n != 3 {
		t.Errorf("%d fetch events with read=true, want 3", n)
	}
}

func TestFetchmail(t *testing.T) {
	fetchmail := testutil.RequireTool(t, "fetchmail")
	s, ev := newTestServer(t, nil)
	plain, _ := serve(t, s, addrClients)
	host, port, _ := net.SplitHostPort(plain)
	dir := t.TempDir()
	rc := filepath.Join(dir, "fetchmailrc")
	conf := fmt.Sprintf("set no bouncemail\npoll %s port %s proto imap user \"admin\" password \"admin123\" sslproto '' keep mda \"cat >>%s\"\n", host, port, filepath.Join(dir, "mbox"))
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	check := exec.Command(fetchmail, "-f", rc, "--check", "--nosyslog")
	check.Env = env
	out, _ := check.CombinedOutput()
	if !strings.Contains(string(out), "10 messages") {
		t.Errorf("fetchmail --check: %s", out)
	}
	all := exec.Command(fetchmail, "-f", rc, "-a", "--nosyslog")
	all.Env = env
	if out, err := all.CombinedOutput(); err != nil {
		t.Errorf("fetchmail -a: %v\n%s", err, out)
	}
	mbox, _ := os.ReadFile(filepath.Join(dir, "mbox"))
	if !strings.Contains(strings.ToLower(string(mbox)), "subject: root password") {
		t.Errorf("fetchmail delivered %d bytes without the root password mail", len(mbox))
	}
	wantAuth(t, ev, "admin", "admin123", "LOGIN")
}
