package dockerapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// raw sends one request on a fresh connection and returns the response
// with the Date header's value blanked.
func raw(t *testing.T, dial func() (net.Conn, error), req string) string {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var b strings.Builder
	b.WriteString(resp.Status + "\n")
	for _, line := range headerOrder(t, dial, req) {
		b.WriteString(line + "\n")
	}
	b.WriteString("\n" + string(body))
	return b.String()
}

var dateRE = regexp.MustCompile(`^Date: .*`)

// headerOrder returns the response's header lines as sent (Date blanked).
func headerOrder(t *testing.T, dial func() (net.Conn, error), req string) []string {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	br := bufio.NewReader(c)
	br.ReadString('\n')
	var out []string
	for {
		l, err := br.ReadString('\n')
		l = strings.TrimRight(l, "\r\n")
		if err != nil || l == "" {
			return out
		}
		out = append(out, dateRE.ReplaceAllString(l, "Date: -"))
	}
}

// TestWire checks the engine's answers byte for byte (Date aside):
// header names, order and case, status lines and error bodies, as
// measured on dockerd and written in the 24.0 sources.
func TestWire(t *testing.T) {
	d := start(t, "127.0.106.30", nil)
	dial := func() (net.Conn, error) { return net.Dial("tcp", d.plain) }
	mw := "Api-Version: 1.43\nContent-Type: application/json\nDocker-Experimental: false\nOstype: linux\nServer: Docker/24.0.5 (linux)\nDate: -\n"
	for _, tc := range []struct{ name, req, want string }{
		{"ping", "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n",
			"200 OK\nApi-Version: 1.43\nBuilder-Version: 2\nCache-Control: no-cache, no-store, must-revalidate\nDocker-Experimental: false\nOstype: linux\nPragma: no-cache\nServer: Docker/24.0.5 (linux)\nDate: -\nContent-Length: 2\nContent-Type: text/plain; charset=utf-8\n\nOK"},
		{"ping head", "HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n",
			"200 OK\nApi-Version: 1.43\nBuilder-Version: 2\nCache-Control: no-cache, no-store, must-revalidate\nContent-Length: 0\nContent-Type: text/plain; charset=utf-8\nDocker-Experimental: false\nOstype: linux\nPragma: no-cache\nServer: Docker/24.0.5 (linux)\nDate: -\n\n"},
		{"unknown route", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
			"404 Not Found\nContent-Type: application/json\nDate: -\nContent-Length: 29\n\n{\"message\":\"page not found\"}\n"},
		{"wrong method", "GET /containers/create HTTP/1.1\r\nHost: x\r\n\r\n",
			"404 Not Found\nContent-Type: application/json\nDate: -\nContent-Length: 29\n\n{\"message\":\"page not found\"}\n"},
		{"unclean path", "GET //version?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
			"301 Moved Permanently\nLocation: /version?a=1\nDate: -\nContent-Length: 0\n\n"},
		{"too new", "GET /v1.99/version HTTP/1.1\r\nHost: x\r\n\r\n",
			"400 Bad Request\nApi-Version: 1.43\nContent-Type: application/json\nOstype: linux\nServer: Docker/24.0.5 (linux)\nDate: -\nContent-Length: 84\n\n{\"message\":\"client version 1.99 is too new. Maximum supported API version is 1.43\"}\n"},
		{"no such container", "POST /v1.43/containers/nonexist/start HTTP/1.1\r\nHost: x\r\n\r\n",
			"404 Not Found\n" + mw + "Content-Length: 42\n\n{\"message\":\"No such container: nonexist\"}\n"},
		{"logs without stream", "GET /containers/webapp/logs HTTP/1.1\r\nHost: x\r\n\r\n",
			"400 Bad Request\n" + mw + "Content-Length: 66\n\n{\"message\":\"Bad parameters: you must choose at least one stream\"}\n"},
		{"create without body", "POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n",
			"400 Bad Request\n" + mw + "Content-Length: 63\n\n{\"message\":\"invalid JSON: got EOF while reading request body\"}\n"},
		{"no Host", "GET / HTTP/1.1\r\n\r\n",
			"400 Bad Request: missing required Host header\nContent-Type: text/plain; charset=utf-8\nConnection: close\n\n400 Bad Request: missing required Host header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := raw(t, dial, tc.req); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestEngineDiff compares the daemon with the real dockerd of this
// machine (read only, through /var/run/docker.sock): header names in
// order, the not-found and redirect answers, and the order of the JSON
// keys both versions have.
func TestEngineDiff(t *testing.T) {
	const sock = "/var/run/docker.sock"
	if _, err := os.Stat(sock); err != nil {
		testutil.Skip(t, "no docker engine socket")
	}
	real := func() (net.Conn, error) { return net.Dial("unix", sock) }
	d := start(t, "127.0.106.31", nil)
	ours := func() (net.Conn, error) { return net.Dial("tcp", d.plain) }
	names := func(lines []string) string {
		var out []string
		for _, l := range lines {
			n, _, _ := strings.Cut(l, ":")
			if n != "Builder-Version" { // 23.0 and later only
				out = append(out, n)
			}
		}
		return strings.Join(out, ",")
	}
	// (Lists are left out: a body over 2 KiB is chunked, on either side.)
	for _, req := range []string{"GET /_ping", "HEAD /_ping", "GET /version",
		"GET /nope", "GET //version", "POST /containers/nonexist/kill", "GET /v1.99/version"} {
		r := req + " HTTP/1.1\r\nHost: docker\r\n\r\n"
		if g, w := names(headerOrder(t, ours, r)), names(headerOrder(t, real, r)); g != w {
			t.Errorf("%s: header names\n ours %s\n real %s", req, g, w)
		}
	}
	// Malformed requests are answered by net/http in dockerd too.
	for _, r := range []string{"GET /nope HTTP/1.1\r\nHost: docker\r\n\r\n", "GET //version HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n", "GARBAGE\r\n\r\n", "GET /_ping HTTP/1.1\r\nHost: docker\r\nBad Header\r\n\r\n"} {
		if g, w := raw(t, ours, r), raw(t, real, r); g != w {
			t.Errorf("%q:\n ours %q\n real %q", r, g, w)
		}
	}
	for _, path := range []string{"/version", "/info"} {
		g, w := jsonKeys(t, ours, path), jsonKeys(t, real, path)
		if !sameOrder(g, w) {
			t.Errorf("%s key order\n ours %v\n real %v", path, g, w)
		}
	}
}

// jsonKeys returns the top-level keys of a JSON object response, in order.
func jsonKeys(t *testing.T, dial func() (net.Conn, error), path string) []string {
	t.Helper()
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return dial() }}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://docker" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.Token()
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

// sameOrder reports whether the keys both lists hold come in one order.
func sameOrder(a, b []string) bool {
	pos := map[string]int{}
	for i, k := range b {
		pos[k] = i
	}
	last, shared := -1, 0
	for _, k := range a {
		if i, ok := pos[k]; ok {
			if i < last {
				return false
			}
			last = i
			shared++
		}
	}
	return shared > len(b)/2
}
