package smtp

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// run runs a client, returning its combined output; failing is allowed
// (a refused login ends swaks with an error).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, _ := exec.Command(testutil.RequireTool(t, name), args...).CombinedOutput()
	return string(out)
}

// TestSwaksAuth: swaks logs in with each mechanism, over plain 25,
// STARTTLS on 25 and 587, and implicit TLS on 465; the auth event makes a
// credential bounty (username + password, or CRAM-MD5's hash).
func TestSwaksAuth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		relay bool
		port  int
		args  []string
		mech  string
	}{
		{"login on 25", false, PortSMTP, nil, "LOGIN"},
		{"plain on 25 with STARTTLS", false, PortSMTP, []string{"-tls"}, "PLAIN"},
		{"plain on 587 with STARTTLS", true, PortSubmission, []string{"-tls"}, "PLAIN"},
		{"login on 465", true, PortSMTPS, []string{"--tlsc"}, "LOGIN"},
		{"cram-md5 on 25", true, PortSMTP, nil, "CRAM-MD5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs, ev := start(t, addrClients, tc.relay, map[string]string{"auth_mechanisms": "PLAIN LOGIN CRAM-MD5"})
			user, pass := "alice", "S3cret-"+strings.ToLower(tc.mech)
			args := append([]string{"--server", addrs[tc.port], "--from", "alice@corp.example", "--to", "bob@corp.example",
				"--auth", tc.mech, "--auth-user", user, "--auth-password", pass, "--quit-after", "AUTH"}, tc.args...)
			out := run(t, "swaks", args...)
			want := "535 5.7.8 Error: authentication failed: (reason unavailable)"
			if tc.relay {
				want = "235 2.7.0 Authentication successful"
			}
			if !strings.Contains(out, want) {
				t.Fatalf("swaks output lacks %q:\n%s", want, out)
			}
			testutil.Eventually(t, "the auth event", func() bool { return len(ev.OfType(event.TypeAuth)) == 1 })
			f := ev.OfType(event.TypeAuth)[0].Fields
			if f[event.FieldUsername] != user || f[event.FieldMethod] != tc.mech || f[event.FieldSrcIP] == "" {
				t.Fatalf("auth event %v", f)
			}
			if tc.mech != "CRAM-MD5" {
				if f[event.FieldPassword] != pass {
					t.Errorf("password %q, want %q", f[event.FieldPassword], pass)
				}
				return
			}
			if f[event.FieldHashFormat] != cramFormat || !cracks(f[event.FieldHash], pass) {
				t.Errorf("hash %q (%s) does not crack to %q", f[event.FieldHash], f[event.FieldHashFormat], pass)
			}
		})
	}
}

// cracks checks a hashcat 10200 hash against a password as hashcat does:
// the HMAC-MD5 of the challenge under the password is the digest.
func cracks(hash, password string) bool {
	f := strings.Split(hash, "$")
	if len(f) != 4 || f[1] != "cram_md5" {
		return false
	}
	ch, err1 := base64.StdEncoding.DecodeString(f[2])
	resp, err2 := base64.StdEncoding.DecodeString(f[3])
	if err1 != nil || err2 != nil {
		return false
	}
	_, digest, _ := bytes.Cut(resp, []byte(" "))
	m := hmac.New(md5.New, []byte(password))
	m.Write(ch)
	return string(digest) == hex.EncodeToString(m.Sum(nil))
}

// TestSwaksAttachment: a message with an attachment through the relay
// with STARTTLS is queued, recorded and its attachment kept whole.
func TestSwaksAttachment(t *testing.T) {
	addrs, ev := start(t, addrClients, true, nil)
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	payload := bytes.Repeat([]byte("%PDF-1.4 \x00\x01\x02 payload "), 300)
	if err := os.WriteFile(file, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "swaks", "--server", addrs[PortSMTP], "-tls", "--from", "spam@evil.example", "--to", "victim@example.org",
		"--header", "Subject: Invoice 42", "--attach-type", "application/pdf", "--attach", "@"+file)
	if !strings.Contains(out, "250 2.0.0 Ok: queued as ") {
		t.Fatalf("swaks:\n%s", out)
	}
	testutil.Eventually(t, "the file_captured event", func() bool { return len(ev.OfType(event.TypeFileCaptured)) == 1 })
	m := ev.OfType("message")[0].Fields
	if m["subject"] != "Invoice 42" || m["rcpt_to"] != `["victim@example.org"]` || m["mail_from"] != "spam@evil.example" ||
		m["tls"] != "true" || m["attachments"] != "1" || !strings.HasPrefix(m["mailer"], "swaks v") {
		t.Errorf("message event %v", m)
	}
	f := ev.OfType(event.TypeFileCaptured)[0].Fields
	sum := sha256.Sum256(payload)
	if f["sha256"] != hex.EncodeToString(sum[:]) || f["filename"] != "invoice.pdf" || f["content_type"] != "application/pdf" ||
		f["stored"] != "true" || f["queue_id"] != m["queue_id"] {
		t.Errorf("file_captured event %v", f)
	}
}

// TestCurl: curl uploads a message over smtp:// (with --ssl-reqd, so
// STARTTLS) and smtps://, logging in with AUTH PLAIN, which curl picks
// from the EHLO list.
func TestCurl(t *testing.T) {
	addrs, ev := start(t, addrClients, true, nil)
	msg := filepath.Join(t.TempDir(), "msg.txt")
	if err := os.WriteFile(msg, []byte("From: a@x.example\r\nSubject: curl test\r\nMessage-ID: <1@x.example>\r\n\r\n.leading dot\r\nbody\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"smtp://" + addrs[PortSMTP], "smtps://" + addrs[PortSMTPS]} {
		out := run(t, "curl", "-sS", "-k", "--ssl-reqd", url, "-u", "bob:hunter2", "--mail-from", "a@x.example",
			"--mail-rcpt", "c@y.example", "-T", msg)
		if out != "" {
			t.Errorf("curl %s: %s", url, out)
		}
	}
	testutil.Eventually(t, "two message events", func() bool { return len(ev.OfType("message")) == 2 })
	for _, e := range ev.OfType("message") {
		f := e.Fields
		if f["subject"] != "curl test" || f["message_id"] != "<1@x.example>" || f["auth_user"] != "bob" ||
			f["body"] != ".leading dot\r\nbody\r\n" || f["tls"] != "true" {
			t.Errorf("message event %v", f)
		}
	}
	if a := ev.With(event.TypeAuth, event.FieldPassword, "hunter2"); len(a) != 2 || a[0].Fields[event.FieldMethod] != "PLAIN" {
		t.Errorf("auth events %v", a)
	}
}
