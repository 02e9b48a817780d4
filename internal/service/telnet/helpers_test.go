package telnet

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// botClient is a scripted client that negotiates like a common IoT bot:
// it lets the server echo and suppress go-ahead, sends its window size,
// and refuses everything else. Its IAC parsing is deliberately its own,
// not the server's.
type botClient struct {
	t   testing.TB
	c   net.Conn
	buf []byte // text received, IAC sequences removed
	raw []byte // everything received
	// sb, when set, makes the client accept the options it has keys for
	// and answer their SEND with the value (the bytes after IS).
	sb map[byte][]byte
}

func dialBot(t testing.TB, addr string) *botClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &botClient{t: t, c: c}
}

func (b *botClient) answer(cmd, opt byte) []byte {
	switch {
	case cmd == cmdDO && opt == optNAWS:
		return []byte{cmdIAC, cmdWILL, optNAWS, cmdIAC, cmdSB, optNAWS, 0, 100, 0, 30, cmdIAC, cmdSE}
	case cmd == cmdDO && b.sb[opt] != nil:
		return []byte{cmdIAC, cmdWILL, opt}
	case cmd == cmdDO:
		return []byte{cmdIAC, cmdWONT, opt}
	case cmd == cmdWILL && (opt == optEcho || opt == optSGA):
		return []byte{cmdIAC, cmdDO, opt}
	case cmd == cmdWILL:
		return []byte{cmdIAC, cmdDONT, opt}
	}
	return nil
}

// readSome reads what is there, answering negotiation.
func (b *botClient) readSome(d time.Duration) error {
	p := make([]byte, 4096)
	b.c.SetReadDeadline(time.Now().Add(d))
	n, err := b.c.Read(p)
	p = p[:n]
	b.raw = append(b.raw, p...)
	for i := 0; i < len(p); i++ {
		if p[i] != cmdIAC || i+1 >= len(p) {
			if p[i] != 0 {
				b.buf = append(b.buf, p[i])
			}
			continue
		}
		switch p[i+1] {
		case cmdDO, cmdDONT, cmdWILL, cmdWONT:
			if i+2 < len(p) {
				if r := b.answer(p[i+1], p[i+2]); r != nil {
					b.c.Write(r)
				}
			}
			i += 2
		case cmdSB:
			j := bytes.Index(p[i:], []byte{cmdIAC, cmdSE})
			if j < 0 {
				j = len(p) - i - 2
			}
			if j >= 4 && p[i+3] == qualSEND && b.sb[p[i+2]] != nil {
				r := append([]byte{cmdIAC, cmdSB, p[i+2], qualIS}, b.sb[p[i+2]]...)
				b.c.Write(append(r, cmdIAC, cmdSE))
			}
			i += j + 1
		case cmdIAC:
			b.buf = append(b.buf, cmdIAC)
			i++
		default:
			i++
		}
	}
	return err
}

// expect reads until the text holds s, and returns the text up to and
// including it.
func (b *botClient) expect(s string) string {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if i := strings.Index(string(b.buf), s); i >= 0 {
			out := string(b.buf[:i+len(s)])
			b.buf = b.buf[i+len(s):]
			return out
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %q; got %q", s, b.buf)
		}
		if err := b.readSome(time.Until(deadline)); err != nil && !isTimeout(err) {
			b.t.Fatalf("waiting for %q: %v; got %q", s, err, b.buf)
		}
	}
}

// expectClose reads until the server closes the connection.
func (b *botClient) expectClose() string {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := b.readSome(time.Until(deadline)); err == io.EOF {
			return string(b.buf)
		}
	}
	b.t.Fatalf("the server did not close; got %q", b.buf)
	return ""
}

func (b *botClient) send(s string) {
	if _, err := b.c.Write([]byte(s)); err != nil {
		b.t.Fatal(err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// serve starts a test server for persona p and returns its address.
func serve(t *testing.T, p *Persona) (*Server, *testutil.Events, string) {
	t.Helper()
	srv, ev := newTestServer(t, p)
	return srv, ev, servicetest.ServeTCP(t, srv, "127.0.0.1", 23)
}

// fieldsOf returns the field k of the events of type typ, in order.
func fieldsOf(ev *testutil.Events, typ, k string) []string {
	var out []string
	for _, e := range ev.OfType(typ) {
		out = append(out, e.Fields[k])
	}
	return out
}

// hasPeer reports whether every event of type typ carries the peer fields.
func hasPeer(ev *testutil.Events, typ string) bool {
	es := ev.OfType(typ)
	for _, e := range es {
		if e.Fields[event.FieldSrcIP] != "127.0.0.1" || e.Fields[event.FieldSrcPort] == "" || e.Fields[event.FieldSession] == "" {
			return false
		}
	}
	return len(es) > 0
}
