package pop3

import (
	"encoding/base64"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
)

// TestPenalty follows Dovecot's auth penalty for one source: no wait for
// the first login, then 4, 8, 15, 15 s after successive failures; a
// repeated user and password does not raise it; it decays with time and
// a success clears it. IPv6 sources share their /48.
func TestPenalty(t *testing.T) {
	tab := newPenalties()
	now := time.Unix(1_800_000_000, 0)
	ip := mustAddr("192.0.2.7")
	var got []int
	for i := range 5 {
		p := tab.get(ip, now)
		got = append(got, p)
		tab.failed(ip, p, "admin", "pw"+string(rune('a'+i)), now)
		now = now.Add(time.Second)
	}
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("penalties %v, want %v", got, want)
	}
	var secs []time.Duration
	for p := range 5 {
		secs = append(secs, penaltySecs(p))
	}
	if want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}; !slices.Equal(secs, want) {
		t.Errorf("waits %v, want %v", secs, want)
	}
	p := tab.get(ip, now)
	tab.failed(ip, p, "admin", "pwa", now) // a retry of the first attempt
	if got := tab.get(ip, now); got != penaltyMax-1 {
		t.Errorf("after a repeated attempt the penalty is %d, want %d", got, penaltyMax-1)
	}
	if got := tab.get(ip, now.Add(16*time.Second)); got != 0 {
		t.Errorf("16 s after the last failure the penalty is %d, want 0", got)
	}
	tab.succeeded(ip)
	if got := tab.get(ip, now); got != 0 {
		t.Errorf("after a success the penalty is %d, want 0", got)
	}
	a, b := mustAddr("2001:db8:1:2::1"), mustAddr("2001:db8:1:3::9")
	tab.failed(a, 0, "x", "y", now)
	if got := tab.get(b, now); got != 1 {
		t.Errorf("a neighbour in the /48 has penalty %d, want 1", got)
	}
}

// TestFailureDelay: auth_failure_delay's reply comes 1 to 2.5 s after
// the request, whatever the fraction of the second.
func TestFailureDelay(t *testing.T) {
	for ms := 0; ms < 1000; ms += 50 {
		d := failureDelay(time.Unix(1_800_000_000, int64(ms)*int64(time.Millisecond)))
		if d <= time.Second || d > 2500*time.Millisecond {
			t.Errorf("delay at .%03d s is %v", ms, d)
		}
	}
}

// TestPenaltyInSession: failed logins on one connection wait out the
// failure delay and then a growing penalty, before the next attempt's
// first challenge, and say so in their events.
func TestPenaltyInSession(t *testing.T) {
	s, ev, w := newTestServer(t, nil)
	addr, _ := serve(t, s, addrSession)
	c := dial(t, addr)
	c.line()
	for _, pw := range []string{"a", "b"} {
		c.send("USER admin\r\nPASS " + pw + "\r\n")
		c.line()
		if l := c.line(); l != replyAuthFailed+"\r\n" {
			t.Fatalf("got %q", l)
		}
	}
	c.send("AUTH LOGIN\r\n")
	if l := c.line(); l != "+ "+loginUserPrompt+"\r\n" {
		t.Fatalf("got %q", l)
	}
	c.send(base64.StdEncoding.EncodeToString([]byte("admin")) + "\r\n")
	c.line()
	c.send(base64.StdEncoding.EncodeToString([]byte("admin123")) + "\r\n")
	if l := c.line(); l != replyLoggedIn+"\r\n" {
		t.Fatalf("got %q", l)
	}
	ds := w.all()
	if len(ds) != 4 || ds[1] != 4*time.Second || ds[3] != 8*time.Second {
		t.Errorf("waits %v, want failure delay, 4 s, failure delay, 8 s", ds)
	}
	f := waitEvent(t, ev, event.TypeAuth, event.FieldMethod, "login")
	if f["penalty_s"] != "8.000" || f[event.FieldSuccess] != "true" {
		t.Errorf("login event %v", f)
	}
	if got := s.penalty.get(mustAddr("127.0.0.1"), time.Now()); got != 0 {
		t.Errorf("penalty after the login %d", got)
	}
}

