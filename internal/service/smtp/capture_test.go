package smtp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds remakes the fuzz corpora from real clients' traffic:
// swaks (AUTH LOGIN, PLAIN, CRAM-MD5, a message with an attachment) and
// curl (AUTH PLAIN and an upload), each sent in plaintext through a
// recording proxy to the relay. Each connection's stream is a
// FuzzSession seed, its command lines FuzzCommand seeds, its SASL
// responses FuzzAuth seeds and its message FuzzData and FuzzMIME seeds.
// Run it with SMTP_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("SMTP_CAPTURE_SEEDS") == "" {
		t.Skip("SMTP_CAPTURE_SEEDS is not set")
	}
	addrs, _ := start(t, addrClients, true, map[string]string{"auth_mechanisms": "PLAIN LOGIN CRAM-MD5"})
	proxy := testutil.StartProxy(t, addrClients, addrs[PortSMTP])
	dir := t.TempDir()
	file := filepath.Join(dir, "report.zip")
	os.WriteFile(file, []byte("PK\x03\x04 not really a zip \x00\xff"), 0o644)
	msg := filepath.Join(dir, "msg.txt")
	os.WriteFile(msg, []byte("From: a@x.example\r\nSubject: =?UTF-8?B?w6l0w6k=?=\r\n\r\n.dot first\r\nbody\r\n"), 0o644)
	base := []string{"--server", proxy.Addr, "--from", "a@x.example", "--to", "b@y.example"}
	for _, args := range [][]string{
		{"--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "secret"},
		{"--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret"},
		{"--auth", "CRAM-MD5", "--auth-user", "alice", "--auth-password", "secret"},
		{"--header", "Subject: attached", "--attach", "@" + file, "--attach-type", "application/zip"},
	} {
		t.Log(run(t, "swaks", append(base, args...)...))
	}
	t.Log(run(t, "curl", "-sS", "smtp://"+proxy.Addr, "-u", "bob:hunter2", "--mail-from", "a@x.example",
		"--mail-rcpt", "c@y.example", "-T", msg))
	for i, f := range proxy.Flows() {
		testutil.WriteSeed(t, "FuzzSession", fmt.Sprintf("flow-%02d", i+1), f)
		head, body, hasData := bytes.Cut(f, []byte("\r\nDATA\r\n"))
		for j, line := range bytes.Split(head, []byte("\r\n")) {
			testutil.WriteSeed(t, "FuzzCommand", fmt.Sprintf("flow-%02d-%02d", i+1, j+1), line)
			if b, err := base64.StdEncoding.DecodeString(string(line)); err == nil && len(line) > 3 {
				testutil.WriteSeed(t, "FuzzAuth", fmt.Sprintf("flow-%02d-%02d", i+1, j+1), b)
			}
			if _, ir, ok := strings.Cut(string(line), "AUTH PLAIN "); ok {
				b, _ := base64.StdEncoding.DecodeString(ir)
				testutil.WriteSeed(t, "FuzzAuth", fmt.Sprintf("flow-%02d-%02d", i+1, j+1), b)
			}
		}
		if hasData {
			testutil.WriteSeed(t, "FuzzData", fmt.Sprintf("flow-%02d", i+1), body)
			if m, _, ok := bytes.Cut(body, []byte("\r\n.\r\n")); ok {
				testutil.WriteSeed(t, "FuzzMIME", fmt.Sprintf("flow-%02d", i+1), append(m, "\r\n"...))
			}
		}
	}
}
