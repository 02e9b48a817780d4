package smtp

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestSubmission: 587 wants STARTTLS before AUTH and MAIL, offers AUTH
// only after it, and takes no recipient without a login.
func TestSubmission(t *testing.T) {
	addrs, _ := start(t, addrDialogue, false, nil)
	c := dial(t, addrs[PortSubmission])
	c.reply()
	if got := c.send("EHLO x"); strings.Contains(got, "AUTH") || !strings.Contains(got, "250-STARTTLS") {
		t.Errorf("EHLO before TLS: %q", got)
	}
	for _, cmd := range []string{"AUTH PLAIN AGEAYg==", "MAIL FROM:<a@b.c>"} {
		if got := c.send(cmd); got != "530 5.7.0 Must issue a STARTTLS command first\r\n" {
			t.Errorf("%s: %q", cmd, got)
		}
	}
	if got := c.send("STARTTLS"); got != "220 2.0.0 Ready to start TLS\r\n" {
		t.Fatalf("STARTTLS: %q", got)
	}
	tc := tlsClient(t, c)
	if got := tc.send("EHLO x"); strings.Contains(got, "STARTTLS") || !strings.Contains(got, "250-AUTH PLAIN LOGIN\r\n") {
		t.Errorf("EHLO after TLS: %q", got)
	}
	tc.send("MAIL FROM:<a@b.c>")
	if got := tc.send("RCPT TO:<root@corp.example>"); got != "554 5.7.1 <root@corp.example>: Recipient address rejected: Access denied\r\n" {
		t.Errorf("RCPT without login: %q", got)
	}
	if got := tc.send("STARTTLS"); got != "554 5.5.1 Error: TLS already active\r\n" {
		t.Errorf("second STARTTLS: %q", got)
	}
}

// TestSMTPSOff: without smtps, port 465 is closed.
func TestSMTPSOff(t *testing.T) {
	addrs, _ := start(t, addrDialogue, false, map[string]string{"smtps": "false"})
	testutil.Closed(t, addrs[PortSMTPS])
}

// TestErrorLimit: the 20th error's reply is followed by Postfix's 421 and
// the end of the connection.
func TestErrorLimit(t *testing.T) {
	addrs, _ := start(t, addrDialogue, false, nil)
	c := dial(t, addrs[PortSMTP])
	c.reply()
	for i := 1; i < hardErrorLimit; i++ {
		c.send("FOO")
	}
	want := "500 5.5.2 Error: command not recognized\r\n"
	if got := c.send("FOO"); got != want {
		t.Errorf("20th error: %q", got)
	}
	if got := c.reply() + c.reply(); got != "421 4.7.0 mx1.corp.example Error: too many errors\r\n<EOF>" {
		t.Errorf("after the 20th error: %q", got)
	}
}

// TestTimeout: a silent client gets Postfix's timeout reply.
func TestTimeout(t *testing.T) {
	addrs, _ := start(t, addrDialogue, false, nil, func(s *Server) { s.limits.Idle = 200 * time.Millisecond })
	c := dial(t, addrs[PortSMTP])
	c.reply()
	if got := c.reply() + c.reply(); got != "421 4.4.2 mx1.corp.example Error: timeout exceeded\r\n<EOF>" {
		t.Errorf("got %q", got)
	}
}

// TestBreakRules: an HTTP request or a header as a command ends the
// session with Postfix's one line.
func TestBreakRules(t *testing.T) {
	addrs, ev := start(t, addrDialogue, false, nil)
	for _, line := range []string{"GET / HTTP/1.0", "Subject: x", "CONNECT a:25 HTTP/1.1"} {
		c := dial(t, addrs[PortSMTP])
		c.reply()
		if got := c.send(line) + c.reply(); got != "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n<EOF>" {
			t.Errorf("%s: %q", line, got)
		}
	}
	testutil.Eventually(t, "unknown_command events", func() bool { return len(ev.OfType("unknown_command")) == 3 })
}

var queueID = regexp.MustCompile(`^250 2\.0\.0 Ok: (\d+ bytes )?queued as [0-9A-F]{10,12}\r\n$`)

