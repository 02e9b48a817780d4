package pop3

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.113.0/24.
const (
	addrSession = "127.0.113.10" // transcripts
	addrClients = "127.0.113.20" // real clients
	addrHydra   = "127.0.113.21"
	addrNmap    = "127.0.113.30"
	addrDovecot = "127.0.113.66" // the real Dovecot of the differential test
	addrOurs    = "127.0.113.67" // the honeypot beside it
)

// testHost is the decky the tests serve.
var testHost = service.Host{Name: "decky-mail", Hostname: "mail01.corp.example", OS: "linux", Distro: "debian", IP: addrSession}

// waits records the pauses a server asked for, without taking them.
type waits struct {
	mu sync.Mutex
	ds []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) bool {
	w.mu.Lock()
	w.ds = append(w.ds, d)
	w.mu.Unlock()
	return ctx.Err() == nil
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.ds...)
}

// newTestServer builds a server for persona p (nil: the defaults) whose
// waits are recorded rather than taken.
func newTestServer(t testing.TB, p *Persona) (*Server, *testutil.Events, *waits) {
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
	s, err := newServer(service.Config{Host: h, Persona: p, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	s.wait = w.wait
	return s, ev, w
}

// serve runs s on free ports of ip until the test ends, and returns the
// addresses of 110 and 995.
func serve(t testing.TB, s *Server, ip string) (pop3Addr, pop3sAddr string) {
	t.Helper()
	addrs := servicetest.ServeTCPPorts(t, s, ip, PortPOP3, PortPOP3S)
	return addrs[PortPOP3], addrs[PortPOP3S]
}

// client is a line-level POP3 client for transcripts.
type client struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c := testutil.Dial(t, addr, 30*time.Second)
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// line reads one reply line with its CRLF.
func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

// multi reads a multi-line reply up to its dot line, inclusive.
func (c *client) multi() string {
	c.t.Helper()
	var b strings.Builder
	for {
		l := c.line()
		b.WriteString(l)
		if l == ".\r\n" {
			return b.String()
		}
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// waitEvent waits for an event of type typ whose field key is value.
func waitEvent(t testing.TB, ev *testutil.Events, typ, key, value string) map[string]string {
	t.Helper()
	var got []event.Event
	testutil.Eventually(t, typ+" event with "+key+"="+value, func() bool {
		got = ev.With(typ, key, value)
		return len(got) > 0
	})
	return got[len(got)-1].Fields
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
