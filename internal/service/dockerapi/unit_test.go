package dockerapi

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

func TestNormalizeRef(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alpine", "alpine:latest"},
		{"docker.io/library/alpine", "alpine:latest"},
		{"alpine:3.18", "alpine:3.18"},
		{"xmrig/xmrig", "xmrig/xmrig:latest"},
		{"registry:5000/x/y", "registry:5000/x/y:latest"},
		{"registry:5000/x/y:v1", "registry:5000/x/y:v1"},
		{"alpine@sha256:abcd", "alpine@sha256:abcd"},
	} {
		if got := normalizeRef(tc.in); got != tc.want {
			t.Errorf("normalizeRef(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The expectations are go-units' and jsonmessage's outputs.
func TestHumanForms(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "Less than a second"}, {time.Second, "1 second"}, {59 * time.Second, "59 seconds"},
		{time.Minute, "About a minute"}, {59 * time.Minute, "59 minutes"}, {time.Hour, "About an hour"},
		{47 * time.Hour, "47 hours"}, {3 * 24 * time.Hour, "3 days"}, {20 * 24 * time.Hour, "2 weeks"},
		{90 * 24 * time.Hour, "3 months"}, {800 * 24 * time.Hour, "2 years"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{{999, "999B"}, {48509, "48.51kB"}, {3408729, "3.409MB"}, {1e9, "1GB"}} {
		if got := humanSize(tc.n); got != tc.want {
			t.Errorf("humanSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got, want := progressBar(48509, 3408729), "[>                                                  ]  48.51kB/3.409MB"; got != want {
		t.Errorf("progressBar = %q, want %q", got, want)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		args          []string
		ok            bool
	}{
		{"/containers/*/json", "containers/abc/json", []string{"abc"}, true},
		{"/containers/*/json", "containers//json", nil, false},
		{"/containers/*", "containers/abc/json", nil, false},
		{"/images/**/json", "images/library/alpine:3/json", []string{"library/alpine:3"}, true},
		{"/images/**/json", "images/json", nil, false},
		{"/images/**", "images/a/b", []string{"a/b"}, true},
		{"/_ping", "_ping", nil, true},
	} {
		args, ok := match(tc.pattern, strings.Split(tc.path, "/"))
		if ok != tc.ok || (ok && strings.Join(args, "|") != strings.Join(tc.args, "|")) {
			t.Errorf("match(%q, %q) = %q, %v", tc.pattern, tc.path, args, ok)
		}
	}
}

func TestPersonaValidate(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{"api_version": "1.44", "version": "25.0.3"}, true},
		{map[string]string{"api_version": "2"}, false},
		{map[string]string{"min_api_version": "1.50"}, false},
		{map[string]string{"containers": "web=nginx,bad"}, false},
		{map[string]string{"containers": "-x=nginx"}, false},
		{map[string]string{"ncpu": "0"}, false},
	} {
		_, err := service.NewPersona(Service{}.Info(), tc.keys)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.keys, err)
		}
	}
}

func TestMiniShell(t *testing.T) {
	ct := &container{ID: "0123456789abcdef", Image: "alpine"}
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"id"}, "uid=0(root) gid=0(root)"},
		{[]string{"sh", "-c", "echo 'a b'; whoami && hostname"}, "a b\nroot\n0123456789ab\n"},
		{[]string{"chroot", "/host", "cat", "/etc/os-release"}, "Alpine Linux"},
		{[]string{"uname", "-r"}, "5.15.0-76-generic\n"},
		{[]string{"curl", "-s", "http://x/m"}, ""},
	} {
		got := newMiniShell(ct, "5.15.0-76-generic").run(tc.argv)
		if (tc.want == "" && got != "") || !strings.Contains(got, tc.want) {
			t.Errorf("%q printed %q, want %q", tc.argv, got, tc.want)
		}
	}
}

