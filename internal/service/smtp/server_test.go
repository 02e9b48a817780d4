package smtp

import (
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

const ehlo25 = "250-mx1.corp.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n" +
	"250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"

// reconnect in a dialogue starts a new connection, under the error limit.
const reconnect = "<reconnect>"

// TestDialogue: Postfix 3.7.11's replies, as captured from the real one
// (external view), for each command in and out of order.
func TestDialogue(t *testing.T) {
	addrs, ev := start(t, addrDialogue, false, nil)
	c := dial(t, addrs[PortSMTP])
	if got := c.reply(); got != "220 mx1.corp.example ESMTP Postfix (Debian/GNU)\r\n" {
		t.Fatalf("greeting %q", got)
	}
	for _, step := range []struct{ send, want string }{
		{"DATA", "503 5.5.1 Error: need RCPT command\r\n"},
		{"RCPT TO:<root@corp.example>", "503 5.5.1 Error: need MAIL command\r\n"},
		{"AUTH PLAIN", "503 5.5.1 Error: send HELO/EHLO first\r\n"},
		{"ETRN x", "503 Error: send HELO/EHLO first\r\n"},
		{"ehlo", "501 Syntax: EHLO hostname\r\n"},
		{"EHLO client.example.com", ehlo25},
		{"HELO x", "250 mx1.corp.example\r\n"},
		{"HELP", "500 5.5.2 Error: command not recognized\r\n"},
		{"EXPN root", "500 5.5.2 Error: command not recognized\r\n"},
		{"MAIL TO:<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
		{"MAIL FROM:<a@b", "501 5.1.7 Bad sender address syntax\r\n"},
		{"MAIL FROM:<a@b> SIZE=99999999", "552 5.3.4 Message size exceeds fixed limit\r\n"},
		{"MAIL FROM:<a@b> BODY=FOO", "555 5.5.4 Unsupported option: BODY=FOO\r\n"},
		{"MAIL FROM:<a@b.c> SIZE=100", "250 2.1.0 Ok\r\n"},
		{"MAIL FROM:<b@b.c>", "503 5.5.1 Error: nested MAIL command\r\n"},
		{"RCPT", "501 5.5.4 Syntax: RCPT TO:<address>\r\n"},
		{"RCPT TO:<a@b> NOTIFY=X", "501 5.5.4 Error: Bad NOTIFY parameter syntax\r\n"},
		{"RCPT TO:<victim@example.org>", "454 4.7.1 <victim@example.org>: Relay access denied\r\n"},
		{"DATA", "554 5.5.1 Error: no valid recipients\r\n"},
		{"RCPT TO:<Root@CORP.example>", "250 2.1.5 Ok\r\n"},
		{"RCPT TO:<postmaster>", "250 2.1.5 Ok\r\n"},
		{"DATA x", "501 5.5.4 Syntax: DATA\r\n"},
		{"ETRN x", "503 Error: MAIL transaction in progress\r\n"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>\r\n"},
		{"Subject: hi\r\n\r\n..dot\r\n.", "250 2.0.0 Ok: queued as "},
		{reconnect, ""},
		{"HELO y", "250 mx1.corp.example\r\n"},
		{"RSET x", "501 5.5.4 Syntax: RSET\r\n"},
		{"NOOP x", "250 2.0.0 Ok\r\n"},
		{"VRFY", "501 5.5.4 Syntax: VRFY address [SMTPUTF8]\r\n"},
		{"VRFY a b", "501 5.1.3 Bad recipient address syntax\r\n"},
		{"VRFY root", "252 2.0.0 root\r\n"},
		{"ETRN", "500 Syntax: ETRN domain\r\n"},
		{"ETRN corp.example", "459 <corp.example>: service unavailable\r\n"},
		{"STARTTLS x", "501 5.5.4 Syntax: STARTTLS\r\n"},
		{"NOOP " + strings.Repeat("x", 5000), "250 2.0.0 Ok\r\n"},
		{"", "500 5.5.2 Error: bad syntax\r\n"},
		{"QUIT x", "221 2.0.0 Bye\r\n"},
	} {
		if step.send == reconnect {
			c = dial(t, addrs[PortSMTP])
			c.reply()
			continue
		}
		if got := c.send(step.send); !strings.HasPrefix(got, step.want) {
			t.Errorf("%.40q: got %q, want %q", step.send, got, step.want)
		}
	}
	testutil.Eventually(t, "the message event", func() bool { return len(ev.OfType("message")) == 1 })
	m := ev.OfType("message")[0].Fields
	if m["body"] != ".dot\r\n" || m["subject"] != "hi" || m["rcpt_to"] != `["Root@CORP.example","postmaster"]` ||
		m["mail_from"] != "a@b.c" || m["helo"] != "x" {
		t.Errorf("message event %v", m)
	}
	if d := ev.With("rcpt_denied", "rcpt_to", "victim@example.org"); len(d) != 1 || d[0].Severity != event.Warning {
		t.Errorf("rcpt_denied events %v", d)
	}
	if len(ev.With("unknown_command", event.FieldCommand, "HELP")) != 1 {
		t.Error("no unknown_command event for HELP")
	}
	for _, e := range ev.All() {
		if e.Fields[event.FieldSrcIP] == "" {
			t.Errorf("%s event without src_ip", e.Type)
		}
	}
}
