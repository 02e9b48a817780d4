package k8s

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// rawHTTP10 sends one HTTP/1.0 request over TLS, as nmap's probes do, and
// returns the response head's header names and the body.
func rawHTTP10(t *testing.T, addr, req string) (status string, names []string, body string) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, req)
	br := bufio.NewReader(c)
	status, _ = br.ReadString('\n')
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
		name, _, _ := strings.Cut(line, ":")
		names = append(names, name)
	}
	b, _ := io.ReadAll(br)
	return strings.TrimSpace(status), names, string(b)
}

// TestAnonymousAsRealAPIServer compares the answers to nmap's probes with
// those a real kube-apiserver gave them (nmap -sV fingerprint of a
// minikube v1.2x apiserver): status, header order and the exact Status
// bodies.
func TestAnonymousAsRealAPIServer(t *testing.T) {
	ts := start(t, nil, testIP)
	wantNames := []string{"Audit-Id", "Cache-Control", "Content-Type", "X-Content-Type-Options", "X-Kubernetes-Pf-Flowschema-Uid", "X-Kubernetes-Pf-Prioritylevel-Uid", "Date", "Content-Length"}
	for _, tc := range []struct{ req, body string }{
		{"GET / HTTP/1.0\r\n\r\n", `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/\"","reason":"Forbidden","details":{},"code":403}` + "\n"},
		{"OPTIONS / HTTP/1.0\r\n\r\n", `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot options path \"/\"","reason":"Forbidden","details":{},"code":403}` + "\n"},
		{"GET /nice%20ports%2C/Tri%6Eity.txt%2ebak HTTP/1.0\r\n\r\n", `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/nice ports,/Trinity.txt.bak\"","reason":"Forbidden","details":{},"code":403}` + "\n"},
	} {
		status, names, body := rawHTTP10(t, ts.secure, tc.req)
		if status != "HTTP/1.0 403 Forbidden" || strings.Join(names, ",") != strings.Join(wantNames, ",") || body != tc.body {
			t.Errorf("%q:\n%s\n%v\n%s", tc.req, status, names, body)
		}
	}
}

