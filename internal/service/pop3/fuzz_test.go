package pop3

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
)

// FuzzCommand feeds a line to every parser of the command layer:
// pop3-login's split and AUTH's, APOP's arguments, pop3's split, and the
// message-number and size arguments, which must never panic and keep
// their results within the line. Seeds: the lines of curl, poplib,
// fetchmail, hydra and nmap (testdata, from TestCaptureSeeds).
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"CAPA\r\n", "USER admin\r\n", "AUTH PLAIN AGFkbWluAGFkbWluMTIz\r\n", "TOP 1 10\r\n", "LIST 99999999999x\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if name, rest, ok := splitLogin(line); ok {
			if len(name) > maxLoginName || len(rest) > len(line) {
				t.Fatalf("splitLogin(%q) = %q, %q", line, name, rest)
			}
			loginArgs(rest)
			if mech, ir, _ := splitAuth(rest); len(mech)+len(ir) > len(rest) {
				t.Fatalf("splitAuth(%q) = %q, %q", rest, mech, ir)
			}
			parseAPOP(loginArgs(rest))
		}
		name, args := splitCommand(trimEOL(line))
		if len(name)+len(args) > len(line) {
			t.Fatalf("splitCommand(%q) = %q, %q", line, name, args)
		}
		deleted := func(i int) bool { return i == 2 }
		if i, rest, errReply := msgArg(args, 10, deleted, true); errReply == "" {
			if i < 0 || i >= 10 || i == 2 {
				t.Fatalf("msgArg(%q) = %d", args, i)
			}
			sizeArg(rest)
		}
		if i, _, errReply := msgArg(args, 10, deleted, false); errReply == "" && (i < 0 || i >= 10) {
			t.Fatalf("msgArg(%q) = %d", args, i)
		}
		if strings.ContainsAny(name, "\x00") {
			t.Fatalf("command name %q holds a NUL", name)
		}
	})
}

// FuzzSASL decodes a SASL response and splits it as PLAIN, and checks
// that a well-formed PLAIN message round-trips.
func FuzzSASL(f *testing.F) {
	for _, s := range []string{"AGFkbWluAGFkbWluMTIz", "YWRtaW4=", "=", "*", "!!!", "dGVzdA"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		b, err := decodeSASL(string(resp))
		if err != nil {
			return
		}
		authz, user, pass, ok := plainCreds(b)
		if ok && authz+"\x00"+user+"\x00"+pass != string(b) {
			t.Fatalf("plainCreds(%q) = %q, %q, %q", b, authz, user, pass)
		}
	})
}

// FuzzSession runs whole client streams through a session of the
// default persona and of one with APOP and plaintext logins disabled:
// framing, both states, SASL, APOP and the maildrop commands must never
// panic or hang. Seeds: whole connections of the real clients.
func FuzzSession(f *testing.F) {
	f.Add([]byte("CAPA\r\nUSER admin\r\nPASS admin123\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 3\r\nRETR 2\r\nDELE 1\r\nRSET\r\nQUIT\r\n"))
	var servers []*Server
	apop := defaultPersona().(*Persona)
	apop.Mechanisms, apop.DisablePlaintextAuth = []string{"plain", "login", "apop"}, true
	for _, p := range []*Persona{nil, apop} {
		s, _, _ := newTestServer(f, p)
		s.cfg.Emit = event.EmitterFunc(func(event.Event) {})
		servers = append(servers, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range servers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ss := newSession(s, &streamConn{r: bytes.NewReader(data)})
			ss.run(ctx)
			ss.stop()
			cancel()
		}
	})
}

// streamConn is a connection whose client sends r and ignores answers.
type streamConn struct {
	r io.Reader
}

func (c *streamConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) CloseWithReason(string) error     { return nil }
func (c *streamConn) Fields() map[string]string        { return map[string]string{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
func (c *streamConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 113, 1), Port: PortPOP3}
}
func (c *streamConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 113, 2), Port: 40000}
}