// TestBDATAndLimits: BDAT chunks are joined; SIZE refuses an over-limit
// message; a message over max_body is cut in its event and kept whole as
// an artifact; the relay restriction "reject" answers 554.
func TestBDATAndLimits(t *testing.T) {
	addrs, ev := start(t, addrDialogue, false, map[string]string{"max_body": "16", "message_size_limit": "200",
		"relay_restriction": "reject"})
	c := dial(t, addrs[PortSMTP])
	c.reply()
	c.send("EHLO x")
	c.send("MAIL FROM:<a@b.c>")
	if got := c.send("RCPT TO:<x@example.org>"); got != "554 5.7.1 <x@example.org>: Relay access denied\r\n" {
		t.Errorf("relay reject: %q", got)
	}
	c.send("RCPT TO:<root@corp.example>")
	if got := c.send("BDAT 5\r\nSubjeBDAT 0 x"); got != "250 2.0.0 Ok: 5 bytes\r\n" {
		t.Errorf("BDAT chunk: %q", got)
	}
	if got := c.reply() + c.reply(); got != "521 5.5.4 Syntax: BDAT count [LAST]\r\n<EOF>" {
		t.Errorf("bad BDAT: %q", got)
	}
	c = dial(t, addrs[PortSMTP])
	c.reply()
	c.send("EHLO x")
	c.send("MAIL FROM:<a@b.c>")
	c.send("RCPT TO:<root@corp.example>")
	last := "ct: big\r\n\r\n0123456789abcdef!"
	if _, err := c.c.Write([]byte("BDAT 5\r\nSubje")); err != nil || c.reply() != "250 2.0.0 Ok: 5 bytes\r\n" {
		t.Fatal("first chunk", err)
	}
	if _, err := c.c.Write([]byte("BDAT " + strconv.Itoa(len(last)) + " LAST\r\n" + last)); err != nil {
		t.Fatal(err)
	}
	if got := c.reply(); !queueID.MatchString(got) || !strings.Contains(got, " 33 bytes ") {
		t.Errorf("BDAT LAST: %q", got)
	}
	c.send("MAIL FROM:<a@b.c>")
	c.send("RCPT TO:<root@corp.example>")
	c.send("DATA")
	if got := c.send(strings.Repeat("x", 300) + "\r\n."); got != "552 5.3.4 Message size exceeds fixed limit\r\n" {
		t.Errorf("over the size limit: %q", got)
	}
	testutil.Eventually(t, "the raw message kept", func() bool { return len(ev.OfType(event.TypeFileCaptured)) == 1 })
	m := ev.OfType("message")[0].Fields
	if m["subject"] != "big" || m["body"] != "0123456789abcdef" || m["truncated"] != "true" || m["size"] != "33" {
		t.Errorf("message event %v", m)
	}
	if f := ev.OfType(event.TypeFileCaptured)[0].Fields; f["filename"] != m["queue_id"]+".eml" || f["size"] != "33" {
		t.Errorf("file_captured %v", f)
	}
}

// TestPersona: bad keys are refused, good ones shape the greeting.
func TestPersona(t *testing.T) {
	for _, bad := range []*Persona{
		{AuthMechanisms: []string{"NTLM"}},
		{MTA: "bad name"},
		{Banner: "a\r\nb"},
		{RelayRestriction: "maybe"},
	} {
		p := defaultPersona().(*Persona)
		if bad.AuthMechanisms != nil {
			p.AuthMechanisms = bad.AuthMechanisms
		}
		p.MTA, p.Banner = bad.MTA, bad.Banner
		if bad.RelayRestriction != "" {
			p.RelayRestriction = bad.RelayRestriction
		}
		if p.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	addrs, _ := start(t, addrDialogue, false, map[string]string{"banner": "220 mail.example.net ESMTP Postfix", "mta": "mail.example.net",
		"auth_mechanisms": ""})
	c := dial(t, addrs[PortSMTP])
	if got := c.reply(); got != "220 mail.example.net ESMTP Postfix\r\n" {
		t.Errorf("greeting %q", got)
	}
	if got := c.send("EHLO x"); strings.Contains(got, "AUTH") || !strings.HasPrefix(got, "250-mail.example.net\r\n") {
		t.Errorf("EHLO %q", got)
	}
	if got := c.send("AUTH LOGIN"); got != "503 5.5.1 Error: authentication not enabled\r\n" {
		t.Errorf("AUTH %q", got)
	}
}
