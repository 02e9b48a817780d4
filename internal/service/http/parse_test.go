package http

import (
	"bufio"
	"errors"
	"strconv"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
)

func parse(raw string) (*request, error) {
	br := bufio.NewReader(strings.NewReader(raw))
	r, err := readHead(br)
	if err != nil {
		return r, err
	}
	return r, readBody(br, r)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		status int // 0: parses
		method string
		target string
		body   string
	}{
		{"curl", curlGet, 0, "GET", "/", ""},
		{"leading blank lines", "\r\n\r\n" + curlGet, 0, "GET", "/", ""},
		{"bare LF", "GET /a?b=c HTTP/1.1\nHost: x\n\n", 0, "GET", "/a?b=c", ""},
		{"absolute form", "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "GET", "/x?y", ""},
		{"content-length", "POST /l HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 0, "POST", "/l", "hello"},
		{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n", 0, "POST", "/", "hello world"},
		{"http/1.0 without host", "GET / HTTP/1.0\r\n\r\n", 0, "GET", "/", ""},
		{"http/0.9", "GET /x\r\n", 0, "GET", "/x", ""},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400, "", "", ""},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "", "", ""},
		{"hello", "HELLO\r\n\r\n", 400, "", "", ""},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "", "", ""},
		{"traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", "", ""},
		{"encoded traversal", "GET /a/%2e%2E/%2e%2e/etc HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", "", ""},
		{"double space", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", "", ""},
		{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "", "", ""},
		{"folded header", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", 400, "", "", ""},
		{"control char", "GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n", 400, "", "", ""},
		{"te and cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "", "", ""},
		{"unknown te", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "", "", ""},
		{"bad cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "", "", ""},
		{"conflicting cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "", "", ""},
		{"bad chunk", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "", "", ""},
		{"long line", "GET /" + strings.Repeat("a", maxLine) + " HTTP/1.1\r\n\r\n", 414, "", "", ""},
		{"long header", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", maxLine) + "\r\n\r\n", 400, "", "", ""},
		{"too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: y\r\n", maxFields) + "\r\n", 400, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parse(tt.raw)
			var pe *parseError
			if tt.status != 0 {
				if !errors.As(err, &pe) || pe.status != tt.status {
					t.Fatalf("err = %v, want status %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.method != tt.method || r.target != tt.target || string(r.body) != tt.body {
				t.Errorf("got %q %q body %q", r.method, r.target, r.body)
			}
			if r.bodySize != int64(len(tt.body)) {
				t.Errorf("bodySize %d", r.bodySize)
			}
		})
	}
}

func TestParseBodyLimits(t *testing.T) {
	big := strings.Repeat("x", maxBody+10)
	r, err := parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.body) != maxBody || r.bodySize != int64(len(big)) {
		t.Errorf("kept %d of %d, want %d of %d", len(r.body), r.bodySize, maxBody, len(big))
	}
	_, err = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(maxDrain+1) + "\r\n\r\n")
	if !errors.Is(err, errBodyTooLarge) {
		t.Errorf("err = %v, want errBodyTooLarge", err)
	}
	_, err = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort")
	if err == nil {
		t.Error("a short body parsed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(curlGet))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parse(string(data))
		if r == nil {
			return
		}
		if len(r.headers) > maxFields || len(r.body) > maxBody || int64(len(r.body)) > r.bodySize {
			t.Fatalf("limits broken: %d headers, %d body bytes of %d", len(r.headers), len(r.body), r.bodySize)
		}
		if err != nil {
			return
		}
		if !isToken(r.method) || r.target == "" || strings.ContainsAny(r.target, " \r\n") {
			t.Fatalf("accepted bad request line %q %q", r.method, r.target)
		}
		for _, h := range r.headers {
			if !isToken(h.name) || strings.ContainsAny(h.value, "\r\n") {
				t.Fatalf("accepted bad header %q", h)
			}
		}
		if r.target != "*" && (r.target[0] != '/' || escapesRoot(r.path())) {
			t.Fatalf("accepted target %q", r.target)
		}
	})
}

// FuzzRespond runs parsed requests through every product's routing,
// credential extraction and layout.
func FuzzRespond(f *testing.F) {
	f.Add([]byte(curlGet))
	f.Add([]byte("POST /wp-login.php HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 60\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"log\"\r\n\r\nx\r\n--B--\r\n"))
	var servers []*Server
	for _, app := range presets {
		srv, err := NewServer(service.Config{Persona: &Persona{FakeApp: app}, Emit: event.EmitterFunc(func(event.Event) {})})
		if err != nil {
			f.Fatal(err)
		}
		servers = append(servers, srv)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parse(string(data))
		if err != nil {
			return
		}
		r.port = "80"
		formCredentials(r)
		basicCredentials(r)
		requestFields(r, 200)
		for _, srv := range servers {
			resp := srv.site.respond(r)
			out := srv.render(r, resp, connState{})
			if r.proto != "" && !strings.HasPrefix(out, "HTTP/1.1 ") {
				t.Fatalf("response %.40q", out)
			}
			if strings.Contains(out, "\r\n\r\n") && strings.ContainsAny(strings.SplitN(out, "\r\n\r\n", 2)[0], "\x00") {
				t.Fatalf("NUL in head")
			}
		}
	})
}
