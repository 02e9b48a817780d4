package elasticsearch

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// start serves a persona at a loopback address of this helper's range.
func start(t *testing.T, host string, p *Persona) (string, *testutil.Events) {
	t.Helper()
	ev := &testutil.Events{}
	srv := newServer(service.Config{Host: service.Host{Name: "decky-es", Hostname: "es-prod-01", IP: host}, Emit: ev}, p)
	return servicetest.ServeTCP(t, srv, host, Port), ev
}

func persona(mod func(*Persona)) *Persona {
	p := defaultPersona().(*Persona)
	if mod != nil {
		mod(p)
	}
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p
}

// exchange sends raw bytes and reads until the server closes.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c := testutil.Dial(t, addr, 5*time.Second)
	defer c.Close()
	c.Write([]byte(raw))
	var b bytes.Buffer
	b.ReadFrom(c)
	return b.String()
}

// TestRootGolden checks GET / byte for byte, head and body, for each
// release: header order and casing, content type, pretty layout.
func TestRootGolden(t *testing.T) {
	for _, v := range []string{"7.10.2", "7.17.9", "8.12.2"} {
		t.Run(v, func(t *testing.T) {
			addr, _ := start(t, "127.0.105.1", persona(func(p *Persona) { p.Version = v; p.TLS = "false"; p.Users = []string{"elastic:changeme"} }))
			got := exchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==\r\nConnection: close\r\n\r\n")
			golden := filepath.Join("testdata", "root-"+v+".golden")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("GET / =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestResponses checks the shape of answers an attacker's recon meets.
func TestResponses(t *testing.T) {
	addr7, _ := start(t, "127.0.105.2", persona(nil))
	addr8, _ := start(t, "127.0.105.2", persona(func(p *Persona) { p.Version = "8.12.2"; p.TLS = "false" }))
	for _, tc := range []struct {
		name, addr, req string
		want            []string
	}{
		{"http10 closes", addr7, "GET / HTTP/1.0\r\n\r\n", []string{"HTTP/1.0 200 OK\r\nX-elastic-product: Elasticsearch\r\nWarning: 299 Elasticsearch-7.17.9-"}},
		{"pretty false", addr7, "GET /?pretty=false HTTP/1.0\r\n\r\n", []string{`{"name":"es-prod-01","cluster_name":"elasticsearch",`}},
		{"head root", addr7, "HEAD / HTTP/1.0\r\n\r\n", []string{"content-type: text/plain; charset=UTF-8\r\ncontent-length: 0\r\n\r\n"}},
		{"unknown index", addr7, "GET /secret HTTP/1.0\r\n\r\n", []string{"404 Not Found", `"type":"index_not_found_exception","reason":"no such index [secret]"`}},
		{"no handler", addr7, "GET /a/b/c/d HTTP/1.0\r\n\r\n", []string{"400 Bad Request", `{"error":"no handler found for uri [/a/b/c/d] and method [GET]"}`}},
		{"method", addr7, "DELETE /_cat/indices HTTP/1.0\r\n\r\n", []string{"405 Method Not Allowed\r\nAllow: GET\r\n"}},
		{"cat v", addr7, "GET /_cat/indices?v HTTP/1.0\r\n\r\n", []string{"health status index     uuid                   pri rep docs.count docs.deleted store.size pri.store.size\n", "yellow open   customers "}},
		{"cat health", addr7, "GET /_cat/health HTTP/1.0\r\n\r\n", []string{" elasticsearch yellow 1 1 3 3 0 0 3 0 - 50.0%\n"}},
		{"security off", addr7, "GET /_security/_authenticate HTTP/1.0\r\n\r\n", []string{"500 Internal Server Error", "Security must be explicitly enabled"}},
		{"long line", addr7, "GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n", []string{"400 Bad Request", `"type":"too_long_frame_exception","reason":"An HTTP line is larger than 4096 bytes."`}},
		{"bad version", addr7, "GET / FOO\r\n\r\n", []string{`"reason":"invalid version format: FOO"`}},
		{"garbage ignored", addr7, "hello\r\nGET /_cat/master HTTP/1.0\r\n\r\n", []string{"200 OK", " es-prod-01\n"}},
		{"typed ransom note", addr7, "PUT /read_me/howtogetmydataback/1 HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"a\":\"pay 1 BTC\"}", []string{
			"HTTP/1.0 201 Created\r\nX-elastic-product: Elasticsearch\r\nWarning: 299 Elasticsearch-7.17.9-ef48222227ee6b9e70e502f0f0daa52435ee634d \"Elasticsearch built-in security features are not enabled.",
			"\r\nWarning: 299 Elasticsearch-7.17.9-ef48222227ee6b9e70e502f0f0daa52435ee634d \"[types removal] Specifying types in document index requests is deprecated, use the typed endpoints instead.\"\r\ncontent-type: application/json; charset=UTF-8\r\n",
			`{"_index":"read_me","_type":"howtogetmydataback","_id":"1","_version":1,"result":"created",`}},
		{"cat json", addr7, "GET /_cat/indices?format=json&h=index,docs.count HTTP/1.0\r\n\r\n", []string{"content-type: application/json; charset=UTF-8\r\n", `[{"index":"customers","docs.count":"`}},
		{"options", addr7, "OPTIONS /_cat/indices HTTP/1.0\r\n\r\n", []string{"HTTP/1.0 200 OK\r\nAllow: GET\r\n", "content-length: 0\r\n\r\n"}},
		{"8.x anonymous", addr8, "GET /_cat/nodes?v HTTP/1.0\r\n\r\n", []string{
			"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"\r\nWWW-Authenticate: ApiKey\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json\r\n",
			`{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/_cat/nodes?v]","header":{"WWW-Authenticate":["Basic realm=\"security\" charset=\"UTF-8\"","ApiKey"]}}],`}},
		{"8.x wrong password", addr8, "GET / HTTP/1.0\r\nAuthorization: Basic ZWxhc3RpYzpodW50ZXIy\r\n\r\n", []string{`"reason":"unable to authenticate user [elastic] for REST request [/]"`}},
		{"8.x wildcard delete", addr8, "DELETE /* HTTP/1.0\r\nAuthorization: Basic ZWxhc3RpYzpodW50ZXIy\r\n\r\n", []string{"401 Unauthorized"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, tc.addr, tc.req)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestKeepAlive serves two HTTP/1.1 requests on one connection.
func TestKeepAlive(t *testing.T) {
	addr, _ := start(t, "127.0.105.3", persona(nil))
	got := exchange(t, addr, "GET /_cat/master HTTP/1.1\r\nHost: x\r\n\r\nGET /_cluster/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if n := strings.Count(got, "HTTP/1.1 200 OK"); n != 2 {
		t.Fatalf("%d answers on one connection, want 2:\n%s", n, got)
	}
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin := testutil.RequireTool(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-s", "--max-time", "5"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func findEvent(evs []event.Event, cond func(f map[string]string) bool) (map[string]string, bool) {
	for _, e := range evs {
		if cond(e.Fields) {
			return e.Fields, true
		}
	}
	return nil, false
}

// TestCurlRansomware drives the wipe-and-note attack with curl against
// an open 7.17 cluster: recon, credentials sent anyway, DELETE of every
// index, a ransom index and note; each step is an event and the cluster
// shows the attacker's work afterwards.
func TestCurlRansomware(t *testing.T) {
	addr, ev := start(t, "127.0.105.4", persona(nil))
	base := "http://" + addr
	if out := curl(t, "-u", "elastic:secret", base+"/"); !strings.Contains(out, `"number" : "7.17.9"`) {
		t.Fatalf("root: %s", out)
	}
	if out := curl(t, base+"/_cat/indices?v"); !strings.Contains(out, "customers") {
		t.Fatalf("cat: %s", out)
	}
	if out := curl(t, base+"/_search?q=*"); !strings.Contains(out, `"_index":"customers"`) {
		t.Fatalf("search: %s", out)
	}
	if out := curl(t, "-X", "DELETE", base+"/_all"); out != `{"acknowledged":true}` {
		t.Fatalf("delete: %s", out)
	}
	note := `{"message":"All your data is backed up. You must pay 0.03 BTC to bc1qexample","email":"recover@example.com"}`
	if out := curl(t, "-X", "PUT", base+"/read_me"); !strings.Contains(out, `"index":"read_me"`) {
		t.Fatalf("create: %s", out)
	}
	if out := curl(t, "-X", "POST", "-H", "Content-Type: application/json", "-d", note, base+"/read_me/_doc/1"); !strings.Contains(out, `"result":"created"`) {
		t.Fatalf("note: %s", out)
	}
	out := curl(t, base+"/_cat/indices")
	if strings.Contains(out, "customers") || !strings.Contains(out, "read_me") {
		t.Fatalf("after the wipe _cat/indices says:\n%s", out)
	}
	if out := curl(t, base+"/read_me/_search"); !strings.Contains(out, `"_source":`+note) {
		t.Fatalf("the note is not searchable: %s", out)
	}
	evs := ev.All()
	if f, ok := findEvent(evs, func(f map[string]string) bool { return f[event.FieldUsername] == "elastic" }); !ok || f[event.FieldPassword] != "secret" || f["method"] != "basic" {
		t.Errorf("no basic auth event: %v", f)
	}
	for _, want := range []struct{ method, path, action string }{
		{"GET", "/", "root_probe"}, {"GET", "/_cat/indices", "cat_api"}, {"GET", "/_search", "search"},
		{"DELETE", "/_all", "index_delete"}, {"PUT", "/read_me", "index_create"}, {"POST", "/read_me/_doc/1", "document_write"},
	} {
		f, ok := findEvent(evs, func(f map[string]string) bool {
			return f[event.FieldMethod] == want.method && f[event.FieldPath] == want.path
		})
		if !ok || f["action"] != want.action {
			t.Errorf("%s %s: event %v, want action %s", want.method, want.path, f, want.action)
		}
		if ok && want.action == "document_write" && f["body"] != note {
			t.Errorf("note body = %q", f["body"])
		}
	}
}

// TestCurlSecured8 captures credentials and API keys on an 8.x node and
// lets a configured weak login in.
func TestCurlSecured8(t *testing.T) {
	addr, ev := start(t, "127.0.105.5", persona(func(p *Persona) { p.Version = "8.12.2"; p.TLS = "false"; p.Users = []string{"elastic:changeme"} }))
	base := "http://" + addr
	if out := curl(t, "-u", "elastic:hunter2", base+"/"); !strings.Contains(out, "unable to authenticate user [elastic]") {
		t.Fatalf("wrong password: %s", out)
	}
	if out := curl(t, "-H", "Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", base+"/"); !strings.Contains(out, "401") {
		t.Fatalf("api key: %s", out)
	}
	if out := curl(t, "-u", "elastic:changeme", base+"/_security/_authenticate"); !strings.Contains(out, `"username":"elastic"`) {
		t.Fatalf("login: %s", out)
	}
	if out := curl(t, "-i", "-u", "elastic:changeme", "-H", "Accept: application/vnd.elasticsearch+json; compatible-with=8", base+"/_cluster/health"); !strings.Contains(out, "\r\ncontent-type: application/vnd.elasticsearch+json;compatible-with=8\r\n") {
		t.Fatalf("compatible-with: %s", out)
	}
	evs := ev.OfType(event.TypeAuth)
	if _, ok := findEvent(evs, func(f map[string]string) bool {
		return f[event.FieldPassword] == "hunter2" && f[event.FieldSuccess] == "false"
	}); !ok {
		t.Error("wrong password not captured")
	}
	if f, ok := findEvent(evs, func(f map[string]string) bool { return f[event.FieldTokenType] == "api_key" }); !ok || f["api_key_id"] != "VuaCfGcBCdbkQm-e5aOx" {
		t.Errorf("api key event %v", f)
	}
	if _, ok := findEvent(evs, func(f map[string]string) bool {
		return f[event.FieldPassword] == "changeme" && f[event.FieldSuccess] == "true"
	}); !ok {
		t.Error("good login not recorded as a success")
	}
}

// TestCurlTLS8 talks to a default 8.x node (TLS on 9200): curl checks
// the certificate against the decky's auto-configuration CA and its
// credentials are captured inside TLS; plain HTTP gets no answer.
func TestCurlTLS8(t *testing.T) {
	dir := t.TempDir()
	p := persona(func(p *Persona) { p.Version = "8.12.2" })
	ev := &testutil.Events{}
	svc, err := Service{}.New(service.Config{Host: service.Host{Name: "decky-es", Hostname: "es-prod-01", IP: "127.0.105.11", DataDir: dir}, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	addr := servicetest.ServeTCP(t, svc, "127.0.105.11", Port)
	_, port, _ := net.SplitHostPort(addr)
	ca, err := os.ReadFile(filepath.Join(dir, "http-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, ca, 0o600)
	out := curl(t, "--cacert", caFile, "--resolve", "es-prod-01:"+port+":127.0.105.11", "-u", "elastic:Winter2024", "https://es-prod-01:"+port+"/")
	if !strings.Contains(out, `"reason":"unable to authenticate user [elastic] for REST request [/]"`) {
		t.Fatalf("https: %s", out)
	}
	if f, ok := findEvent(ev.OfType(event.TypeAuth), func(f map[string]string) bool { return f[event.FieldPassword] == "Winter2024" }); !ok || f["session"] == "" {
		t.Errorf("credentials inside TLS: %v", f)
	}
	if got := exchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); got != "" {
		t.Errorf("plain HTTP on the TLS port got %q", got)
	}
}

// TestPythonClient runs the official Python client (elasticsearch-py
// 7.17, which refuses a server without the product header) through
// info, search and an index deletion.
func TestPythonClient(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		testutil.Skip(t, "no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import elasticsearch").Run(); err != nil {
		testutil.Skip(t, "python3-elasticsearch is not installed")
	}
	addr, ev := start(t, "127.0.105.6", persona(nil))
	script := `
import sys, warnings
warnings.simplefilter("ignore")
from elasticsearch import Elasticsearch
es = Elasticsearch(["http://` + addr + `"], http_auth=("admin", "pw1"))
print(es.info()["version"]["number"])
print(es.search(index="orders", size=2)["hits"]["hits"][1]["_index"])
print(es.indices.delete(index="users")["acknowledged"])
`
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	if string(out) != "7.17.9\norders\nTrue\n" {
		t.Fatalf("python client printed %q", out)
	}
	evs := ev.All()
	if f, ok := findEvent(evs, func(f map[string]string) bool { return f[event.FieldMethod] == "DELETE" }); !ok || f["index"] != "users" || !strings.HasPrefix(f[event.FieldUserAgent], "elasticsearch-py/7.17") {
		t.Errorf("delete event %v", f)
	}
	if _, ok := findEvent(evs, func(f map[string]string) bool { return f[event.FieldPassword] == "pw1" }); !ok {
		t.Error("python client's credentials not captured")
	}
}

// TestNmap checks what nmap -sV names. Releases before 7.14 match its
// Elasticsearch REST API signature. 7.14 and later send X-elastic-product
// before content-type, which that signature does not allow, so nmap 7.93
// does not recognise them, as it does not recognise the real product; the
// light scan (intensity 0) shows that without minutes of probe timeouts.
func TestNmap(t *testing.T) {
	for _, tc := range []struct {
		version, host string
		args          []string
		want          *regexp.Regexp
	}{
		{"7.10.2", "127.0.105.7", nil, regexp.MustCompile(`9200/tcp open  http +Elasticsearch REST API 7\.10\.2 \(name: es-prod-01; cluster: elasticsearch; Lucene 8\.7\.0\)`)},
		{"7.17.9", "127.0.105.8", []string{"--version-intensity", "0"}, regexp.MustCompile(`9200/tcp open  wap-wsp\?\n`)},
	} {
		t.Run(tc.version, func(t *testing.T) {
			srv := newServer(service.Config{Host: service.Host{Name: "decky-es", Hostname: "es-prod-01", IP: tc.host}, Emit: &testutil.Events{}},
				persona(func(p *Persona) { p.Version = tc.version }))
			servicetest.ServeRealPorts(t, srv, tc.host, Service{}.Info().Ports...)
			args := append([]string{"-sV", "-Pn", "-n", "-p", "9200"}, tc.args...)
			testutil.MatchAll(t, testutil.Nmap(t, append(args, tc.host)...), tc.want)
		})
	}
}
