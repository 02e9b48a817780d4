package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/pipeline"
)

// decnet runs a short decnet command with stdin and returns its output
// (stdout and stderr) and whether it succeeded.
func decnet(t *testing.T, stdin string, args ...string) (string, bool) {
	t.Helper()
	return decnetEnv(t, nil, stdin, args...)
}

// decnetEnv is decnet with environment variables added.
func decnetEnv(t *testing.T, env []string, stdin string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Fatalf("decnet %s: %v", strings.Join(args, " "), err)
	}
	return string(out), err == nil
}

var generatedPassword = regexp.MustCompile(`(?m)^password: [A-Z2-7]{26}$`)

// userRows reads `decnet user list`: username -> "role must_change".
func userRows(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "UUID") {
		t.Fatalf("user list without its header:\n%s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 || len(f[0]) != 36 {
			t.Fatalf("user list row %q", l)
		}
		rows[f[1]] = f[2] + " " + f[3]
	}
	return rows
}

// TestUserCommands manages users of a SQLite store through the CLI, step
// by step, each step checking its output and the users it leaves.
func TestUserCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	steps := []struct {
		args  []string
		stdin string
		fails bool
		want  string            // in the output
		users map[string]string // the list afterwards, when set
	}{
		{args: []string{"list"}, users: map[string]string{}},
		{args: []string{"add", "root-admin", "--role", "admin"}, want: "must be changed at first login",
			users: map[string]string{"root-admin": "admin true"}},
		{args: []string{"add", "alice", "--role", "analyst", "--password-stdin"}, stdin: "alice-password\n",
			want: `user "alice" added with role analyst`},
		{args: []string{"add", "alice"}, fails: true, want: "already exists"},
		{args: []string{"add", "bob", "--role", "root"}, fails: true, want: `unknown role "root"`},
		{args: []string{"add", "bob smith"}, fails: true, want: "use letters, digits"},
		{args: []string{"add", strings.Repeat("b", 65)}, fails: true, want: "user name must be 1 to 64 bytes"},
		{args: []string{"add", "bob", "--password-stdin"}, stdin: "short\n", fails: true, want: "8 to 72 bytes"},
		{args: []string{"add", "bob"}, want: `role viewer`,
			users: map[string]string{"root-admin": "admin true", "alice": "analyst true", "bob": "viewer true"}},
		{args: []string{"passwd", "alice", "--password-stdin", "--no-change"}, stdin: "alice-password-2\n", want: `password of user "alice" set`,
			users: map[string]string{"root-admin": "admin true", "alice": "analyst false", "bob": "viewer true"}},
		{args: []string{"passwd", "bob"}, want: "must be changed"},
		{args: []string{"rm", "root-admin"}, fails: true, want: "last admin"},
		{args: []string{"role", "root-admin", "viewer"}, fails: true, want: "last admin"},
		{args: []string{"role", "alice", "admin"}, want: `user "alice" is now admin`},
		{args: []string{"role", "root-admin", "viewer"}},
		{args: []string{"rm", "alice"}, fails: true, want: "last admin"},
		{args: []string{"rm", "root-admin"}, want: `user "root-admin" removed`},
		{args: []string{"rm", "nobody"}, fails: true, want: `no user "nobody"`},
		{args: []string{"role", "bob", "superuser"}, fails: true, want: "unknown role"},
		{args: []string{"list"}, users: map[string]string{"alice": "admin false", "bob": "viewer true"}},
	}
	for _, st := range steps {
		args := append([]string{"user"}, st.args...)
		out, ok := decnet(t, st.stdin, append(args, "--data-dir", data)...)
		name := strings.Join(args, " ")
		if ok == st.fails {
			t.Fatalf("%s: succeeded %v, want %v:\n%s", name, ok, !st.fails, out)
		}
		if !strings.Contains(out, st.want) {
			t.Errorf("%s: output lacks %q:\n%s", name, st.want, out)
		}
		// A password is printed exactly when one was generated.
		generated := ok && (st.args[0] == "add" || st.args[0] == "passwd") && st.stdin == ""
		if printed := generatedPassword.MatchString(out); printed != generated {
			t.Errorf("%s: generated password printed %v, want %v:\n%s", name, printed, generated, out)
		}
		if st.users != nil {
			list, _ := decnet(t, "", "user", "list", "--data-dir", data)
			if got := userRows(t, list); !maps.Equal(got, st.users) {
				t.Fatalf("after %s: users %v, want %v", name, got, st.users)
			}
		}
	}
}

