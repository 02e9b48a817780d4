package http

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

func TestEvents(t *testing.T) {
	tests := []struct {
		name     string
		persona  map[string]string
		req      string
		request  map[string]string // fields the request event must hold
		auth     []map[string]string
		noFields []string // fields the request event must not hold
	}{
		{
			name: "basic auth",
			req:  "GET /admin HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YWRtaW46czNjcjN0\r\nUser-Agent: Nikto\r\n\r\n",
			request: map[string]string{"method": "GET", "path": "/admin", "version": "HTTP/1.1", "status": "404", "user_agent": "Nikto",
				"host": "h", "headers": `{"Authorization":"Basic YWRtaW46czNjcjN0","Host":"h","User-Agent":"Nikto"}`, "body_size": "0"},
			auth:     []map[string]string{{"username": "admin", "password": "s3cr3t", "scheme": "basic", "success": "false", "path": "/admin"}},
			noFields: []string{"body", "body_encoding", "error"},
		},
		{
			name:    "urlencoded form",
			req:     "POST /login?next=/ HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 28\r\n\r\nemail=a%40b.c&passwd=p%26ss!",
			request: map[string]string{"path": "/login?next=/", "body": "email=a%40b.c&passwd=p%26ss!", "body_size": "28"},
			auth:    []map[string]string{{"username": "a@b.c", "password": "p&ss!", "scheme": "form", "form": "/login"}},
		},
		{
			name: "multipart form",
			req: "POST /index.php HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 130\r\n\r\n" +
				"--B\r\nContent-Disposition: form-data; name=\"pma_username\"\r\n\r\nroot\r\n--B\r\nContent-Disposition: form-data; name=\"pma_password\"\r\n\r\ntoor\r\n--B--\r\n",
			auth: []map[string]string{{"username": "root", "password": "toor", "form": "/index.php"}},
		},
		{
			name: "json login",
			req:  "POST /api/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{\"username\":\"bob\",\"password\":\"hunter\"}",
			auth: []map[string]string{{"username": "bob", "password": "hunter"}},
		},
		{
			name:     "form without password",
			req:      "POST /search HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\nuser=bob",
			request:  map[string]string{"body": "user=bob"},
			noFields: []string{"body_encoding"},
		},
		{
			name:    "binary body",
			req:     "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n\x00\x01\xfe\xff",
			request: map[string]string{"body": "0001feff", "body_encoding": "hex", "body_size": "4"},
		},
		{
			name:    "refused request",
			req:     "HELLO\r\n\r\n",
			request: map[string]string{"status": "400", "error": "malformed request line", "line": "HELLO"},
		},
		{
			name:    "duplicate headers",
			req:     "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nX-A: 3\r\n\r\n",
			request: map[string]string{"headers": `{"Host":"h","X-A":"1, 3","x-a":"2"}`, "status": "200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &testutil.Events{}
			addr := listen(t, newTestServer(t, tt.persona, c))
			exchange(t, addr, tt.req)
			reqs := waitEvents(t, c, event.TypeRequest, 1)
			f := reqs[0].Fields
			if f["src_ip"] != "127.0.0.1" || f["src_port"] == "" || f["session"] == "" {
				t.Errorf("connection fields missing: %v", f)
			}
			for k, want := range tt.request {
				if f[k] != want {
					t.Errorf("request %s = %q, want %q", k, f[k], want)
				}
			}
			for _, k := range tt.noFields {
				if _, ok := f[k]; ok {
					t.Errorf("request has %s=%q", k, f[k])
				}
			}
			auths := c.OfType(event.TypeAuth)
			if len(auths) != len(tt.auth) {
				t.Fatalf("%d auth events, want %d: %v", len(auths), len(tt.auth), auths)
			}
			for i, want := range tt.auth {
				if auths[i].Fields["session"] != f["session"] {
					t.Error("auth event without the connection's session")
				}
				for k, v := range want {
					if auths[i].Fields[k] != v {
						t.Errorf("auth %s = %q, want %q", k, auths[i].Fields[k], v)
					}
				}
			}
		})
	}
}

// waitEvents waits for n events of a type: they are emitted before the
// response is written, but the test may read the close first.
func waitEvents(t *testing.T, c *testutil.Events, typ string, n int) []event.Event {
	t.Helper()
	testutil.Eventually(t, fmt.Sprintf("%d %s events", n, typ), func() bool { return len(c.OfType(typ)) >= n })
	return c.OfType(typ)
}

func TestHeadersFieldIsJSON(t *testing.T) {
	c := &testutil.Events{}
	addr := listen(t, newTestServer(t, nil, c))
	exchange(t, addr, "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\r\n\r\n")
	var hs map[string]string
	if err := json.Unmarshal([]byte(waitEvents(t, c, event.TypeRequest, 1)[0].Fields["headers"]), &hs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hs["User-Agent"], "Nmap Scripting Engine") {
		t.Errorf("headers = %v", hs)
	}
}

