package elasticsearch

import (
	"bufio"
	"bytes"
	"net"
	"testing"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// FuzzRequest feeds hostile bytes through the request reader and the
// REST routes of a 7.x and an 8.x node: nothing may panic, every request
// read gets an answer with a status line, and bodies stay bounded.
func FuzzRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	servers := []*Server{
		newServer(service.Config{Host: service.Host{Name: "fuzz"}, Emit: &testutil.Events{}}, persona(nil)),
		newServer(service.Config{Host: service.Host{Name: "fuzz"}, Emit: &testutil.Events{}}, persona(func(p *Persona) {
			p.Version = "8.12.2"
			p.Users = []string{"admin:pw1"}
		})),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range servers {
			br := bufio.NewReader(bytes.NewReader(data))
			c, peer := net.Pipe()
			for range 8 {
				r, err := readRequest(br)
				if err != nil {
					break
				}
				if err := r.readBody(br); err != nil {
					break
				}
				if len(r.body) > maxBody {
					t.Fatalf("kept %d body bytes", len(r.body))
				}
				resp, _, _ := s.serve(c, r)
				out := render(r.version, resp, r.get("X-Opaque-Id"), s.contextHeaders(resp), r.method == "HEAD")
				if !bytes.HasPrefix(out, []byte("HTTP/1.")) || statusText[resp.status] == "" {
					t.Fatalf("answer %q", out[:min(len(out), 40)])
				}
			}
			c.Close()
			peer.Close()
		}
	})
}

// FuzzDecodeOrdered checks the order-keeping JSON reader of clients'
// documents: no panic, and what it accepts re-encodes to JSON it accepts
// again unchanged.
func FuzzDecodeOrdered(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeOrdered(data)
		if err != nil {
			return
		}
		once := encode(v, false)
		v2, err := decodeOrdered(once)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", once, err)
		}
		if twice := encode(v2, false); !bytes.Equal(once, twice) {
			t.Fatalf("not stable: %q then %q", once, twice)
		}
	})
}
