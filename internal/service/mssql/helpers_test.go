package mssql

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testAddr is the loopback address of this package's tests (the batch's
// range 127.0.103.0/24).
const testAddr = "127.0.103.1"

// testHost is the decky of every test server.
var testHost = service.Host{Name: "decky-sql", Hostname: "SQL-PROD-01", OS: "windows", IP: testAddr}

// newTestServer builds a server for persona p, recording its events, with
// its certificate in a temporary data directory.
func newTestServer(t testing.TB, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	ev := &testutil.Events{}
	h := testHost
	h.DataDir = t.TempDir()
	srv, err := Service{}.New(service.Config{Host: h, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	return srv.(*Server), ev
}

// serve serves s on a fresh port of addr and returns where.
func serve(t testing.TB, s *Server, addr string) string {
	t.Helper()
	return servicetest.ServeTCP(t, s, addr, Port)
}

// drive runs one session that reads in and returns what it wrote.
func drive(t testing.TB, s *Server, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	ss := &session{srv: s, conn: fakeConn{r: bytes.NewReader(in), w: &out},
		fields: map[string]string{event.FieldSrcIP: "192.0.2.1"}}
	ss.run(context.Background())
	return out.Bytes()
}

// fakeConn is a net.Conn over a reader and a writer, for driving a
// session without sockets.
type fakeConn struct {
	r interface{ Read([]byte) (int, error) }
	w interface{ Write([]byte) (int, error) }
}

func (c fakeConn) Read(b []byte) (int, error)     { return c.r.Read(b) }
func (c fakeConn) Write(b []byte) (int, error)    { return c.w.Write(b) }
func (fakeConn) Close() error                     { return nil }
func (fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.ParseIP(testAddr), Port: Port} }
func (fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 50000} }
func (fakeConn) SetDeadline(time.Time) error      { return nil }
func (fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (fakeConn) SetWriteDeadline(time.Time) error { return nil }

// obfuscate is LOGIN7's password scrambling, as clients do it: each
// byte's nibbles swapped, then XOR 0xA5.
func obfuscate(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = (c<<4 | c>>4) ^ 0xa5
	}
	return out
}