// TestPlaintextRefused: with Debian's disable_plaintext_auth, USER/PASS
// and AUTH PLAIN on 110 are refused as Dovecot refuses them, yet the
// passwords the client exposed are recorded.
func TestPlaintextRefused(t *testing.T) {
	p := defaultPersona().(*Persona)
	p.DisablePlaintextAuth = true
	s, ev, w := newTestServer(t, p)
	addr, _ := serve(t, s, addrSession)
	c := dial(t, addr)
	c.line()
	c.send("USER root\r\nPASS toor\r\nAUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00admin\x00s3cret")) + "\r\n")
	for _, want := range []string{replyPlaintextDisallowed, replyPlaintextDisallowed, replyPlaintextDisabled} {
		if l := c.line(); l != want+"\r\n" {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
	for user, pass := range map[string]string{"root": "toor", "admin": "s3cret"} {
		f := waitEvent(t, ev, event.TypeAuth, event.FieldUsername, user)
		if f[event.FieldPassword] != pass || f[event.FieldSuccess] != "false" || f["refused"] == "" {
			t.Errorf("auth event %v", f)
		}
	}
	if len(w.all()) != 0 {
		t.Errorf("refusals waited %v", w.all())
	}
}

// TestTimeouts: pop3-login drops a client that has not logged in in time,
// and pop3 an idle one, each with Dovecot's words.
func TestTimeouts(t *testing.T) {
	s, ev, _ := newTestServer(t, nil)
	s.loginTimeout = 200 * time.Millisecond
	addr, _ := serve(t, s, addrSession)
	c := dial(t, addr)
	c.line()
	rest, _ := io.ReadAll(c.r)
	if string(rest) != "-ERR Disconnected for inactivity.\r\n" {
		t.Errorf("before login: got %q", rest)
	}
	waitEvent(t, ev, event.TypeDisconnect, "reason", "login timeout")

	s, ev, _ = newTestServer(t, nil)
	s.limits.Idle = 500 * time.Millisecond
	addr, _ = serve(t, s, addrSession)
	c = dial(t, addr)
	// Sent at once, so that only the wait after the login is idle.
	c.send("USER admin\r\nPASS admin123\r\n")
	for _, want := range []string{"+OK Dovecot (Debian) ready.\r\n", "+OK\r\n", replyLoggedIn + "\r\n"} {
		if l := c.line(); l != want {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
	rest, _ = io.ReadAll(c.r)
	if string(rest) != "-ERR Disconnected for inactivity.\r\n" {
		t.Errorf("after login: got %q", rest)
	}
	waitEvent(t, ev, event.TypeDisconnect, "reason", "idle")
}

// TestFetch: RETR's and TOP's output of messages that are not clean
// CRLF text: bare LFs get their CR, leading dots are doubled, a last line
// without its end gets one, and TOP counts body lines after the header.
func TestFetch(t *testing.T) {
	tests := []struct {
		raw   string
		lines uint64
		want  string
	}{
		{"A: b\n\n.x\ny", allLines, "A: b\r\n\r\n..x\r\ny\r\n.\r\n"},
		{"A: b\r\n\r\n1\r\n2\r\n3\r\n", 2, "A: b\r\n\r\n1\r\n2\r\n.\r\n"},
		{"A: b\r\n\r\n1\r\n", 0, "A: b\r\n\r\n.\r\n"},
		{"A: b\r\n", 0, "A: b\r\n.\r\n"},
		{"", allLines, "\r\n.\r\n"},
		{".A: b\r\n\r\n.\r\n", allLines, ".A: b\r\n\r\n..\r\n.\r\n"},
	}
	for _, tc := range tests {
		if got := string(fetch([]byte(tc.raw), tc.lines)); got != tc.want {
			t.Errorf("fetch(%q, %d) = %q, want %q", tc.raw, tc.lines, got, tc.want)
		}
		if strings.Count(tc.raw, "\n") > 0 && virtualSize([]byte(tc.raw)) < len(tc.raw) {
			t.Errorf("virtual size of %q below its length", tc.raw)
		}
	}
}

// TestAPOPChallenge: the timestamp names the auth process, counts its
// connections and starts again under a new pid once it was idle-killed.
func TestAPOPChallenge(t *testing.T) {
	a := newAuthProcess("decky-mail")
	now := time.Unix(1_800_000_000, 0)
	pid1, uid1 := a.connect(now)
	pid2, uid2 := a.connect(now.Add(30 * time.Second))
	pid3, uid3 := a.connect(now.Add(2 * time.Minute))
	if pid1 != pid2 || uid1 != 1 || uid2 != 2 || pid3 == pid1 || uid3 != 1 {
		t.Errorf("connections (%d,%d) (%d,%d) (%d,%d)", pid1, uid1, pid2, uid2, pid3, uid3)
	}
	if other, _ := newAuthProcess("decky-other").connect(now); other == pid1 {
		t.Errorf("two deckies share the auth pid %d", pid1)
	}
	ch, err := apopChallenge(pid1, uid1, now, "mail01")
	if err != nil || !reChallenge.MatchString(ch) || !strings.HasSuffix(ch, "@mail01>") {
		t.Errorf("challenge %q, %v", ch, err)
	}
}
