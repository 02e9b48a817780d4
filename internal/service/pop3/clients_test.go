package pop3

import (
	"context"
	"fmt"
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

// run runs a client with a deadline and returns its combined output.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// subjectOfMessage is the subject of message n (1-based) in user's bait.
func subjectOfMessage(user string, n int) string {
	return subjectOf(mailbox.Inbox(testHost, user, time.Now()).Messages[n-1].Raw)
}

// TestCurl drives curl 7.88 through its POP3 logins (it picks SASL when
// offered: AUTH PLAIN, or LOGIN when told), STLS, POP3S and APOP, listing
// and reading mail, and checks the credential and read events.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	apop := defaultPersona().(*Persona)
	apop.Mechanisms = []string{"plain", "login", "apop"}
	tests := []struct {
		name     string
		persona  *Persona
		tls      bool // pop3s:// on 995
		args     []string
		user     string // the login
		pass     string
		path     string // "" lists, "/N" reads message N
		method   string
		success  bool
		wantTLS  bool
		wantBody string
	}{
		{"plain list", nil, false, nil, "admin", "admin123", "", "plain", true, false, "1 "},
		{"plain retr", nil, false, nil, "admin", "admin123", "/2", "plain", true, false, ""},
		{"login sasl-ir", nil, false, []string{"--sasl-ir", "--login-options", "AUTH=LOGIN"}, "mail", "mail", "/3", "login", true, false, ""},
		{"wrong password", nil, false, nil, "root", "hunter2", "", "plain", false, false, ""},
		{"stls", nil, false, []string{"--ssl-reqd", "-k"}, "user", "user", "/4", "plain", true, true, ""},
		{"pop3s", nil, true, []string{"-k"}, "root", "toor", "/5", "plain", true, true, ""},
		{"apop", apop, false, []string{"--login-options", "AUTH=+APOP"}, "admin", "admin123", "/6", "apop", true, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ev, _ := newTestServer(t, tc.persona)
			addr, addrs := serve(t, s, addrClients)
			url := "pop3://" + addr + tc.path
			if tc.tls {
				url = "pop3s://" + addrs + tc.path
			}
			out, err := run(t, curl, append(append([]string{"-s", "-u", tc.user + ":" + tc.pass}, tc.args...), url)...)
			if tc.success != (err == nil) {
				t.Fatalf("curl: %v\n%s", err, out)
			}
			f := waitEvent(t, ev, event.TypeAuth, event.FieldUsername, tc.user)
			if f[event.FieldMethod] != tc.method || f[event.FieldSuccess] != fmt.Sprint(tc.success) {
				t.Errorf("auth event %v, want method %s success %v", f, tc.method, tc.success)
			}
			if tc.method == "apop" {
				hash := f[event.FieldHash]
				if f[event.FieldHashFormat] != HashFormatAPOP || !cracksAPOP(hash, tc.pass) || cracksAPOP(hash, "wrong") {
					t.Errorf("apop hash %q (%s) does not crack to %q", hash, f[event.FieldHashFormat], tc.pass)
				}
			} else if f[event.FieldPassword] != tc.pass {
				t.Errorf("password %q, want %q", f[event.FieldPassword], tc.pass)
			}
			if (f["tls"] == "true") != tc.wantTLS {
				t.Errorf("auth event tls=%q, want %v", f["tls"], tc.wantTLS)
			}
			if tc.wantBody != "" && !strings.Contains(out, tc.wantBody) {
				t.Errorf("listing %q lacks %q", out, tc.wantBody)
			}
			if tc.path != "" {
				n := int(tc.path[1] - '0')
				subject := subjectOfMessage(tc.user, n)
				r := waitEvent(t, ev, typeRetr, "message", tc.path[1:])
				if r["subject"] != subject || r[event.FieldUsername] != tc.user || r[event.FieldCommand] != "RETR" {
					t.Errorf("retr event %v, want subject %q", r, subject)
				}
				if !strings.Contains(out, "Subject: "+subject) {
					t.Errorf("curl got no message with subject %q:\n%s", subject, out)
				}
			}
		})
	}
}

// cracksAPOP checks a hashcat mode 20 line, md5($salt.$pass) written
// "<hash>:<salt>", as hashcat would.
func cracksAPOP(line, pass string) bool {
	hash, salt, ok := strings.Cut(line, ":")
	return ok && apopDigest(salt, pass) == hash
}

// poplibScript logs in with USER/PASS (or APOP), then reads the maildrop
// as a mail client does.
const poplibScript = `
import poplib, sys
addr, port, user, pw, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
p = poplib.POP3(addr, port, timeout=30)
print(p.getwelcome().decode())
if mode == "stls":
    import ssl
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    p.stls(context=ctx)
try:
    p.user(user); p.pass_("not-" + pw)
except poplib.error_proto as e:
    print("failed:", e)
if mode == "apop":
    p.apop(user, pw)
else:
    p.user(user); p.pass_(pw)
print("stat", p.stat())
resp, uidls, _ = p.uidl(); print("uidl", [u.decode() for u in uidls])
resp, lines, _ = p.retr(1); print("retr", b"\n".join(lines).decode())
resp, lines, _ = p.top(7, 2); print("top", b"\n".join(lines).decode())
print(p.dele(1)); print(p.rset()); print(p.quit())
`

