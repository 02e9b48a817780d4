package imap

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.112.0/24.
const (
	addrServer  = "127.0.112.10"
	addrClients = "127.0.112.20"
	addrNmap    = "127.0.112.30"
	addrReal    = "127.0.112.66" // the real Dovecot of the differential test
	addrFuzz    = "127.0.112.40"
)

// testNow is the clock of test servers.
var testNow = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// testHost is the decky the tests serve.
var testHost = service.Host{Name: "decky-mail", Hostname: "mail01", OS: "linux", Distro: "debian", IP: "10.20.30.40"}

// newTestServer builds a server for persona p (nil: the defaults) with
// a pinned clock and no login delays.
func newTestServer(t testing.TB, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if p == nil {
		p = defaultPersona().(*Persona)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	h := testHost
	h.DataDir = t.TempDir()
	ev := &testutil.Events{}
	s, err := newServer(service.Config{Host: h, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	s.failDelay = func() time.Duration { return 0 }
	s.penaltyDelay = func(int) time.Duration { return 0 }
	return s, ev
}

// serve runs s on ip (free ports) until the test ends and returns the
// addresses of 143 and 993.
func serve(t testing.TB, s *Server, ip string) (imapAddr, imapsAddr string) {
	t.Helper()
	addrs := servicetest.ServeTCPPorts(t, s, ip, PortIMAP, PortIMAPS)
	return addrs[PortIMAP], addrs[PortIMAPS]
}

// client is a raw IMAP connection for scripted exchanges.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c := testutil.Dial(t, addr, 20*time.Second)
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

func dialTLS(t testing.TB, addr string) *client {
	t.Helper()
	c := testutil.Dial(t, addr, 20*time.Second)
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	return &client{t: t, conn: tc, r: bufio.NewReader(tc)}
}

// line reads one response line with its CRLF.
func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

// send writes raw bytes.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// until reads lines up to and including the one starting with prefix
// (a tag and a space), with literals read whole, and returns them.
func (c *client) until(prefix string) string {
	c.t.Helper()
	var b strings.Builder
	for {
		l := c.line()
		b.WriteString(l)
		if n, ok := literalSize(l); ok {
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.r, buf); err != nil {
				c.t.Fatal(err)
			}
			b.Write(buf)
			continue
		}
		if strings.HasPrefix(l, prefix) {
			return b.String()
		}
	}
}

// cmd sends "tag command" and returns the response through the tagged
// line.
func (c *client) cmd(tag, command string) string {
	c.t.Helper()
	c.send(tag + " " + command + "\r\n")
	return c.until(tag + " ")
}

// literalSize reports the size of the literal that ends a line.
func literalSize(l string) (int, bool) {
	l = strings.TrimSuffix(l, "\r\n")
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n := 0
	for _, ch := range l[i+1 : len(l)-1] {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

// login logs in as admin and selects INBOX.
func (c *client) login() {
	c.t.Helper()
	c.line() // greeting
	if r := c.cmd("l1", "LOGIN admin admin123"); !strings.Contains(r, "l1 OK") {
		c.t.Fatalf("login: %q", r)
	}
}

// timings matches Dovecot's "(0.001 + 0.000 secs)".
var timings = regexp.MustCompile(`\(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)`)

// dialTLSOver starts TLS on c after STARTTLS.
func dialTLSOver(t testing.TB, c *client) *client {
	t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	return &client{t: t, conn: tc, r: bufio.NewReader(tc)}
}
