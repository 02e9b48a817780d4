package pop3

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"decnet/internal/mailbox"
	"decnet/internal/testutil"
)

// dovecotConf runs Debian's Dovecot for POP3 alone from dir, on addr's
// 110 and 995, with the snakeoil certificate, a passwd-file of the test
// accounts and their maildirs.
const dovecotConf = `protocols = pop3
listen = %[2]s
base_dir = %[1]s/run
instance_name = pop3diff
log_path = %[1]s/log
disable_plaintext_auth = %[3]s
auth_mechanisms = %[4]s
ssl = yes
ssl_cert = </etc/dovecot/private/dovecot.pem
ssl_key = </etc/dovecot/private/dovecot.key
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = 100
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%[1]s/mail/%%u
}
service anvil {
  chroot =
}
`

// startDovecot runs Dovecot with the persona's settings and the accounts'
// bait mailboxes, as mailbox.Inbox makes them for testHost at now, until
// the test ends.
func startDovecot(t *testing.T, p *Persona, now time.Time) {
	t.Helper()
	testutil.RequireRoot(t, "to run dovecot")
	dovecot := testutil.RequireTool(t, "/usr/sbin/dovecot")
	// Dovecot's auth worker runs unprivileged: its files must be readable
	// to it, which t.TempDir's are not.
	dir, err := os.MkdirTemp("", "pop3diff")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := "no"
	if p.DisablePlaintextAuth {
		plain = "yes"
	}
	conf := fmt.Sprintf(dovecotConf, dir, addrDovecot, plain, strings.Join(p.Mechanisms, " "))
	var passwd strings.Builder
	for _, name := range p.users.Names() {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", name, p.users[name])
		md := filepath.Join(dir, "mail", name)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range mailbox.Inbox(testHost, name, now).Messages {
			// Dovecot numbers new mail in file name order.
			f := filepath.Join(md, "new", fmt.Sprintf("%d.M%02dP1.mail01", m.Date.Unix(), i))
			if err := os.WriteFile(f, m.Raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, data := range map[string]string{"dovecot.conf": conf, "passwd": passwd.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", filepath.Join(dir, "mail")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	cmd := exec.Command(dovecot, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The master stops its login, pop3 and auth processes.
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	testutil.Eventually(t, "dovecot listening", func() bool {
		c, err := net.Dial("tcp", net.JoinHostPort(addrDovecot, "110"))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// step is one line of a differential script and the reply it expects:
// 's' one line, 'm' a multi-line reply when it starts +OK, 'e' all up to
// the server's close, 't' one line and then a TLS handshake.
// A "{digest:PASSWORD}" in the line is replaced by the APOP digest of the
// greeting's timestamp and PASSWORD.
type step struct {
	send string
	kind byte
}

// script runs steps on a connection to addr (implicit TLS when tlsOn) and
// returns the transcript, normalised for what legitimately differs: the
// APOP timestamp and the UIDLs.
func script(t *testing.T, addr string, tlsOn bool, steps []step) string {
	t.Helper()
	c := testutil.Dial(t, addr, 60*time.Second)
	conn := c
	if tlsOn {
		conn = tlsClient(t, c)
	}
	cl := &client{t: t, c: conn, r: newReader(conn)}
	var b strings.Builder
	greeting := cl.line()
	b.WriteString("S: " + greeting)
	for _, st := range steps {
		b.WriteString("C: " + st.send)
		if m := reDigest.FindStringSubmatch(st.send); m != nil {
			st.send = strings.Replace(st.send, m[0], apopDigest(reChallenge.FindString(greeting), m[1]), 1)
		}
		cl.send(st.send)
		switch st.kind {
		case 'e':
			rest, _ := io.ReadAll(cl.r)
			b.WriteString("S: " + string(rest) + "<close>\n")
			return normalise(b.String())
		case 'm':
			l := cl.line()
			if strings.HasPrefix(l, "+OK") {
				l += cl.multi()
			}
			b.WriteString("S: " + l)
		case 't':
			b.WriteString("S: " + cl.line())
			cl.c = tlsClient(t, cl.c)
			cl.r = newReader(cl.c)
		default:
			b.WriteString("S: " + cl.line())
		}
	}
	return normalise(b.String())
}

func tlsClient(t *testing.T, c net.Conn) net.Conn {
	t.Helper()
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("tls: %v", err)
	}
	return tc
}

var (
	reChallenge = regexp.MustCompile(`<[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+\.[A-Za-z0-9+/=]{24}@[^>]+>`)
	reDigest    = regexp.MustCompile(`\{digest:([^}]*)\}`)
	reUIDL      = regexp.MustCompile(`(?m)^((?:S: )?(?:\+OK )?\d+) [0-9a-f]{16}\r$`)
)

func normalise(s string) string {
	s = reChallenge.ReplaceAllString(s, "<timestamp>")
	return reUIDL.ReplaceAllString(s, "$1 <uidl>\r")
}

// Scripts of the differential test.
var (
	// Everything pop3-login and pop3 answer, wrong input included.
	diffSession = []step{
		{"CAPA\r\n", 'm'}, {"AUTH\r\n", 'm'}, {"AUTH FOO\r\n", 's'}, {"auth plain\r\n", 's'}, {"*\r\n", 's'},
		{"AUTH PLAIN !!!\r\n", 's'}, {"AUTH LOGIN\r\n", 's'}, {"*\r\n", 's'}, {"APOP admin\r\n", 's'},
		{"APOP admin " + strings.Repeat("z", 32) + "\r\n", 's'}, {"PASS x\r\n", 's'}, {"XCLIENT ADDR=1.2.3.4\r\n", 's'},
		{"capa\r\n", 'm'}, {"USER admin\r\n", 's'}, {"PASS wrong\r\n", 's'},
		{"USER admin\r\n", 's'}, {"PASS admin123\r\n", 's'},
		{"CAPA\r\n", 'm'}, {"STAT\r\n", 's'}, {"LIST\r\n", 'm'}, {"LIST 1\r\n", 's'}, {"LIST 0\r\n", 's'},
		{"LIST 11\r\n", 's'}, {"LIST x\r\n", 's'}, {"LIST 1 2\r\n", 's'}, {"LIST 99999999999x\r\n", 's'}, {"LIST 99999999999999999999999x\r\n", 's'},
		{"list  2\r\n", 's'}, {"UIDL\r\n", 'm'}, {"UIDL 3\r\n", 's'}, {"TOP 1 0\r\n", 'm'}, {"TOP 2 3\r\n", 'm'},
		{"TOP 1\r\n", 's'}, {"TOP 1 x\r\n", 's'}, {"TOP 3 99999999999999999999999\r\n", 's'}, {"TOP 3 5 1\r\n", 's'},
		{"RETR 1\r\n", 'm'}, {"RETR 2\r\n", 'm'}, {"RETR 3\r\n", 'm'}, {"RETR 4\r\n", 'm'}, {"RETR 5\r\n", 'm'},
		{"RETR 6\r\n", 'm'}, {"RETR 7\r\n", 'm'}, {"RETR 8\r\n", 'm'}, {"RETR 9\r\n", 'm'}, {"RETR 10\r\n", 'm'},
		{"RETR\r\n", 's'}, {"DELE 1\r\n", 's'}, {"DELE 1\r\n", 's'}, {"RETR 1\r\n", 's'}, {"TOP 1 1\r\n", 's'},
		{"LIST\r\n", 'm'}, {"UIDL\r\n", 'm'}, {"STAT\r\n", 's'}, {"RSET\r\n", 's'}, {"STAT\r\n", 's'},
		{"\r\n", 's'}, {"FOO bar\r\n", 's'}, {"NOOP x\r\n", 's'}, {"LAST\r\n", 's'}, {"USER admin\r\n", 's'},
		{"DELE 2\r\n", 's'}, {"QUIT\r\n", 'e'},
	}
	// A pipelined login and listing, as curl and fetchmail send them.
	diffPipelined = []step{{"USER user\r\nPASS user\r\nSTAT\r\nLIST\r\n", 's'}, {"", 's'}, {"", 's'}, {"", 'm'}, {"QUIT\r\n", 'e'}}
	// SASL logins with initial responses, and pop3-login's bad-command limit.
	diffSASL = []step{
		{"AUTH PLAIN AGFkbWluAHdyb25n\r\n", 's'}, {"AUTH LOGIN YWRtaW4=\r\n", 's'}, {"YWRtaW4xMjM=\r\n", 's'},
		{"DELE 1\r\nQUIT\r\n", 's'}, {"", 'e'},
	}
	diffAPOP     = []step{{"APOP admin {digest:wrong}\r\n", 's'}, {"APOP ADMIN {digest:admin123}\r\n", 's'}, {"STAT\r\n", 's'}, {"QUIT\r\n", 'e'}}
	diffBadLogin = []step{{"FOO\r\n", 's'}, {"BAR x\r\n", 's'}, {"CAPABILITY\r\n", 'e'}}
	diffBad      = append([]step{{"USER mail\r\nPASS mail\r\n", 's'}, {"", 's'}}, badTail()...)
	diffLong     = []step{{"NOOP " + strings.Repeat("A", 1100) + "\r\n", 'e'}}
	diffLongPost = []step{{"USER mail\r\nPASS mail\r\n", 's'}, {"", 's'}, {"NOOP " + strings.Repeat("A", 2100) + "\r\n", 'e'}}
	// Debian's stock settings: no plaintext login before STLS.
	diffStock = []step{
		{"CAPA\r\n", 'm'}, {"AUTH\r\n", 'm'}, {"USER admin\r\n", 's'}, {"PASS admin123\r\n", 's'},
		{"AUTH PLAIN AGFkbWluAGFkbWluMTIz\r\n", 's'}, {"AUTH LOGIN\r\n", 's'}, {"APOP admin x\r\n", 's'},
		{"STLS\r\n", 't'}, {"CAPA\r\n", 'm'}, {"STLS\r\n", 's'}, {"AUTH\r\n", 'm'},
		{"USER admin\r\n", 's'}, {"PASS admin123\r\n", 's'}, {"QUIT\r\n", 'e'},
	}
	diffImplicit = []step{{"CAPA\r\n", 'm'}, {"STLS\r\n", 's'}, {"QUIT\r\n", 'e'}}
)

// badTail is 21 failing commands after a login: the last one drops.
func badTail() []step {
	var out []step
	for range maxBad {
		out = append(out, step{"RETR 99\r\n", 's'})
	}
	return append(out, step{"FOO\r\n", 'e'})
}

// TestDovecotDifferential runs the same scripts against Debian's Dovecot
// 2.3.19 and the honeypot, both serving the same accounts and bait mail,
// and wants the same bytes back, up to the APOP timestamp and UIDLs.
func TestDovecotDifferential(t *testing.T) {
	now := time.Now()
	personas := map[string]*Persona{
		"open":  {Greeting: DefaultGreeting, Mechanisms: []string{"plain", "login", "apop"}},
		"stock": {Greeting: DefaultGreeting, Mechanisms: []string{"plain"}, DisablePlaintextAuth: true},
	}
	scripts := []struct {
		name    string
		persona string
		tls     bool
		steps   []step
	}{
		// Before the scripts whose QUIT really deletes mail on Dovecot.
		{"apop", "open", false, diffAPOP},
		{"session", "open", false, diffSession},
		{"pipelined", "open", false, diffPipelined},
		{"sasl", "open", false, diffSASL},
		{"bad-login", "open", false, diffBadLogin},
		{"bad", "open", false, diffBad},
		{"long", "open", false, diffLong},
		{"long-post", "open", false, diffLongPost},
		{"stock", "stock", false, diffStock},
		{"implicit-tls", "stock", true, diffImplicit},
	}
	for _, pname := range []string{"open", "stock"} {
		t.Run(pname, func(t *testing.T) {
			p := personas[pname]
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			startDovecot(t, p, now)
			s, _, _ := newTestServer(t, p)
			s.now = func() time.Time { return now }
			ours, oursTLS := serve(t, s, addrOurs)
			for _, sc := range scripts {
				if sc.persona != pname {
					continue
				}
				t.Run(sc.name, func(t *testing.T) {
					real, mine := net.JoinHostPort(addrDovecot, "110"), ours
					if sc.tls {
						real, mine = net.JoinHostPort(addrDovecot, "995"), oursTLS
					}
					want := script(t, real, sc.tls, sc.steps)
					got := script(t, mine, sc.tls, sc.steps)
					if got != want {
						t.Errorf("transcripts differ:\n%s", firstDiff(want, got))
					}
				})
			}
		})
	}
}

// firstDiff shows where two transcripts part, with some lines before.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-6)
	show := func(l []string) string { return strings.Join(l[from:min(len(l), i+4)], "\n") }
	return fmt.Sprintf("--- dovecot (line %d)\n%s\n--- honeypot\n%s", i+1, show(w), show(g))
}
