package smb

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testServer builds a server for a decky named decky1 with hostname
// FILESRV01 and the given OS family and persona.
func testServer(t testing.TB, os string, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if p == nil {
		p = &Persona{}
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	s, err := newServer(service.Config{
		Host: service.Host{Name: "decky1", Hostname: "filesrv01", OS: os, Distro: "debian"},
		Emit: ev,
	}, p)
	if err != nil {
		t.Fatal(err)
	}
	// Fixed randomness makes session ids, challenges and FileIds repeat
	// from run to run, so that a captured client stream replays against a
	// fresh server (the fuzz seeds).
	s.random = &fixedRandom{}
	return s, ev
}

// recorder keeps the SMB messages clients send, to seed the fuzz corpora.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) add(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, bytes.Clone(b))
}

func (r *recorder) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

// tapConn copies what the client sends into a recorder, frame by frame.
type tapConn struct {
	net.Conn
	rec *recorder
	buf []byte
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.buf = append(c.buf, b[:n]...)
	for len(c.buf) >= 4 {
		l := int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3])
		if len(c.buf) < 4+l {
			break
		}
		c.rec.add(c.buf[:4+l])
		c.buf = c.buf[4+l:]
	}
	return n, err
}

type tapListener struct {
	net.Listener
	rec *recorder
}

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: c, rec: l.rec}, nil
}

// serve serves s on addr (host:port) as the given declared port until the
// test ends, recording what clients send; it returns the bound address.
func serve(t testing.TB, s *Server, addr string, port int) (string, *recorder) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	servicetest.Serve(t, s, service.Listeners{TCP: map[int]net.Listener{port: tapListener{ln, rec}}})
	return ln.Addr().String(), rec
}

// fixedRandom is a deterministic randomness source for golden bytes.
type fixedRandom struct{ b byte }

func (r *fixedRandom) Read(p []byte) (int, error) {
	for i := range p {
		r.b++
		p[i] = r.b
	}
	return len(p), nil
}

var _ io.Reader = (*fixedRandom)(nil)

// fieldsOf returns the fields of the events of one type.
func fieldsOf(ev *testutil.Events, typ string) []map[string]string {
	var out []map[string]string
	for _, e := range ev.OfType(typ) {
		out = append(out, e.Fields)
	}
	return out
}

// dump logs every event, to see what a client did when a test fails.
func dump(t testing.TB, ev *testutil.Events) {
	t.Helper()
	for _, e := range ev.All() {
		if e.Type == event.TypeConnect || e.Type == event.TypeDisconnect {
			continue
		}
		t.Logf("%s %v", e.Type, e.Fields)
	}
}