// TestCurl drives the server with the real curl, as an attacker would.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	c := &testutil.Events{}
	addr := listen(t, newTestServer(t, nil, c))
	run := func(args ...string) string {
		out, err := exec.Command(curl, append([]string{"-s", "-S", "-i", "--max-time", "10"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("-u", "user:pass", "http://"+addr+"/")
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\nDate: ") || !strings.Contains(out, "Server: Apache/2.4.71 (Debian)\r\n") ||
		!strings.Contains(out, "Apache2 Debian Default Page") {
		t.Errorf("curl -u got:\n%.600s", out)
	}
	out = run("-d", "username=admin&password=admin", "http://"+addr+"/login")
	if !strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n") || !strings.Contains(out, "<address>Apache/2.4.71 (Debian) Server at 127.0.0.1 Port ") {
		t.Errorf("curl -d got:\n%s", out)
	}
	auths := waitEvents(t, c, event.TypeAuth, 2)
	want := []map[string]string{
		{"username": "user", "password": "pass", "scheme": "basic", "success": "false"},
		{"username": "admin", "password": "admin", "scheme": "form", "form": "/login", "success": "false"},
	}
	for i, w := range want {
		for k, v := range w {
			if auths[i].Fields[k] != v {
				t.Errorf("auth %d %s = %q, want %q", i, k, auths[i].Fields[k], v)
			}
		}
	}
	reqs := c.OfType(event.TypeRequest)
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0].Fields["user_agent"], "curl/") || reqs[1].Fields["method"] != "POST" {
		t.Errorf("request events: %v", reqs)
	}
}

func TestFilesDirectory(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(root, "robots.txt"), []byte("User-agent: *\nDisallow: /backup/\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "backup"), 0o755)
	os.WriteFile(filepath.Join(root, "backup", "index.html"), []byte("<p>backups</p>"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("TOPSECRET"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	addr := listen(t, newTestServer(t, map[string]string{"files": root}, nil))
	tests := []struct {
		path   string
		status string
		has    string
	}{
		{"/robots.txt", "200 OK", "Disallow: /backup/"},
		{"/backup/", "200 OK", "<p>backups</p>"},
		{"/backup", "301 Moved Permanently", "Location: http://h/backup/"},
		{"/link", "404 Not Found", ""},
		{"/dirlink/secret", "404 Not Found", ""},
		{"/%2e%2e/" + filepath.Base(outside) + "/secret", "400 Bad Request", ""},
		{"/backup/../../secret", "400 Bad Request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			out := string(exchange(t, addr, "GET "+tt.path+" HTTP/1.1\r\nHost: h\r\n\r\n"))
			if !strings.HasPrefix(out, "HTTP/1.1 "+tt.status+"\r\n") || !strings.Contains(out, tt.has) || strings.Contains(out, "TOPSECRET") {
				t.Errorf("GET %s:\n%s", tt.path, out)
			}
		})
	}
}

func TestKeepAlive(t *testing.T) {
	tests := []struct {
		persona map[string]string
		want    []string
	}{
		{nil, []string{"Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n", "Keep-Alive: timeout=5, max=99\r\nConnection: Keep-Alive\r\n", "Connection: close\r\n"}},
		{map[string]string{"fake_app": "nginx_default"}, []string{"Connection: keep-alive\r\n", "Connection: keep-alive\r\n", "Connection: close\r\n"}},
	}
	for _, tt := range tests {
		addr := listen(t, newTestServer(t, tt.persona, nil))
		req := "HEAD / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"
		out := string(exchange(t, addr, req+req+"HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nHEAD / HTTP/1.1\r\nHost: h\r\n\r\n"))
		resps := strings.Split(out, "HTTP/1.1 200 OK\r\n")[1:]
		if len(resps) != len(tt.want) {
			t.Fatalf("%d responses, want %d:\n%s", len(resps), len(tt.want), out)
		}
		for i, w := range tt.want {
			if !strings.Contains(resps[i], w) {
				t.Errorf("response %d lacks %q:\n%s", i, w, resps[i])
			}
		}
	}
}

func TestPersonaValidate(t *testing.T) {
	bad := []map[string]string{
		{"fake_app": "joomla"},
		{"response_code": "99"},
		{"extra_headers": `{"Bad Name":"x"}`},
		{"extra_headers": `{"X":"a\r\nSet-Cookie: y"}`},
		{"files": "/nonexistent/dir"},
		{"server_header": "a\nb"},
	}
	for _, keys := range bad {
		if err := newPersonaErr(keys); err == nil {
			t.Errorf("%v accepted", keys)
		}
	}
	if err := newPersonaErr(map[string]string{"fake_app": "wordpress", "response_code": "403", "extra_headers": `{"X-A":"b"}`}); err != nil {
		t.Error(err)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		p       Persona
		distro  string
		server  string
		product product
		app     string
	}{
		{Persona{}, "debian", "Apache/2.4.71 (Debian)", apache, appApache},
		{Persona{}, "ubuntu22", "Apache/2.4.52 (Ubuntu)", apache, appApache},
		{Persona{FakeApp: appNginx}, "debian", "nginx/1.22.1", nginx, appNginx},
		{Persona{FakeApp: appIIS}, "debian", "Microsoft-IIS/10.0", iis, appIIS},
		{Persona{ServerHeader: "nginx"}, "", "nginx", nginx, appNginx},
		{Persona{FakeApp: appWordPress}, "rocky9", "Apache/2.4.62 (Rocky Linux)", apache, appWordPress},
	}
	for _, tt := range tests {
		r := resolve(&tt.p, tt.distro)
		if r.server != tt.server || r.product != tt.product || r.app != tt.app {
			t.Errorf("resolve(%+v, %s) = %+v", tt.p, tt.distro, r)
		}
	}
}

func newPersonaErr(keys map[string]string) error {
	_, err := service.NewPersona(Service{}.Info(), keys)
	return err
}
