package smtp

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.111.0/24.
const (
	addrDialogue = "127.0.111.10"
	addrClients  = "127.0.111.20"
	addrNmap     = "127.0.111.30"
)

// testHost is the decky of the tests: its mail domain is corp.example.
var testHost = service.Host{Name: "decky-mail", Hostname: "mx1.corp.example", OS: "linux", Distro: "debian"}

// start serves the smtp (relay false) or smtp_relay service of persona
// keys on fresh ports of ip, without the failure penalty or error sleep,
// changed further by tweaks, and returns the addresses by declared port.
func start(t *testing.T, ip string, relay bool, keys map[string]string, tweaks ...func(*Server)) (map[int]string, *testutil.Events) {
	t.Helper()
	var svc service.Service = Service{}
	if relay {
		svc = RelayService{}
	}
	h := testHost
	h.DataDir = t.TempDir()
	srv, ev := servicetest.New(t, svc, h, keys)
	s := srv.(*Server)
	s.authDelay = func(int) time.Duration { return 0 }
	s.errSleep = 0
	for _, f := range tweaks {
		f(s)
	}
	return servicetest.ServeTCPPorts(t, s, ip, PortSMTP, PortSubmission, PortSMTPS), ev
}

// client is a raw SMTP dialogue.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	c := testutil.Dial(t, addr, 20*time.Second)
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// reply reads one whole (multi-line) reply.
func (c *client) reply() string {
	c.t.Helper()
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			b.WriteString("<EOF>")
			return b.String()
		}
		if len(l) < 4 || l[3] != '-' {
			return b.String()
		}
	}
}

// send writes a line and returns the reply.
func (c *client) send(line string) string {
	c.t.Helper()
	if _, err := c.c.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.reply()
}

// tlsClient runs a TLS handshake on c after STARTTLS's 220.
func tlsClient(t *testing.T, c *client) *client {
	t.Helper()
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, c: tc, r: bufio.NewReader(tc)}
}
