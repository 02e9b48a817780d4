package imap

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"decnet/internal/event"
)

// nmapGetRequest is nmap's GetRequest probe, which names Dovecot.
var nmapGetRequest = []byte("GET / HTTP/1.0\r\n\r\n")

// FuzzParser feeds arbitrary bytes to the command reader (tags, atoms,
// quoted strings, literals, lists) and every argument parser behind it:
// sequence sets, FETCH attribute lists and sections, search keys.
// Seeds: curl, imaplib and nmap streams (testdata, made by
// TestCaptureSeeds).
func FuzzParser(f *testing.F) {
	f.Add(nmapGetRequest)
	f.Add([]byte("a1 LOGIN {5}\r\nadmin {8+}\r\nadmin123\r\na2 FETCH 1:*,3 (BODY.PEEK[HEADER.FIELDS (FROM)]<0.10> FLAGS)\r\na3 SEARCH OR (FROM x) NOT SUBJECT {3+}\r\nabc UID 1:5\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := &reader{r: bufio.NewReader(bytes.NewReader(data)), lim: postLoginLimits, cont: func() error { return nil }}
		for range 64 {
			cmd, err := rd.read()
			if err != nil {
				return
			}
			if cmd.err != nil {
				continue
			}
			_ = render(cmd.args)
			for i, a := range cmd.args {
				if a.kind == atom {
					if set, err := parseSeqSet(a.s); err == nil {
						set.contains(3, 10)
					}
				}
				if items, err := parseFetchItems(a); err == nil {
					for _, it := range items {
						_ = it.sectionText()
					}
				}
				sp := &searchParser{args: cmd.args[i:], last: 10, lastUID: 20}
				if m, err := sp.keys(0); err == nil {
					m(&message{}, 1)
				}
			}
		}
	})
}

// FuzzSession runs whole client streams through a session: reading,
// pre-login commands and SASL, then (after the seeds' logins) every
// mailbox command over the bait. It must never panic or hang.
func FuzzSession(f *testing.F) {
	f.Add(nmapGetRequest)
	f.Add([]byte("a1 LOGIN admin admin123\r\na2 SELECT INBOX\r\na3 FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY[] BODY[1.MIME])\r\na4 STORE 2 +FLAGS (\\Deleted)\r\na5 EXPUNGE\r\na6 IDLE\r\nDONE\r\na7 LOGOUT\r\n"))
	s, _ := newTestServer(f, nil)
	s.cfg.Emit = event.EmitterFunc(func(event.Event) {})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ss := newSession(s, &streamConn{r: bytes.NewReader(data)}, map[string]string{event.FieldSrcIP: "127.0.112.2"})
		defer ss.stop()
		ss.run(ctx)
	})
}

// streamConn is a connection whose client sends r and ignores answers.
type streamConn struct {
	r io.Reader
}

func (c *streamConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error) { return len(b), nil }
func (c *streamConn) Close() error                { return nil }
func (c *streamConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 112, 1), Port: PortIMAP}
}
func (c *streamConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 112, 2), Port: 40000}
}
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
