package http

import (
	"bytes"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedNow is the Date of every golden response.
var fixedNow = time.Date(2026, 11, 25, 20, 47, 44, 0, time.UTC)

// fixedInstall is the modification time of the presets' pages.
var fixedInstall = time.Date(2026, 11, 25, 20, 24, 3, 123456000, time.UTC)

// newTestServer builds a server for a persona with a fixed clock and
// install time, on a Debian decky.
func newTestServer(t *testing.T, keys map[string]string, emit event.Emitter) *Server {
	t.Helper()
	p := &Persona{}
	if err := service.DecodePersona(p, keys); err != nil {
		t.Fatal(err)
	}
	if emit == nil {
		emit = event.EmitterFunc(func(event.Event) {})
	}
	srv, err := NewServer(service.Config{
		Host:    service.Host{Name: "decky-01", Hostname: "SRV-WEB-42", Distro: "debian", IP: "192.168.1.20"},
		Persona: p,
		Emit:    emit,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.now = func() time.Time { return fixedNow }
	srv.site.installed = fixedInstall
	return srv
}

// listen starts srv on a loopback port and returns its address.
func listen(t *testing.T, srv *Server) string {
	t.Helper()
	return servicetest.ServeTCP(t, srv, "127.0.0.1", 80)
}

// exchange sends raw bytes, half-closes, and returns all the server sent.
func exchange(t *testing.T, addr, raw string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, out)
	}
	return out
}

const curlGet = "GET / HTTP/1.1\r\nHost: 127.0.0.67\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"

func TestGolden(t *testing.T) {
	apache := map[string]string{}
	nginxP := map[string]string{"fake_app": "nginx_default"}
	iisP := map[string]string{"fake_app": "iis_default"}
	get := func(path string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.67\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
	}
	tests := []struct {
		name    string
		persona map[string]string
		req     string
	}{
		{"apache_get_index", apache, curlGet},
		{"apache_head_index", apache, "HEAD / HTTP/1.1\r\nHost: 127.0.0.67\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"},
		{"apache_http10", apache, "GET / HTTP/1.0\r\nUser-Agent: curl/7.88.1\r\n\r\n"},
		{"apache_keepalive_asked", apache, "GET /nonexistent HTTP/1.1\r\nHost: 127.0.0.67\r\nConnection: keep-alive\r\n\r\n"},
		{"apache_404", apache, get("/.env")},
		{"apache_400_no_host", apache, "GET / HTTP/1.1\r\nUser-Agent: curl/7.88.1\r\n\r\n"},
		{"apache_400_hello", apache, "HELLO\r\n\r\n"},
		{"apache_400_h2_preface", apache, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"apache_400_traversal", apache, get("/../../etc/passwd")},
		{"apache_post_index", apache, "POST / HTTP/1.1\r\nHost: 127.0.0.67\r\nContent-Length: 3\r\n\r\na=b"},
		{"apache_options", apache, "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.67\r\n\r\n"},
		{"apache_501_unknown_method", apache, "FOO / HTTP/1.1\r\nHost: 127.0.0.67\r\n\r\n"},
		{"apache_405_trace", apache, "TRACE / HTTP/1.1\r\nHost: 127.0.0.67\r\n\r\n"},
		{"apache_403_htaccess", apache, get("/.htaccess")},
		{"apache_401_forced", map[string]string{"response_code": "401"}, get("/admin")},
		{"apache_extra_headers", map[string]string{"extra_headers": `{"X-Frame-Options":"SAMEORIGIN"}`, "custom_body": "<h1>hi</h1>"}, curlGet},
		{"nginx_get_index", nginxP, get("/")},
		{"nginx_http10", nginxP, "GET / HTTP/1.0\r\n\r\n"},
		{"nginx_404", nginxP, get("/nonexistent")},
		{"nginx_400_no_host", nginxP, "GET / HTTP/1.1\r\n\r\n"},
		{"nginx_400_hello", nginxP, "HELLO\r\n\r\n"},
		{"nginx_405_post", nginxP, "POST / HTTP/1.1\r\nHost: 127.0.0.66\r\nContent-Length: 0\r\n\r\n"},
		{"nginx_405_options", nginxP, "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.66\r\n\r\n"},
		{"nginx_400_lowercase_method", nginxP, "get / HTTP/1.1\r\nHost: 127.0.0.66\r\n\r\n"},
		{"nginx_413", nginxP, "POST / HTTP/1.1\r\nHost: 127.0.0.66\r\nContent-Length: 2000000\r\n\r\n"},
		{"nginx_414", nginxP, "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"iis_get_index", iisP, get("/")},
		{"iis_404", iisP, get("/admin.aspx")},
		{"iis_options", iisP, "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
		{"iis_405_post_static", iisP, "POST /iisstart.htm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"},
		{"iis_400_no_host", iisP, "GET / HTTP/1.1\r\n\r\n"},
		{"wordpress_login", map[string]string{"fake_app": "wordpress"}, get("/wp-login.php")},
		{"wordpress_login_post", map[string]string{"fake_app": "wordpress"}, "POST /wp-login.php HTTP/1.1\r\nHost: 192.168.1.20\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 42\r\n\r\nlog=admin&pwd=hunter2&wp-submit=Log+In&x=1"},
		{"wordpress_admin_redirect", map[string]string{"fake_app": "wordpress"}, get("/wp-admin/")},
		{"wordpress_xmlrpc_get", map[string]string{"fake_app": "wordpress"}, get("/xmlrpc.php")},
		{"http09", apache, "GET /\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := listen(t, newTestServer(t, tt.persona, nil))
			got := exchange(t, addr, tt.req)
			golden := filepath.Join("testdata", "golden", tt.name+".http")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("response differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