// TestCurl drives the API with curl: anonymous refusals in the
// apiserver's words (pretty-printed, as for any curl), health and version
// open to all, a bearer token captured and answered with bait.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	ts := start(t, nil, testIP)
	run := func(args ...string) string {
		out, err := exec.Command(curl, append([]string{"-sk", "--max-time", "10"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	base := "https://" + ts.secure
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/namespaces/default/pods", `"message": "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""`},
		{"/api/v1/namespaces/kube-system/secrets/bootstrap-token-x", `"message": "secrets \"bootstrap-token-x\" is forbidden: User \"system:anonymous\" cannot get resource \"secrets\" in API group \"\" in the namespace \"kube-system\""`},
		{"/api/v1/nodes", `"message": "nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"`},
		{"/apis/apps/v1/deployments", `"message": "deployments.apps is forbidden: User \"system:anonymous\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"`},
		{"/api", `"message": "forbidden: User \"system:anonymous\" cannot get path \"/api\""`},
		{"/healthz", "ok"},
		{"/version", `"gitVersion": "v1.28.3"`},
	} {
		if got := run(base + tc.path); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got\n%s\nwant %s", tc.path, got, tc.want)
		}
	}
	// A refused creation is recorded in full all the same.
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"h"},"spec":{"containers":[{"name":"h","image":"busybox","command":["chroot","/host"],"securityContext":{"privileged":true}}],"volumes":[{"name":"r","hostPath":{"path":"/"}}]}}`
	if got := run("-X", "POST", "-H", "Content-Type: application/json", "-d", pod, base+"/api/v1/namespaces/default/pods"); !strings.Contains(got,
		`"message": "pods is forbidden: User \"system:anonymous\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\""`) {
		t.Errorf("anonymous create:\n%s", got)
	}
	if c := ts.events.OfType("create"); len(c) != 1 || c[0].Fields["allowed"] != "false" || c[0].Fields["host_paths"] != `["/"]` ||
		c[0].Fields["privileged"] != "true" || c[0].Fields["images"] != `["busybox"]` {
		t.Errorf("create events: %+v", c)
	}
	got := run("-H", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkZWZhdWx0In0.c2ln", base+"/api/v1/secrets")
	if !strings.Contains(got, `"kind": "SecretList"`) || !strings.Contains(got, "db-credentials") {
		t.Fatalf("secrets with a token:\n%s", got)
	}
	auth := ts.events.OfType(event.TypeAuth)
	if len(auth) != 1 || auth[0].Fields[event.FieldTokenType] != "bearer" || !strings.HasPrefix(auth[0].Fields[event.FieldToken], "eyJhbGci") ||
		auth[0].Fields["subject"] != "system:serviceaccount:default:default" || auth[0].Fields[event.FieldSrcIP] == "" {
		t.Fatalf("auth events: %+v", auth)
	}
}

// TestKubectl drives the API with kubectl and a token: discovery, get
// with server-side tables, run, apply of a privileged hostPath pod and
// exec, each recorded in full.
func TestKubectl(t *testing.T) {
	kubectl := testutil.RequireTool(t, "kubectl")
	ts := start(t, nil, testIP)
	dir := t.TempDir()
	k := func(args ...string) (string, error) {
		cmd := exec.Command(kubectl, append([]string{"--server=https://" + ts.secure, "--insecure-skip-tls-verify", "--token=stolen-token-123", "--request-timeout=10s"}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(dir, "none"), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "pods", "-A"}, "kube-apiserver-kube-master-01"},
		{[]string{"get", "secrets", "-n", "production"}, "db-credentials   Opaque   2"},
		{[]string{"get", "nodes"}, "kube-master-01   Ready    control-plane"},
		{[]string{"version"}, "v1.28.3"},
		{[]string{"run", "probe", "--image=alpine", "--", "sh", "-c", "id"}, "pod/probe created"},
		{[]string{"apply", "-f", "testdata/evil-pod.yaml"}, "pod/evil created"},
		{[]string{"exec", "-n", "production", "postgres-0", "--", "cat", "/etc/shadow"}, "error dialing backend"},
		{[]string{"get", "pods"}, "probe"},
	} {
		out, _ := k(tc.args...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("kubectl %v:\n%s\nwant %q", tc.args, out, tc.want)
		}
	}
	creates := ts.events.OfType("create")
	if len(creates) != 2 {
		t.Fatalf("create events: %+v", creates)
	}
	if f := creates[0].Fields; f["images"] != `["alpine"]` || f["commands"] != `["[\"sh\",\"-c\",\"id\"]"]` || f["name"] != "probe" {
		t.Errorf("run: %v", f)
	}
	if f := creates[1].Fields; f["host_paths"] != `["/"]` || f["privileged"] != "true" || f["host_pid"] != "true" || f["images"] != `["alpine:3.18"]` ||
		!strings.Contains(f["commands"], "nsenter") {
		t.Errorf("apply: %v", f)
	}
	cmds := ts.events.OfType(event.TypeCommand)
	if len(cmds) != 1 || cmds[0].Fields[event.FieldCommand] != "cat /etc/shadow" || cmds[0].Fields["pod"] != "postgres-0" {
		t.Errorf("exec: %+v", cmds)
	}
	auth := ts.events.OfType(event.TypeAuth)
	if len(auth) == 0 || auth[0].Fields[event.FieldToken] != "stolen-token-123" || auth[0].Fields[event.FieldSuccess] != "true" {
		t.Errorf("auth: %+v", auth)
	}
}

// TestRejectedToken: a persona that knows no token answers 401 in the
// apiserver's words, and still records the token.
func TestRejectedToken(t *testing.T) {
	ts := start(t, &Persona{Version: "v1.28.3", Auth: authReject}, testIP)
	req, _ := http.NewRequest("GET", "https://"+ts.secure+"/api/v1/pods", nil)
	req.Header.Set("Authorization", "Bearer nope")
	resp, err := insecureClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"
	if resp.StatusCode != 401 || string(b) != want || resp.Header.Get("X-Kubernetes-Pf-Flowschema-Uid") != "" || resp.ProtoMajor != 2 {
		t.Fatalf("%s %v\n%s", resp.Status, resp.Header, b)
	}
	if a := ts.events.OfType(event.TypeAuth); len(a) != 1 || a[0].Fields[event.FieldToken] != "nope" || a[0].Fields[event.FieldSuccess] != "false" {
		t.Fatalf("auth: %+v", a)
	}
}

// TestInsecurePort: 8080 serves the API in plain HTTP to anyone.
func TestInsecurePort(t *testing.T) {
	ts := start(t, nil, testIP)
	resp, err := http.Get("http://" + ts.plain + "/api/v1/namespaces/production/secrets/db-credentials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Kind != "Secret" || s.Data["username"] == "" {
		t.Fatalf("%v %+v", err, s)
	}
	if r := ts.events.OfType(event.TypeRequest); len(r) != 1 || r[0].Fields["resource"] != "secrets" || r[0].Fields["status"] != "200" {
		t.Fatalf("request events: %+v", r)
	}
}

func insecureClient() *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr}
}
