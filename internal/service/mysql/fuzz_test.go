package mysql

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// FuzzParseResponse feeds login packets (seeds: the mariadb client's
// HandshakeResponse41 and SSLRequest, and its answers to a MySQL 8
// server) to the parser, which must stay within the packet and its
// bounds.
func FuzzParseResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, p []byte) {
		res, err := parseResponse(p)
		if err != nil {
			return
		}
		if len(res.user) > len(p) || len(res.auth) > len(p) || len(res.attrs) > maxAttrs || len(res.attrKeys) != len(res.attrs) {
			t.Fatalf("out of bounds: %+v", res)
		}
		for k, v := range res.attrs {
			if len(k) > maxAttrLen || len(v) > maxAttrLen {
				t.Fatalf("attribute not clipped: %q=%q", k, v)
			}
		}
	})
}

// FuzzSession runs whole connections from the client's bytes (seeds: the
// mariadb client's streams), for both products.
func FuzzSession(f *testing.F) {
	servers := []*Server{}
	for _, keys := range []map[string]string{{"users": "app:app"}, {"product": "mysql", "users": "app:app", "ssl": "false"}} {
		s, _ := newTestServer(f, keys)
		servers = append(servers, s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, s := range servers {
			converseRaw(t, s, in)
		}
	})
}

// FuzzCommands feeds command packets (seeds: the mariadb client's
// queries) to a logged-in session.
func FuzzCommands(f *testing.F) {
	s, _ := newTestServer(f, map[string]string{"users": "app:app"})
	res, err := parseResponse(testutil.Hex(mariadbLogin))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ss := &session{s: s, conn: &fakeConn{r: bytes.NewReader(in)}, fields: map[string]string{}, host: "localhost", res: res, user: "app"}
		ss.commands(context.Background())
	})
}

// converseRaw runs one connection of s with in as the client's bytes,
// then the end of the stream, and returns what the server sent.
func converseRaw(t testing.TB, s *Server, in []byte) []byte {
	t.Helper()
	c := &fakeConn{r: bytes.NewReader(in)}
	s.serve(context.Background(), c, map[string]string{})
	return c.w.Bytes()
}

// fakeConn is a connection whose peer sent r and then closed.
type fakeConn struct {
	r io.Reader
	w bytes.Buffer
}

func (c *fakeConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *fakeConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c *fakeConn) Close() error                { return nil }
func (c *fakeConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 101, 1), Port: Port}
}
func (c *fakeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 101, 2), Port: 40000}
}
func (c *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
