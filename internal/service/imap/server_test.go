package imap

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// Dovecot 2.3.19's texts, as captured from the real one (README).
const (
	greetingPlain = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
	greetingTLS   = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
	greetingNoPT  = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"
	loggedIn      = " OK [CAPABILITY " + postLoginCapabilities + "] Logged in\r\n"
	authFailed    = " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
)

// exchange is one command and the exact answer wanted.
type exchange struct{ send, want string }

func runExchanges(t *testing.T, c *client, steps []exchange) {
	t.Helper()
	for _, st := range steps {
		c.send(st.send)
		var got strings.Builder
		for got.Len() < len(st.want) {
			got.WriteString(c.line())
		}
		if g := timings.ReplaceAllString(got.String(), "(T secs)"); g != st.want {
			t.Errorf("%q:\n got %q\nwant %q", st.send, g, st.want)
		}
	}
}

func TestPreLogin(t *testing.T) {
	s, ev := newTestServer(t, nil)
	a, _ := serve(t, s, addrServer)
	c := dial(t, a)
	if g := c.line(); g != greetingPlain {
		t.Fatalf("greeting %q", g)
	}
	runExchanges(t, c, []exchange{
		{"a1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN\r\na1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"},
		{"a2 NOOP\r\n", "a2 OK NOOP completed.\r\n"},
		{"a3 ID NIL\r\n", "* ID (\"name\" \"Dovecot\")\r\na3 OK ID completed.\r\n"},
		{"a3 ID (\"name\" \"Thunderbird\" \"version\" \"115.3\")\r\n", "* ID (\"name\" \"Dovecot\")\r\na3 OK ID completed.\r\n"},
		{"a4 ENABLE CONDSTORE\r\n", "* ENABLED\r\na4 OK ENABLE ignored in non-authenticated state.\r\n"},
		{"a5 SELECT INBOX\r\n", "a5 BAD Error in IMAP command received by server.\r\n"},
		{"\r\n", "* BAD Error in IMAP command received by server.\r\n"},
		{"a6 FOO\r\n", "* BYE Too many invalid IMAP commands.\r\n"},
	})
	testutil.Eventually(t, "client_id event", func() bool {
		return len(ev.With("client_id", event.FieldUserAgent, "name=Thunderbird; version=115.3")) == 1
	})
}

