package vnc

import (
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testChallenge is every challenge of a test server.
var testChallenge = h("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f")

// wrongResponse is a response no password gives to testChallenge.
var wrongResponse = h("aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa")

// repeat reads as its bytes over and over, so every challenge is the same.
type repeat []byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r[i%len(r)]
	}
	return len(p), nil
}

// h decodes hex written with spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// cat joins strings and byte slices.
func cat(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v...)
		case []byte:
			out = append(out, v...)
		default:
			panic("cat: want string or []byte")
		}
	}
	return out
}

// newTestServer builds a server for persona p on the decky "web01",
// whose challenges are testChallenge.
func newTestServer(t testing.TB, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	s := newServer(service.Config{Host: service.Host{Name: "decky1", Hostname: "web01"}, Emit: ev}, p)
	s.random = repeat(testChallenge)
	return s, ev
}

// startServer serves a new test server on 127.0.0.1.
func startServer(t *testing.T, p *Persona) (*Server, string, *testutil.Events) {
	t.Helper()
	s, ev := newTestServer(t, p)
	return s, servicetest.ServeTCP(t, s, "127.0.0.1", Port), ev
}

// converse sends client on a fresh connection and returns what the server
// sent until it closed the connection.
func converse(t *testing.T, addr string, client []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(client); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	got, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("server did not close the connection; sent %x", got)
	}
	return got
}

// fieldsOf returns the fields of the only event of type typ.
func fieldsOf(t *testing.T, ev *testutil.Events, typ string) map[string]string {
	t.Helper()
	var all []event.Event
	testutil.Eventually(t, "a "+typ+" event", func() bool {
		all = ev.OfType(typ)
		return len(all) > 0
	})
	if len(all) != 1 {
		t.Fatalf("%d %s events, want 1: %v", len(all), typ, all)
	}
	return all[0].Fields
}