// TestDBCommands checks the schema commands on SQLite and the one way
// every command chooses its database: flag, else environment, else the
// data directory.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	db := filepath.Join(data, "decnet.db")
	other := filepath.Join(dir, "elsewhere", "other.db")
	for _, st := range []struct {
		env   []string
		args  []string
		fails bool
		want  *regexp.Regexp
		files map[string]bool // whether each file exists afterwards
	}{
		{args: []string{"db", "status"}, want: regexp.MustCompile(`^sqlite \S+/data/decnet.db: schema version 0 of ([1-9]\d*), \d+ migration\(s\) pending`),
			files: map[string]bool{db: false}},
		{args: []string{"db", "migrate"}, want: regexp.MustCompile(`schema migrated from version 0 to [1-9]`), files: map[string]bool{db: true}},
		{args: []string{"db", "migrate"}, want: regexp.MustCompile(`schema version [1-9]\d*, up to date`)},
		{args: []string{"db", "status"}, want: regexp.MustCompile(`schema version (\d+) of (\d+), up to date`)},
		{env: []string{"DECNET_DB_URL=" + other}, args: []string{"db", "migrate"},
			want: regexp.MustCompile(`^sqlite \S+/elsewhere/other.db: schema migrated from version 0`), files: map[string]bool{other: true}},
		{env: []string{"DECNET_DB_TYPE=oracle"}, args: []string{"user", "list"}, fails: true, want: regexp.MustCompile(`unknown database type "oracle"`)},
		{env: []string{"DECNET_DB_TYPE=oracle"}, args: []string{"db", "status", "--db-type", "sqlite"}, want: regexp.MustCompile(`up to date`)},
		{args: []string{"db", "status", "--db-type", "postgres", "--db-url", "postgres://u:hunter2@127.77.220.9:1/x?connect_timeout=2"},
			fails: true, want: regexp.MustCompile(`^decnet: [^\n]*127\.77\.220\.9`)},
	} {
		out, ok := decnetEnv(t, st.env, "", append(st.args, "--data-dir", data)...)
		name := strings.Join(append(st.env, st.args...), " ")
		if ok == st.fails || !st.want.MatchString(out) {
			t.Errorf("%s: succeeded %v, output:\n%s\nwant %v", name, ok, out, st.want)
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s: the password of the database URL is shown:\n%s", name, out)
		}
		for f, want := range st.files {
			if _, err := os.Stat(f); (err == nil) != want {
				t.Errorf("%s: %s exists %v, want %v", name, f, err == nil, want)
			}
		}
	}
}

// request sends a JSON request with a bearer token and returns the status
// and body.
func (n *node) request(token, method, path string, body any) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.api+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var seededAdmin = regexp.MustCompile(`Admin: +user "admin", password (\S+)`)

