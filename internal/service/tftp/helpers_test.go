package tftp

import (
	"net"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testFiles are the files of the reference captures of tftpd-hpa
// (../shared/personas/real-products.md §14, and the probes replayed in
// TestGolden): /srv/tftp held these.
func testFiles() map[string]string {
	big := make([]byte, 1500)
	for i := range big {
		big[i] = byte(i * 7)
	}
	return map[string]string{
		"hello.txt":            "hello\n",
		"big.bin":              string(big),
		"k1.bin":               string(make([]byte, 1024)),
		"pxelinux.cfg/default": "DEFAULT local\n",
	}
}

// testHost is a decky for tests.
func testHost(t testing.TB) service.Host {
	return service.Host{Name: "decky-01", Hostname: "SRV-FILES-42", Distro: "debian", OS: "linux",
		IP: "10.20.30.40", DataDir: t.TempDir()}
}

// newTestServer builds a server for host with persona p (nil: the
// default with testFiles and no generated bait).
func newTestServer(t testing.TB, host service.Host, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if p == nil {
		p = defaultPersona().(*Persona)
		p.Bait = baitNone
		p.Files = testFiles()
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	s, err := newServer(service.Config{Host: host, Persona: p, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	return s, ev
}

// serve runs s on a UDP listener of its own on ip (a port of the kernel's
// choosing) until the test ends, and returns the listener's address.
func serve(t *testing.T, s *Server, ip string) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Serve(t, s, service.Listeners{UDP: map[int]net.PacketConn{Port: pc}})
	return pc.LocalAddr().(*net.UDPAddr)
}

// client is a raw TFTP client socket on the loopback.
type client struct {
	t    *testing.T
	conn *net.UDPConn
}

func newClient(t *testing.T) *client {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c}
}

func (c *client) send(to *net.UDPAddr, p []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDP(p, to); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next datagram within wait, nil when none comes.
func (c *client) recv(wait time.Duration) ([]byte, *net.UDPAddr) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 70000)
	n, from, err := c.conn.ReadFromUDP(buf)
	if err != nil {
		return nil, nil
	}
	return buf[:n], from
}

// mustRecv is recv that fails the test when nothing comes.
func (c *client) mustRecv(what string) ([]byte, *net.UDPAddr) {
	c.t.Helper()
	p, from := c.recv(2 * time.Second)
	if p == nil {
		c.t.Fatalf("%s: no reply", what)
	}
	return p, from
}

// rrq and wrq build requests: name, mode, then option name/value pairs.
func rrq(strs ...string) []byte { return req(opRRQ, strs...) }
func wrq(strs ...string) []byte { return req(opWRQ, strs...) }

func req(op byte, strs ...string) []byte {
	b := []byte{0, op}
	for _, s := range strs {
		b = append(append(b, s...), 0)
	}
	return b
}

// lastOf returns the last event of typ, failing when there is none.
func lastOf(t *testing.T, ev *testutil.Events, typ string) event.Event {
	t.Helper()
	all := ev.OfType(typ)
	if len(all) == 0 {
		t.Fatalf("no %s event", typ)
	}
	return all[len(all)-1]
}

// waitFor waits for the n-th event of typ.
func waitFor(t *testing.T, ev *testutil.Events, typ string, n int) event.Event {
	t.Helper()
	testutil.Eventually(t, typ+" event", func() bool { return len(ev.OfType(typ)) >= n })
	return ev.OfType(typ)[n-1]
}