func TestLoginFailureAndSuccess(t *testing.T) {
	s, ev := newTestServer(t, nil)
	a, _ := serve(t, s, addrServer)
	c := dial(t, a)
	c.line()
	runExchanges(t, c, []exchange{
		{"a1 LOGIN admin wrong\r\n", "a1" + authFailed},
		{"a2 LOGIN {5}\r\n", "+ OK\r\n"},
		{"admin {8+}\r\nadmin123\r\n", "a2" + loggedIn},
		{"a3 NOOP\r\n", "a3 OK NOOP completed (T secs).\r\n"},
		{"a4 LOGIN admin admin123\r\n", "a4 BAD Error in IMAP command LOGIN: Unknown command (T secs).\r\n"},
		{"a5 LOGOUT\r\n", "* BYE Logging out\r\na5 OK Logout completed (T secs).\r\n"},
	})
	testutil.Eventually(t, "two auth events", func() bool { return len(ev.OfType(event.TypeAuth)) == 2 })
	auths := ev.OfType(event.TypeAuth)
	for i, want := range []struct{ pass, ok string }{{"wrong", "false"}, {"admin123", "true"}} {
		f := auths[i].Fields
		if f["username"] != "admin" || f["password"] != want.pass || f["success"] != want.ok || f["method"] != "LOGIN" || f["src_ip"] == "" {
			t.Errorf("auth %d: %v", i, f)
		}
	}
	// The command events hold no password.
	for _, e := range ev.OfType(event.TypeCommand) {
		if strings.Contains(e.Fields["command"], "admin123") || strings.Contains(e.Fields["command"], "wrong") {
			t.Errorf("password in command event: %v", e.Fields)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	s, ev := newTestServer(t, nil)
	a, _ := serve(t, s, addrServer)
	c := dial(t, a)
	c.line()
	runExchanges(t, c, []exchange{
		{"a1 AUTHENTICATE PLAIN\r\n", "+ \r\n"},
		{"*\r\n", "a1 BAD Authentication aborted by client.\r\n"},
		{"a2 AUTHENTICATE PLAIN\r\n", "+ \r\n"},
		{"!!!\r\n", "a2 NO [ALERT] Invalid base64 in response\r\n"},
		{"a3 AUTHENTICATE CRAM-MD5\r\n", "a3 NO [ALERT] Unsupported authentication mechanism.\r\n"},
		{"a4 AUTHENTICATE PLAIN " + b64("\x00root\x00nope") + "\r\n", "a4" + authFailed},
		{"a5 AUTHENTICATE LOGIN\r\n", "+ VXNlcm5hbWU6\r\n"},
		{b64("mail") + "\r\n", "+ UGFzc3dvcmQ6\r\n"},
		{b64("bad") + "\r\n", "a5" + authFailed},
		{"a6 AUTHENTICATE PLAIN " + b64("\x00root\x00toor") + "\r\n", "a6" + loggedIn},
	})
	testutil.Eventually(t, "three auth events", func() bool { return len(ev.OfType(event.TypeAuth)) == 3 })
	got := ev.OfType(event.TypeAuth)
	for i, want := range [][4]string{
		{"root", "nope", "AUTHENTICATE PLAIN", "false"},
		{"mail", "bad", "AUTHENTICATE LOGIN", "false"},
		{"root", "toor", "AUTHENTICATE PLAIN", "true"},
	} {
		f := got[i].Fields
		if f["username"] != want[0] || f["password"] != want[1] || f["method"] != want[2] || f["success"] != want[3] {
			t.Errorf("auth %d: %v, want %v", i, f, want)
		}
	}
}

func TestDisablePlaintextAuth(t *testing.T) {
	p := defaultPersona().(*Persona)
	p.DisablePlaintextAuth = true
	s, ev := newTestServer(t, p)
	a, _ := serve(t, s, addrServer)
	c := dial(t, a)
	if g := c.line(); g != greetingNoPT {
		t.Fatalf("greeting %q", g)
	}
	runExchanges(t, c, []exchange{
		{"a2 LOGIN admin admin123\r\n", "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\na2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"},
		{"a5 AUTHENTICATE PLAIN\r\n", "a5 NO [PRIVACYREQUIRED] Plaintext authentication disabled.\r\n"},
		{"a0 STARTTLS\r\n", "a0 OK Begin TLS negotiation now.\r\n"},
	})
	testutil.Eventually(t, "refused auth event", func() bool {
		return len(ev.With(event.TypeAuth, "refused", "plaintext authentication disallowed")) == 1
	})
	tc := dialTLSOver(t, c)
	runExchanges(t, tc, []exchange{
		{"a1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\na1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"},
		{"a2 STARTTLS\r\n", "a2 BAD TLS is already active.\r\n"},
		{"a3 LOGIN admin admin123\r\n", "a3" + loggedIn},
	})
}

func TestImplicitTLS(t *testing.T) {
	s, ev := newTestServer(t, nil)
	_, a := serve(t, s, addrServer)
	c := dialTLS(t, a)
	if g := c.line(); g != greetingTLS {
		t.Fatalf("greeting %q", g)
	}
	testutil.Eventually(t, "tls event", func() bool { return len(ev.OfType("tls")) == 1 })
	if v := ev.OfType("tls")[0].Fields["tls_version"]; v != "TLS 1.3" {
		t.Errorf("tls_version %q", v)
	}
}

func TestMailbox(t *testing.T) {
	s, ev := newTestServer(t, nil)
	a, _ := serve(t, s, addrServer)
	c := dial(t, a)
	c.login()
	sel := c.cmd("s", "SELECT INBOX")
	for _, want := range []string{"* 10 EXISTS\r\n", "* 0 RECENT\r\n", "s OK [READ-WRITE] Select completed"} {
		if !strings.Contains(sel, want) {
			t.Errorf("SELECT lacks %q:\n%s", want, sel)
		}
	}
	search := c.cmd("f1", "UID SEARCH SUBJECT \"root password\"")
	if !strings.HasPrefix(search, "* SEARCH ") {
		t.Fatalf("search: %q", search)
	}
	uid := strings.Fields(search)[2]
	got := c.cmd("f2", "UID FETCH "+uid+" (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT]<0.12> FLAGS)")
	if !strings.Contains(got, "BODY[HEADER.FIELDS (SUBJECT)] {") || !strings.Contains(got, "BODY[TEXT]<0> {12}\r\n") ||
		!strings.HasPrefix(got, "* 5 FETCH (UID "+uid+" ") {
		t.Errorf("fetch: %q", got)
	}
	testutil.Eventually(t, "fetch event", func() bool { return len(ev.With("fetch", "read", "true")) == 1 })
	f := ev.With("fetch", "read", "true")[0].Fields
	if !strings.Contains(strings.ToLower(f["subjects"]), "root password") || f["read_uids"] != uid {
		t.Errorf("fetch event %v", f)
	}
	if s := ev.OfType("search"); len(s) != 1 || s[0].Fields["matches"] != "1" {
		t.Errorf("search events %v", s)
	}
	runExchanges(t, c, []exchange{
		{"x1 FETCH 99 FLAGS\r\n", "x1 BAD Error in IMAP command FETCH: Invalid messageset (T secs).\r\n"},
		{"x2 FETCH 1 FOO\r\n", "x2 BAD Error in IMAP command FETCH: Unknown parameter: FOO (T secs).\r\n"},
		{"x3 SEARCH FROM\r\n", "x3 BAD Error in IMAP command SEARCH: Missing parameter for search key (for search key: FROM) (T secs).\r\n"},
		{"x4 STORE 1,2 FLAGS (\\Deleted)\r\n", "* 1 FETCH (FLAGS (\\Deleted))\r\n* 2 FETCH (FLAGS (\\Deleted))\r\nx4 OK Store completed (T secs).\r\n"},
		{"x5 EXPUNGE\r\n", "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nx5 OK Expunge completed (T secs).\r\n"},
		{"x6 SEARCH ALL\r\n", "* SEARCH 1 2 3 4 5 6 7 8\r\nx6 OK Search completed (T secs).\r\n"},
		{"x7 SEARCH NOT OR SEEN FLAGGED\r\n", "* SEARCH 6 7 8\r\nx7 OK Search completed (T secs).\r\n"},
		{"x8 UNSELECT\r\n", "x8 OK Unselect completed (T secs).\r\n"},
		{"x9 FETCH 1 FLAGS\r\n", "x9 BAD No mailbox selected (T secs).\r\n"},
		{"y1 STATUS nope (MESSAGES)\r\n", "y1 NO Mailbox doesn't exist: nope (T secs).\r\n"},
		{"y2 NAMESPACE\r\n", "* NAMESPACE ((\"\" \".\")) NIL NIL\r\ny2 OK Namespace completed (T secs).\r\n"},
		{"y3 IDLE\r\n", "+ idling\r\n"},
		{"DONE\r\n", "y3 OK Idle completed (T secs).\r\n"},
	})
	// Another session sees the whole mailbox again.
	c2 := dial(t, a)
	c2.login()
	if st := c2.cmd("s", "STATUS INBOX (MESSAGES)"); !strings.HasPrefix(st, "* STATUS INBOX (MESSAGES 10)\r\n") {
		t.Errorf("status %q", st)
	}
}

func TestLimits(t *testing.T) {
	s, _ := newTestServer(t, nil)
	a, _ := serve(t, s, addrServer)
	for _, tc := range []exchange{
		{"a1 LOGIN {8192}\r\n", "* BYE Literal size too large\r\n"},
		{"a1 NOOP " + strings.Repeat("x", 2000) + "\r\n", "* BYE Input buffer full, aborting\r\n"},
		{"a1 NOOP" + strings.Repeat(" x", 1500) + "\r\n", "a1 OK NOOP completed.\r\n"},
	} {
		c := dial(t, a)
		c.line()
		runExchanges(t, c, []exchange{tc})
	}
}

func TestPenalty(t *testing.T) {
	p := newPenalties()
	now := time.Now()
	for i, want := range []time.Duration{0, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second} {
		n, _ := p.failures("1.2.3.4", now)
		if got := penaltyDelay(n); got != want {
			t.Errorf("after %d failures: %v, want %v", i, got, want)
		}
		p.fail("1.2.3.4", now)
	}
	if n, _ := p.failures("1.2.3.4", now.Add(2*time.Hour)); n != 0 {
		t.Error("penalty did not expire")
	}
	if d := failureDelay(); d < 3*time.Second || d >= 4*time.Second {
		t.Errorf("failure delay %v", d)
	}
}
