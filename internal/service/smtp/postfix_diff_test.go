package smtp

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// Addresses of the differential test: the real Postfix and the fake.
const (
	addrRealPostfix = "127.0.111.66"
	addrFakePostfix = "127.0.111.67"
)

// postfixMain is the stock Debian main.cf with the test's names, the
// snakeoil certificate, and a local network that is not the client.
const postfixMain = `compatibility_level = 3.6
queue_directory = QUEUE
data_directory = DATA
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
myhostname = mx1.corp.example
mydestination = corp.example, mx1.corp.example, localhost
mynetworks = 127.0.0.2/32
inet_interfaces = all
inet_protocols = ipv4
smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
local_recipient_maps =
alias_maps =
maillog_file = /dev/stdout
`

// postfixMaster runs smtpd on the test address and the services it
// needs to queue a message, none chrooted.
const postfixMaster = `ADDR:25 inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
tlsmgr unix - - n 1000? 1 tlsmgr
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - discard
smtp unix - - n - - discard
relay unix - - n - - discard
`

// TestPostfixDifferential sends one dialogue to the real Postfix 3.7
// (package postfix, stopped, run here from a temporary configuration)
// and to the fake without AUTH (as stock Postfix has none), and wants
// the same replies, queue ids aside.
func TestPostfixDifferential(t *testing.T) {
	testutil.RequireRoot(t, "to run postfix")
	postfix := testutil.RequireTool(t, "postfix")
	dir, err := os.MkdirTemp("", "smtp-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	etc, queue, data := filepath.Join(dir, "etc"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{etc, data, filepath.Join(queue, "pid"), filepath.Join(queue, "public"), filepath.Join(queue, "private")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	main := strings.NewReplacer("QUEUE", queue, "DATA", data).Replace(postfixMain)
	os.WriteFile(filepath.Join(etc, "main.cf"), []byte(main), 0o644)
	os.WriteFile(filepath.Join(etc, "master.cf"), []byte(strings.ReplaceAll(postfixMaster, "ADDR", addrRealPostfix)), 0o644)
	for _, d := range []string{data, filepath.Join(queue, "public"), filepath.Join(queue, "private")} {
		exec.Command("chown", "postfix", d).Run()
	}
	// start-fg: "postfix start" gives up silently when no syslog runs.
	var logs testutil.Buffer
	cmd := exec.Command(postfix, "-c", etc, "start-fg")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(postfix, "-c", etc, "stop").Run()
		cmd.Wait()
		if t.Failed() {
			t.Logf("postfix:\n%s", logs.String())
		}
	})
	real := net.JoinHostPort(addrRealPostfix, "25")
	testutil.Eventually(t, "postfix listening", func() bool {
		c, err := net.Dial("tcp", real)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	addrs, _ := start(t, addrFakePostfix, false, map[string]string{"auth_mechanisms": ""})
	script := []string{"EHLO client.example.com", "HELO x", "ehlo", "AUTH PLAIN AGEAYg==", "MAIL FROM:<a@example.com>",
		"MAIL FROM:<b@example.com>", "RCPT TO:<root@corp.example>", "RCPT TO:<victim@example.org>", "RCPT TO:<a@b> NOTIFY=X",
		"DATA x", "DATA", "Subject: hi\r\n\r\n..x\r\n.", "RSET x", "RSET", "NOOP", "VRFY", "VRFY a b", "EXPN root", "HELP",
		"MAIL FROM:<a@b", "MAIL TO:<a@b>", "MAIL FROM:<a@b> BODY=FOO", "MAIL FROM:<a@b> SIZE=99999999", "DATA",
		"ETRN", "STARTTLS x", "QUIT"}
	ids := regexp.MustCompile(`queued as [0-9A-F]+`)
	dialogue := func(addr string) []string {
		c := dial(t, addr)
		out := []string{c.reply()}
		for _, l := range script {
			out = append(out, ids.ReplaceAllString(c.send(l), "queued as ID"))
		}
		return out
	}
	want, got := dialogue(real), dialogue(addrs[PortSMTP])
	for i := range want {
		if got[i] != want[i] {
			cmd := "greeting"
			if i > 0 {
				cmd = script[i-1]
			}
			t.Errorf("%.30q: postfix %q, fake %q", cmd, want[i], got[i])
		}
	}
}