// TestCurlFlows drives the API as scripts do with curl-like requests:
// registry credentials (docker login, X-Registry-Auth) become auth
// events, a create with a Mounts bind of / is recorded as an escape.
func TestCurlFlows(t *testing.T) {
	d := start(t, "127.0.106.60", nil)
	do := func(method, path, body string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+d.plain+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/v1.43/auth", `{"username":"deploy","password":"S3cret!","serveraddress":"https://index.docker.io/v1/"}`, nil); code != 200 || !strings.Contains(body, "Login Succeeded") {
		t.Errorf("auth: %d %s", code, body)
	}
	xra := base64.URLEncoding.EncodeToString([]byte(`{"username":"ci","password":"hunter2"}`))
	if code, body := do("POST", "/images/create?fromImage=alpine&tag=3.18", "", map[string]string{"X-Registry-Auth": xra}); code != 200 || !strings.Contains(body, `"status":"Status: Downloaded newer image for alpine:3.18"`) {
		t.Errorf("pull: %d %s", code, body)
	}
	creds := map[string]string{}
	for _, e := range d.ev.OfType(event.TypeAuth) {
		creds[e.Fields[event.FieldUsername]] = e.Fields[event.FieldPassword]
	}
	if creds["deploy"] != "S3cret!" || creds["ci"] != "hunter2" {
		t.Errorf("credentials recorded: %v", creds)
	}
	code, body := do("POST", "/containers/create?name=x1", `{"Image":"alpine:3.18","Cmd":"sleep 1d","HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/mnt"}],"PidMode":"host"}}`, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	c := commands(d.ev, "container_create")
	if len(c) != 1 || c[0].Fields["escape"] != "bind /, pid host" || c[0].Fields["binds"] != `["/:/mnt"]` || c[0].Fields[event.FieldCommand] != "sleep 1d" {
		t.Errorf("create event: %v", c)
	}
	if code, body := do("POST", "/containers/create?name=x1", `{"Image":"alpine:3.18"}`, nil); code != 409 || !strings.Contains(body, `The container name \"/x1\" is already in use`) {
		t.Errorf("duplicate name: %d %s", code, body)
	}
	if code, body := do("POST", "/containers/create", `{"Image":"nosuch/image"}`, nil); code != 404 || body != "{\"message\":\"No such image: nosuch/image:latest\"}\n" {
		t.Errorf("unknown image: %d %q", code, body)
	}
	if code, body := do("POST", "/containers/create", `{"Image":"alpine"}`, map[string]string{"Content-Type": "text/plain"}); code != 400 || !strings.Contains(body, "unsupported Content-Type header (text/plain)") {
		t.Errorf("content type: %d %q", code, body)
	}
}

// TestAttachTTY is docker run -it: attach with stdin before the start,
// then a terminal's keystrokes; each line is recorded and answered with
// the echo and the shell's prompt.
func TestAttachTTY(t *testing.T) {
	d := start(t, "127.0.106.61", map[string]string{"containers": "web=nginx:1.25"})
	resp, err := http.Post("http://"+d.plain+"/v1.43/images/create?fromImage=alpine&tag=latest", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp, err = http.Post("http://"+d.plain+"/v1.43/containers/create", "application/json",
		strings.NewReader(`{"Image":"alpine","Cmd":["sh"],"Tty":true,"OpenStdin":true,"AttachStdin":true}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := strings.TrimSuffix(strings.TrimPrefix(string(b), `{"Id":"`), "\",\"Warnings\":[]}\n")
	dial := func() (net.Conn, error) { return net.Dial("tcp", d.plain) }
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /v1.43/containers/"+id+"/attach?stdin=1&stdout=1&stderr=1&stream=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
	head := make([]byte, len("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"))
	if _, err := io.ReadFull(c, head); err != nil || !strings.Contains(string(head), "raw-stream") {
		t.Fatalf("attach answered %q (%v)", head, err)
	}
	resp, err = http.Post("http://"+d.plain+"/v1.43/containers/"+id+"/start", "", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("start: %v %v", resp, err)
	}
	resp.Body.Close()
	io.WriteString(c, "id\r")
	want := "/ # id\r\nuid=0(root)"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Errorf("terminal shows %q (%v), want %q", got, err, want)
	}
	testutil.Eventually(t, "the typed line", func() bool {
		l := commands(d.ev, "attach_stdin")
		return len(l) == 1 && l[0].Fields[event.FieldCommand] == "id" && l[0].Fields["tty"] == "true"
	})
}
