package smtp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// FuzzCommand: the command line parsers never panic, and what parsePath
// returns is bounded by its input.
func FuzzCommand(f *testing.F) {
	f.Add([]byte("MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME"))
	f.Add([]byte(`RCPT TO:<@a,@b:"x y"@vm> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x@y`))
	f.Add([]byte("BDAT 5 LAST"))
	f.Fuzz(func(t *testing.T, data []byte) {
		line, _ := readLine(bufio.NewReader(bytes.NewReader(append(data, '\n'))))
		verb, arg := splitCommand(line)
		isHeader(line)
		for _, prefix := range []string{"FROM:", "TO:"} {
			if p, err := parsePath(arg, prefix); err == nil && len(p.addr) > len(arg) {
				t.Fatalf("address %q longer than %q", p.addr, arg)
			}
		}
		parseBDAT(arg)
		if strings.ToUpper(verb) != verb {
			t.Fatalf("verb %q not upper case", verb)
		}
	})
}

// FuzzAuth: SASL responses decode without panics.
func FuzzAuth(f *testing.F) {
	f.Add([]byte("\x00alice\x00secret"))
	f.Add([]byte("alice 0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodePlain(data)
		if c, err := decodeCRAM("<1.2@h>", data); err == nil && !strings.HasPrefix(c.hash, "$cram_md5$") {
			t.Fatalf("hash %q", c.hash)
		}
		decodeB64(string(data))
	})
}

// FuzzData: the DATA reader holds at most keep bytes and never holds
// more than it counted.
func FuzzData(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\n..dot\r\n.\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, keep := range []int{0, 7, 1 << 20} {
			m, _ := readData(bufio.NewReaderSize(bytes.NewReader(data), 16), keep)
			if len(m.raw) > keep || int64(len(m.raw)) > m.size || m.size > int64(len(data)) {
				t.Fatalf("keep %d: held %d of %d from %d bytes", keep, len(m.raw), m.size, len(data))
			}
		}
	})
}

// FuzzMIME: attachment extraction never panics and finds at most
// maxParts files.
func FuzzMIME(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=a.txt\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p := extract(data); len(p.attachments) > maxParts {
			t.Fatalf("%d attachments", len(p.attachments))
		}
	})
}

// FuzzSession runs whole client streams through both services' sessions
// on every port kind, with AUTH, messages and MIME all reached.
func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO x\r\nAUTH PLAIN AGEAYg==\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n"))
	var servers []*Server
	for _, relay := range []bool{false, true} {
		p := defaultPersona().(*Persona)
		p.AuthMechanisms = knownMechs
		p.Validate()
		h := testHost
		h.DataDir = f.TempDir()
		s, err := newServer(service.Config{Host: h, Emit: event.EmitterFunc(func(event.Event) {})}, Slug, p, relay)
		if err != nil {
			f.Fatal(err)
		}
		s.authDelay = func(int) time.Duration { return 0 }
		s.errSleep = 0
		servers = append(servers, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range servers {
			for _, port := range []int{PortSMTP, PortSubmission} {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				newSession(s, &streamConn{r: bytes.NewReader(data)}, map[string]string{}, port).run(ctx)
				cancel()
			}
		}
	})
}

// streamConn is a connection whose client sends r and ignores answers.
type streamConn struct {
	net.Conn
	r io.Reader
}

func (c *streamConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error) { return len(b), nil }
