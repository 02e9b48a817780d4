package ftp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testNow is the clock of test servers: listings and bait dates are
// fixed by it.
var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// newTestServer builds a server for decky "decky-ftp" with persona keys
// applied on the defaults; failed logins answer at once.
func newTestServer(t testing.TB, distro string, keys map[string]string) (*Server, *testutil.Events) {
	t.Helper()
	p := defaultPersona()
	if err := service.DecodePersona(p, keys); err != nil {
		t.Fatal(err)
	}
	evs := &testutil.Events{}
	srv, err := newServer(service.Config{Host: service.Host{Name: "decky-ftp", Hostname: "files01", Distro: distro,
		IP: "127.0.0.1", DataDir: t.TempDir()}, Persona: p, Emit: evs}, p, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	srv.failDelay = func(bool) time.Duration { return 0 }
	return srv, evs
}

// serve serves srv on a loopback address until the test ends.
func serve(t testing.TB, srv *Server) string {
	t.Helper()
	return servicetest.ServeTCP(t, srv, "127.0.0.1", Port)
}

// client is a minimal FTP client that sees the raw reply lines.
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

// line reads one reply line without its CRLF, or "EOF".
func (c *client) line() string {
	c.t.Helper()
	s, err := c.r.ReadString('\n')
	if err == io.EOF && s == "" {
		return "EOF"
	}
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, s)
	}
	if !strings.HasSuffix(s, "\r\n") {
		c.t.Fatalf("reply line %q does not end in CRLF", s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

// reply reads a whole reply (multi-line ones to their last line).
func (c *client) reply() string {
	c.t.Helper()
	first := c.line()
	out := first
	if len(first) >= 4 && first[3] == '-' {
		for {
			l := c.line()
			out += "\n" + l
			if l == "EOF" || (len(l) >= 4 && l[:3] == first[:3] && l[3] == ' ') {
				break
			}
		}
	}
	return out
}

func (c *client) send(cmd string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(cmd + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a command and returns its reply.
func (c *client) cmd(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	return c.reply()
}

// login reads the greeting and logs in.
func (c *client) login(user, pass string) {
	c.t.Helper()
	if g := c.reply(); !strings.HasPrefix(g, "220 ") {
		c.t.Fatalf("greeting %q", g)
	}
	c.cmd("USER " + user)
	if r := c.cmd("PASS " + pass); r != "230 Login successful." {
		c.t.Fatalf("login %s: %q", user, r)
	}
}

var pasvRE = regexp.MustCompile(`^227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)\.$`)

// pasv enters passive mode and connects to the data port.
func (c *client) pasv() net.Conn {
	c.t.Helper()
	r := c.cmd("PASV")
	m := pasvRE.FindStringSubmatch(r)
	if m == nil {
		c.t.Fatalf("PASV: %q", r)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	d, err := net.Dial("tcp", fmt.Sprintf("%s.%s.%s.%s:%d", m[1], m[2], m[3], m[4], p1<<8|p2))
	if err != nil {
		c.t.Fatal(err)
	}
	d.SetDeadline(time.Now().Add(20 * time.Second))
	return d
}

// get runs a download command over a passive connection: the data and
// the final reply.
func (c *client) get(cmd string) (string, string) {
	c.t.Helper()
	d := c.pasv()
	defer d.Close()
	mark := c.cmd(cmd)
	if !strings.HasPrefix(mark, "150 ") {
		return "", mark
	}
	b, err := io.ReadAll(d)
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b), c.reply()
}

// put uploads data with cmd over a passive connection and returns the
// final reply.
func (c *client) put(cmd string, data []byte) string {
	c.t.Helper()
	d := c.pasv()
	mark := c.cmd(cmd)
	if !strings.HasPrefix(mark, "150 ") {
		d.Close()
		return mark
	}
	d.Write(data)
	d.Close()
	return c.reply()
}
