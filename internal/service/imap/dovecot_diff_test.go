package imap

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/mailbox"
	"decnet/internal/testutil"
)

// The real Dovecot's ports in the differential test.
const (
	realIMAP  = "10143"
	realIMAPS = "10993"
)

// startDovecot runs the real Dovecot 2.3.19 on addrReal with the
// persona's settings (disable_plaintext_auth = no, auth_mechanisms =
// plain login, Debian's 10-ssl.conf and 15-mailboxes.conf) and admin's
// maildir holding the decky's bait, with its UIDs, flags and dates.
func startDovecot(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t, "to run dovecot")
	dovecot := testutil.RequireTool(t, "/usr/sbin/dovecot")
	doveadm := testutil.RequireTool(t, "doveadm")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "dovecot.conf")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = imapdiff
listen = %[2]s
protocols = imap
ssl = yes
ssl_cert = </etc/dovecot/private/dovecot.pem
ssl_key = </etc/dovecot/private/dovecot.key
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = %[1]s/log
first_valid_uid = 100
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox "Sent Messages" {
    special_use = \Sent
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
  inet_listener imap {
    port = %[3]s
  }
  inet_listener imaps {
    port = %[4]s
  }
}
`, dir, addrReal, realIMAP, realIMAPS))
	write(filepath.Join(dir, "passwd"), "admin:{PLAIN}admin123\n")
	maildir := filepath.Join(dir, "home", "admin", "Maildir")
	box := mailbox.Inbox(testHost, "admin", testNow)
	uidlist := fmt.Sprintf("3 V%d N%d\n", box.UIDValidity, box.UIDNext)
	for i, m := range box.Messages {
		base := fmt.Sprintf("%d.M%dP1.mail01", m.Date.Unix(), i+1)
		path := filepath.Join(maildir, "cur", base+":2,"+maildirFlags(m.Flags))
		write(path, string(m.Raw))
		if err := os.Chtimes(path, m.Date, m.Date); err != nil {
			t.Fatal(err)
		}
		uidlist += fmt.Sprintf("%d :%s\n", m.UID, base)
	}
	write(filepath.Join(maildir, "dovecot-uidlist"), uidlist)
	for _, f := range []string{"new", "tmp", ".Drafts/cur", ".Drafts/new", ".Drafts/tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp",
		".Trash/cur", ".Trash/new", ".Trash/tmp", ".Junk/cur", ".Junk/new", ".Junk/tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(maildir, "subscriptions"), "Drafts\nSent\nTrash\nJunk\n")
	if out, err := exec.Command("chown", "-R", "dovecot:dovecot", filepath.Join(dir, "home")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	// The daemon keeps its stdout: hand it none, or waiting for the
	// output would wait for the daemon.
	if err := exec.Command(dovecot, "-c", conf).Run(); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(doveadm, "-c", conf, "stop").CombinedOutput(); err != nil {
			t.Errorf("doveadm stop: %v %s", err, out)
		}
	})
	addr := net.JoinHostPort(addrReal, realIMAP)
	testutil.Eventually(t, "dovecot listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

// sortLines sorts a response's lines.
func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\r\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// maildirFlags are a message's flags as maildir's info letters.
func maildirFlags(flags []string) string {
	letters := map[string]string{`\Draft`: "D", `\Flagged`: "F", `\Answered`: "R", `\Seen`: "S", `\Deleted`: "T"}
	var out string
	for _, l := range []string{`\Draft`, `\Flagged`, `\Answered`, `\Seen`, `\Deleted`} {
		for _, f := range flags {
			if f == l {
				out += letters[l]
			}
		}
	}
	return out
}

// diffScript is what the differential test sends, before and after
// login (the LIST of every folder is left out: Dovecot lists them in
// directory order).
var diffScript = []string{
	"CAPABILITY", "NOOP", "ID NIL", "ENABLE CONDSTORE", "FOO", "LOGIN admin admin123",
	"CAPABILITY", "NAMESPACE", `LSUB "" *`, `LIST "" ""`, `LIST "" INBOX`, "ID (\"name\" \"x\")", "ENABLE CONDSTORE", "FOO",
	"STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)", "STATUS nope (MESSAGES)", "SELECT nope", "FETCH 1 FLAGS",
	"SELECT INBOX",
	"FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE BODY)",
	"FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (from subject)] BODY.PEEK[TEXT]<0.20> BODY.PEEK[1.MIME] BODY.PEEK[1] BODY.PEEK[5] RFC822.HEADER)",
	"FETCH 4 (BODY.PEEK[HEADER.FIELDS.NOT (Received Date)] BODY.PEEK[HEADER] RFC822.SIZE)",
	"UID FETCH 1:* (FLAGS)", "FETCH 99 FLAGS", "FETCH 1 FOO", "FETCH x FLAGS", "FETCH", "FETCH 2 ALL", "FETCH 3 FAST",
	"SEARCH ALL", "SEARCH UNSEEN", "SEARCH SEEN", "SEARCH FROM aws", "SEARCH SUBJECT password", "SEARCH BODY AKIA",
	"SEARCH TEXT root", "SEARCH OR SEEN FLAGGED", "SEARCH NOT SEEN", "SEARCH FROM", "SEARCH FOO", "UID SEARCH 1:*",
	"SEARCH 2:4", "SEARCH LARGER 850", "SEARCH CHARSET UTF-8 SUBJECT key",
	"FETCH 8 BODY[TEXT]<0.10>", "FETCH 8 FLAGS", "STORE 1 +FLAGS (\\Flagged)", "STORE 1 -FLAGS.SILENT (\\Flagged)",
	"STORE 2 +FLAGS (\\Deleted)", "EXPUNGE", "SEARCH ALL", "STATUS Sent (MESSAGES UNSEEN)", "SELECT INBOX",
	"UID FETCH 1:* (FLAGS UID)", "FETCH 1 (MODSEQ FLAGS)", "STORE 3 +FLAGS (foo)", "FETCH 3 FLAGS", "COPY 1 Nope",
	"APPEND Nope {3+}\r\nabc", `LIST "" %`, `LIST "" I*`, "STATUS INBOX (SIZE MESSAGES)",
	"SEARCH HEADER Message-ID corp", "SEARCH SMALLER 800", "SEARCH SINCE 1-Oct-2026", "SEARCH BEFORE 20-Oct-2026",
	"SEARCH SENTSINCE 15-Oct-2026", "SEARCH (SEEN FLAGGED)", "SEARCH NOT (SEEN)", "SEARCH *", "SEARCH KEYWORD foo",
	"FETCH 1 BODY[HEADER]<10.20>", "FETCH 2:1 UID", "FETCH 1,3,5:6 UID", "FETCH * UID", "UID FETCH * UID",
	"UID FETCH 9999:* UID", "CHECK", "NOOP",
	"EXAMINE INBOX", "STORE 1 +FLAGS (\\Seen)", "CLOSE", "UNSELECT", "CREATE Sent", "LOGOUT",
}

// TestDovecotDifferential sends the same commands to the real Dovecot and
// to the persona over the same bait and wants the same bytes, Dovecot's
// timings aside.
func TestDovecotDifferential(t *testing.T) {
	real := startDovecot(t)
	// A first session takes the \Recent flags of the new maildir.
	warm := dial(t, real)
	warm.login()
	warm.cmd("w1", "SELECT INBOX")
	warm.cmd("w2", "LOGOUT")

	s, _ := newTestServer(t, nil)
	fake, _ := serve(t, s, addrServer)
	transcript := func(addr string) []string {
		c := dial(t, addr)
		out := []string{c.line()}
		for i, cmd := range diffScript {
			tag := fmt.Sprintf("d%d", i)
			out = append(out, timings.ReplaceAllString(c.cmd(tag, cmd), "(T secs)"))
		}
		return out
	}
	want, got := transcript(real), transcript(fake)
	// Folders come in each filesystem's directory order.
	for i, cmd := range diffScript {
		if strings.HasPrefix(cmd, "LIST") {
			want[i+1], got[i+1] = sortLines(want[i+1]), sortLines(got[i+1])
		}
	}
	for i := range want {
		if got[i] != want[i] {
			cmd := "greeting"
			if i > 0 {
				cmd = diffScript[i-1]
			}
			t.Errorf("%s:\n real %q\n fake %q", cmd, want[i], got[i])
		}
	}
}

// preLoginScript is sent line by line, each answered by a continuation
// or a tagged line: SASL aborts, bad base64, an unknown mechanism,
// SASL LOGIN, synchronizing literals, STARTTLS.
var preLoginScript = []string{
	"p1 AUTHENTICATE PLAIN", "*", "p2 AUTHENTICATE PLAIN", "!!!", "p3 AUTHENTICATE CRAM-MD5",
	"p4 LOGIN {5}", "admin {8}", "admin123", "p5 LOGOUT",
	"q1 AUTHENTICATE LOGIN", "YWRtaW4=", "YWRtaW4xMjM=", "q2 CAPABILITY", "q3 LOGOUT",
	"r1 STARTTLS",
}

// TestDovecotDifferentialLogin compares the login phase, in plain text and
// after STARTTLS.
func TestDovecotDifferentialLogin(t *testing.T) {
	real := startDovecot(t)
	s, _ := newTestServer(t, nil)
	fake, _ := serve(t, s, addrServer)
	transcript := func(addr string) []string {
		c := dial(t, addr)
		out := []string{c.line()}
		for _, line := range preLoginScript {
			if strings.HasSuffix(line, " LOGOUT") {
				c.send(line + "\r\n")
				out = append(out, c.until(line[:3]))
				c = dial(t, addr)
				out = append(out, c.line())
				continue
			}
			c.send(line + "\r\n")
			var b strings.Builder
			for {
				l := c.line()
				b.WriteString(l)
				if strings.HasPrefix(l, "+ ") || len(l) > 2 && (l[0] == 'p' || l[0] == 'q' || l[0] == 'r') && l[2] == ' ' {
					break
				}
			}
			out = append(out, b.String())
		}
		tc := dialTLSOver(t, c)
		for i, cmd := range []string{"CAPABILITY", "STARTTLS", "LOGIN admin admin123", "CAPABILITY", "LOGOUT"} {
			out = append(out, timings.ReplaceAllString(tc.cmd(fmt.Sprintf("t%d", i), cmd), "(T secs)"))
		}
		return out
	}
	want, got := transcript(real), transcript(fake)
	if len(got) != len(want) {
		t.Fatalf("%d answers from the persona, %d from Dovecot:\n%q\n%q", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("answer %d:\n real %q\n fake %q", i, want[i], got[i])
		}
	}
}