// TestAPICommand runs `decnet api` alone: it seeds and prints the first
// admin, serves its OpenAPI document and health, accepts users added by
// `decnet user` while it runs, and stores what is appended to its ingest
// file.
func TestAPICommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ln, err := net.Listen("tcp", "127.77.220.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	n := startDecnet(t, listen, nil, "api", "--data-dir", data, "--listen", listen)
	m := seededAdmin.FindStringSubmatch(n.output())
	if m == nil {
		t.Fatalf("no admin password printed:\n%s", n.output())
	}

	status, body := n.request("", "GET", "/openapi.json", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/health"] == nil {
		t.Errorf("GET /openapi.json: %d %.300s", status, body)
	}

	token, mustChange := n.login("admin", m[1])
	if !mustChange {
		t.Error("the seeded admin need not change the printed password")
	}
	if status, body := n.request(token, "GET", "/health", nil); status != http.StatusForbidden {
		t.Errorf("health before the password change: %d %s", status, body)
	}
	status, body = n.request(token, "POST", "/auth/change-password",
		map[string]string{"old_password": m[1], "new_password": "a long new passphrase"})
	var changed struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &changed) != nil || changed.AccessToken == "" {
		t.Fatalf("change-password: %d %s", status, body)
	}
	checkHealth := func(token string) {
		t.Helper()
		var health struct {
			Status     string         `json:"status"`
			Components map[string]any `json:"components"`
		}
		n.get(token, "/health", &health)
		for _, c := range []string{"database", "ingester", "profiler"} {
			if health.Components[c] == nil {
				t.Errorf("health lacks %s: %+v", c, health)
			}
		}
	}
	checkHealth(changed.AccessToken)

	// A user added by the CLI, into the store the API is serving.
	if out, ok := decnet(t, "ops-password\n", "user", "add", "ops", "--password-stdin", "--no-change", "--data-dir", data); !ok {
		t.Fatalf("user add while the API runs: %s", out)
	}
	opsToken, mustChange := n.login("ops", "ops-password")
	if mustChange {
		t.Error("user added with --no-change must change the password")
	}
	checkHealth(opsToken)

	// A sensor elsewhere appending to the ingest file.
	em, err := pipeline.NewFileEmitter(filepath.Join(data, "events.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	em.Emit(event.Event{Decky: "sensor-07", Service: "ssh", Type: "connect", Severity: event.Info,
		Fields: map[string]string{"src_ip": "198.51.100.7"}})
	em.Close()
	if logs := n.logs(opsToken, "decky:sensor-07"); len(logs) != 1 || logs[0].AttackerIP != "198.51.100.7" {
		t.Errorf("the ingest file's event is not stored as one log from its source: %+v", logs)
	}
	n.stop()
}

// TestLocalStatusTeardown checks that a local fleet is visible to status
// from another process, refuses the docker-only mutate command with a
// pointer to what works, and stops with teardown --all.
func TestLocalStatusTeardown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	n := startNode(t, data, freePort(t), "--services", "redis", "--deckies", "2", "--ip-base", "127.77.230.10", "--shift-ports")
	status, ok := decnet(t, "", "status", "--data-dir", data)
	if !ok || !strings.Contains(status, "Deployment: local, served by process") || !strings.Contains(status, "(running)") ||
		!regexp.MustCompile(`(?m)^decky-01\s+127\.77\.230\.10\s.*redis:running\s+up$`).MatchString(status) ||
		!strings.Contains(status, "Workers: UP") {
		t.Fatalf("status of a running local fleet:\n%s", status)
	}
	if out, ok := decnet(t, "", "mutate", "--decky", "decky-01", "--data-dir", data); ok || !strings.Contains(out, "use the API") {
		t.Errorf("mutate on a local fleet: ok=%v\n%s", ok, out)
	}
	if out, ok := decnet(t, "", "teardown", "--id", "decky-01", "--data-dir", data); ok || !strings.Contains(out, "--all") {
		t.Errorf("teardown --id on a local fleet: ok=%v\n%s", ok, out)
	}
	if out, ok := decnet(t, "", "teardown", "--all", "--data-dir", data); !ok || !strings.Contains(out, "stopped process") {
		t.Fatalf("teardown --all: ok=%v\n%s", ok, out)
	}
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("decnet up ended with %v after teardown\n%s", err, n.output())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("decnet up still runs after teardown --all")
	}
	if status, _ := decnet(t, "", "status", "--data-dir", data); !strings.Contains(status, "Nothing is deployed") || !strings.Contains(status, "Workers: DOWN") {
		t.Errorf("status after teardown:\n%s", status)
	}
}