// TestPoplib drives Python's poplib through a failed and a good login
// (USER/PASS, STLS then USER/PASS, APOP), STAT, UIDL, RETR, TOP, DELE,
// RSET and QUIT.
func TestPoplib(t *testing.T) {
	py := testutil.RequireTool(t, "/usr/bin/python3")
	apop := defaultPersona().(*Persona)
	apop.Mechanisms = []string{"plain", "apop"}
	for _, mode := range []string{"user", "stls", "apop"} {
		t.Run(mode, func(t *testing.T) {
			p := (*Persona)(nil)
			if mode == "apop" {
				p = apop
			}
			s, ev, w := newTestServer(t, p)
			addr, _ := serve(t, s, addrClients)
			host, port, _ := strings.Cut(addr, ":")
			out, err := run(t, py, "-c", poplibScript, host, port, "admin", "admin123", mode)
			if err != nil {
				t.Fatalf("poplib: %v\n%s", err, out)
			}
			for _, want := range []string{"failed: b'-ERR [AUTH] Authentication failed.'", "stat (10, ", "uidl ['1 ", "Subject: " + subjectOfMessage("admin", 1), "b'+OK Logging out.'"} {
				if !strings.Contains(out, want) {
					t.Errorf("poplib output lacks %q:\n%s", want, out)
				}
			}
			bad := waitEvent(t, ev, event.TypeAuth, event.FieldPassword, "not-admin123")
			if bad[event.FieldSuccess] != "false" || bad[event.FieldMethod] != "user" {
				t.Errorf("failed login event %v", bad)
			}
			good := waitEvent(t, ev, event.TypeAuth, event.FieldSuccess, "true")
			wantMethod := map[string]string{"user": "user", "stls": "user", "apop": "apop"}[mode]
			if good[event.FieldMethod] != wantMethod || good[event.FieldUsername] != "admin" {
				t.Errorf("login event %v, want method %s", good, wantMethod)
			}
			if mode == "stls" && (good["tls"] != "true" || len(ev.OfType(typeTLS)) != 1) {
				t.Errorf("login after STLS: event %v, tls events %d", good, len(ev.OfType(typeTLS)))
			}
			top := waitEvent(t, ev, typeRetr, event.FieldCommand, "TOP")
			if top["message"] != "7" || top["lines"] != "2" || top["subject"] != subjectOfMessage("admin", 7) {
				t.Errorf("top event %v", top)
			}
			waitEvent(t, ev, event.TypeCommand, event.FieldCommand, "PASS ****")
			for _, e := range ev.OfType(event.TypeCommand) {
				if strings.Contains(e.Fields[event.FieldCommand], "admin123") {
					t.Errorf("a command event shows the password: %v", e.Fields)
				}
			}
			// The failed login waited out Dovecot's failure delay.
			if ds := w.all(); len(ds) == 0 || ds[0] < 900*time.Millisecond || ds[0] > 2500*time.Millisecond {
				t.Errorf("waits %v, want a failure delay of 1 to 2.5 s first", ds)
			}
		})
	}
}

// TestHydra runs one hydra password-list attack (USER/PASS, four tasks)
// and wants every attempt recorded as an auth event with its password,
// and the right one found.
func TestHydra(t *testing.T) {
	hydra := testutil.RequireTool(t, "hydra")
	s, ev, _ := newTestServer(t, nil)
	addr, _ := serve(t, s, addrHydra)
	host, port, _ := strings.Cut(addr, ":")
	passwords := []string{"123456", "password", "admin", "letmein", "admin123", "qwerty", "Winter2024!", "changeme"}
	list := filepath.Join(t.TempDir(), "pw.txt")
	if err := os.WriteFile(list, []byte(strings.Join(passwords, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, hydra, "-l", "admin", "-P", list, "-t", "4", "-s", port, "-I", "pop3://"+host)
	if err != nil {
		t.Fatalf("hydra: %v\n%s", err, out)
	}
	if !strings.Contains(out, "login: admin   password: admin123") {
		t.Errorf("hydra found no password:\n%s", out)
	}
	for _, pw := range passwords {
		f := waitEvent(t, ev, event.TypeAuth, event.FieldPassword, pw)
		if f[event.FieldUsername] != "admin" || f[event.FieldSuccess] != fmt.Sprint(pw == "admin123") {
			t.Errorf("attempt %q recorded as %v", pw, f)
		}
	}
}

// TestFetchmail polls the maildrop with fetchmail 6.4 (USER/PASS after
// STLS, which it takes when offered) in check mode.
func TestFetchmail(t *testing.T) {
	fetchmail := testutil.RequireTool(t, "fetchmail")
	s, ev, _ := newTestServer(t, nil)
	addr, _ := serve(t, s, addrClients)
	host, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	rc := filepath.Join(dir, "fetchmailrc")
	conf := fmt.Sprintf("poll %s port %s proto pop3 user \"mail\" password \"mail\" no sslcertck\n", host, port)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fetchmail, "-f", rc, "--check", "-v", "--nosyslog")
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	out, err := cmd.CombinedOutput()
	// --check exits 0 when mail waits.
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "10 messages") {
		t.Errorf("fetchmail saw no maildrop:\n%s", out)
	}
	f := waitEvent(t, ev, event.TypeAuth, event.FieldUsername, "mail")
	if f[event.FieldPassword] != "mail" || f[event.FieldSuccess] != "true" || f["tls"] != "true" {
		t.Errorf("auth event %v, want a good login after STLS", f)
	}
}
