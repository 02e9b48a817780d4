package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

// binary is the decnet binary the end-to-end tests run, built once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "decnet-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "decnet")
	// Static, as released: the docker runtime's image holds this binary.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building decnet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// attackerIP is where the test's attacks come from.
const attackerIP = "127.66.0.9"

// attackedFleet starts `decnet up` with the fleet INI text, its deckies
// from base upwards in prefix, which the attacker reaches from attackerIP
// where routing allows (root). It returns the node, the source address
// the store must show, and the test's directory.
func attackedFleet(t *testing.T, ini, base, prefix string) (n *node, src, dir string) {
	t.Helper()
	routed := routeAttacker(t, prefix)
	if !routed && testutil.InCI() {
		t.Fatal("CI runs as root: the attacker route must work")
	}
	src = attackerIP
	if !routed {
		src = "127.0.0.1"
	}
	dir = t.TempDir()
	file := filepath.Join(dir, "fleet.ini")
	if err := os.WriteFile(file, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return startNode(t, filepath.Join(dir, "data"), freePort(t), "--config", file, "--ip-base", base), src, dir
}

// routeAttacker makes connections to the fleet's /24 leave from attackerIP,
// for clients that cannot bind a source address (redis-cli). It changes
// only the loopback routing of a range the test owns, and undoes it.
func routeAttacker(t *testing.T, prefix string) bool {
	t.Helper()
	route := []string{"local", prefix, "dev", "lo", "src", attackerIP, "table", "local"}
	exec.Command("ip", append([]string{"route", "del"}, route...)...).Run() // left over by a killed run
	if out, err := exec.Command("ip", append([]string{"route", "add"}, route...)...).CombinedOutput(); err != nil {
		t.Logf("cannot route %s from %s (%v: %s); clients without a bind option will come from 127.0.0.1", prefix, attackerIP, err, out)
		return false
	}
	t.Cleanup(func() { exec.Command("ip", append([]string{"route", "del"}, route...)...).Run() })
	return true
}

// node is a running `decnet up` or `decnet api`.
type node struct {
	t     testing.TB
	cmd   *exec.Cmd
	api   string
	mu    sync.Mutex
	out   bytes.Buffer
	ports map[string]string // "decky/service" -> port it listens on
	done  chan error
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var tableRow = regexp.MustCompile(`^(\S+)\s+(\d+\.\d+\.\d+\.\d+)\s`)
var binding = regexp.MustCompile(`(\w+) (\d+)/(?:tcp|udp)(?: -> (\d+))?`)

// startNode starts `decnet up` with the e2e admin account.
func startNode(t testing.TB, dataDir, listen string, args ...string) *node {
	t.Helper()
	env := []string{"DECNET_ADMIN_USER=analyst", "DECNET_ADMIN_PASSWORD=e2e-admin-password"}
	return startDecnet(t, listen, env, append([]string{"up", "--data-dir", dataDir, "--listen", listen}, args...)...)
}

// cleanEnv is the test's environment without DECNET_ variables, which
// would change what the commands under test do.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DECNET_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startDecnet runs a long-running decnet command (up or api) whose API
// listens on listen, and waits until it says it is ready.
func startDecnet(t testing.TB, listen string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, api: "http://" + listen + "/api/v1", ports: map[string]string{}, done: make(chan error, 1)}
	n.cmd = exec.Command(binary, args...)
	n.cmd.Env = cleanEnv(env...)
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.cmd.Stderr = &lockedWriter{mu: &n.mu, w: &n.out}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.out.WriteString(line + "\n")
			if m := tableRow.FindStringSubmatch(line); m != nil {
				for _, b := range binding.FindAllStringSubmatch(line, -1) {
					port := b[2]
					if b[3] != "" {
						port = b[3]
					}
					// decky/service is its first declared port;
					// decky/service/declared names each.
					if _, ok := n.ports[m[1]+"/"+b[1]]; !ok {
						n.ports[m[1]+"/"+b[1]] = port
					}
					n.ports[m[1]+"/"+b[1]+"/"+b[2]] = port
				}
			}
			n.mu.Unlock()
			if strings.HasPrefix(line, "Press Ctrl-C") && !signalled {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
		n.done <- n.cmd.Wait()
	}()
	t.Cleanup(func() {
		n.cmd.Process.Kill()
	})
	select {
	case <-ready:
	case err := <-n.done:
		t.Fatalf("decnet %s exited: %v\n%s", args[0], err, n.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("decnet %s not ready in 60s:\n%s", args[0], n.output())
	}
	return n
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (n *node) output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.String()
}

func (n *node) port(decky, svc string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.ports[decky+"/"+svc]
	if !ok {
		n.t.Fatalf("no %s port for %s in the fleet table:\n%s", svc, decky, n.out.String())
	}
	return p
}

// stop sends SIGINT and expects a clean exit.
func (n *node) stop() {
	n.t.Helper()
	n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Fatalf("decnet exit: %v\n%s", err, n.output())
		}
	case <-time.After(30 * time.Second):
		n.t.Fatalf("decnet did not stop in 30s:\n%s", n.output())
	}
}

// token logs in with the account startNode creates.
func (n *node) token() string {
	n.t.Helper()
	tok, _ := n.login("analyst", "e2e-admin-password")
	return tok
}

// login returns an access token of the user and whether the user must
// change the password first.
func (n *node) login(user, password string) (token string, mustChange bool) {
	n.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(n.api+"/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken        string `json:"access_token"`
		MustChangePassword bool   `json:"must_change_password"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		n.t.Fatalf("login %s: %d %v", user, resp.StatusCode, err)
	}
	return tok.AccessToken, tok.MustChangePassword
}

func (n *node) get(token, path string, out any) {
	n.t.Helper()
	req, _ := http.NewRequest("GET", n.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		n.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		n.t.Fatal(err)
	}
}

// logs returns the logs matching a search, waiting up to a few seconds for
// at least one.
func (n *node) logs(token, search string) []store.Log {
	n.t.Helper()
	var page store.Page[store.Log]
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n.get(token, "/logs?limit=1000&search="+url.QueryEscape(search), &page)
		if len(page.Data) > 0 || time.Now().After(deadline) {
			return page.Data
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// bounty reports whether the store holds a credential bounty of service
// from src whose payload matches, waiting up to ten seconds: the last
// attacks may still be on their way through the pipeline.
func (n *node) bounty(token, service, src string, match func(map[string]any) bool) bool {
	n.t.Helper()
	var page store.Page[store.Bounty]
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n.get(token, "/bounty?bounty_type=credential&limit=1000", &page)
		for _, b := range page.Data {
			if b.Service == service && b.AttackerIP == src && match(b.Payload) {
				return true
			}
		}
		if time.Now().After(end) {
			n.t.Logf("credential bounties: %+v", page.Data)
			return false
		}
	}
}

// payload matches a bounty payload holding every key of want with its value.
func payload(want map[string]string) func(map[string]any) bool {
	return func(p map[string]any) bool {
		for k, v := range want {
			if p[k] != v {
				return false
			}
		}
		return true
	}
}

func findLog(logs []store.Log, match func(store.Log) bool) *store.Log {
	for i := range logs {
		if match(logs[i]) {
			return &logs[i]
		}
	}
	return nil
}

const e2eFleet = `# an INI fleet for the end-to-end test
[target]
services = ssh, http, https, redis   ; inline comments are stripped
[target.ssh]
password = Tr0ub4dor&3
[target.redis]
password = s3cr3t-redis
`

// TestEndToEndRealClients drives a real fleet with real attackers' tools
// and checks that each interaction is in the API, attributed correctly.
func TestEndToEndRealClients(t *testing.T) {
	sshpass := testutil.RequireTool(t, "sshpass")
	testutil.RequireTool(t, "ssh")
	redisCLI := testutil.RequireTool(t, "redis-cli")
	curl := testutil.RequireTool(t, "curl")

	const base = "127.77.200.10"
	routed := routeAttacker(t, "127.77.200.0/24")
	dir := t.TempDir()
	ini := filepath.Join(dir, "fleet.ini")
	os.WriteFile(ini, []byte(e2eFleet), 0o600)
	n := startNode(t, filepath.Join(dir, "data"), freePort(t), "--config", ini, "--ip-base", base)

	sshArgs := func(cmd string) []string {
		return []string{"-p", "Tr0ub4dor&3", "ssh", "-b", attackerIP, "-p", n.port("target", "ssh"),
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password", "root@" + base, cmd}
	}
	if out := run(t, sshpass, sshArgs("uname -a")...); !strings.HasPrefix(out, "Linux ") {
		t.Errorf("uname -a answered %q", out)
	}
	run(t, sshpass, sshArgs("echo written-in-one-session > /tmp/e2e.txt")...)
	if out := run(t, sshpass, sshArgs("cat /tmp/e2e.txt")...); out != "written-in-one-session\n" {
		t.Errorf("file written in one session read back %q in another", out)
	}
	redisPort := n.port("target", "redis")
	if out := run(t, redisCLI, "-h", base, "-p", redisPort, "--no-auth-warning", "-a", "s3cr3t-redis", "KEYS", "*"); !strings.Contains(out, "config:db_password") {
		t.Errorf("KEYS * answered %q", out)
	}
	run(t, redisCLI, "-h", base, "-p", redisPort, "AUTH", "guessed-wrong")
	run(t, curl, "-s", "-o", "/dev/null", "--interface", attackerIP, "-u", "alice:wonderland", "http://"+base+":"+n.port("target", "http")+"/")
	run(t, curl, "-sk", "-o", "/dev/null", "--interface", attackerIP, "-u", "bob:builder", "https://"+base+":"+n.port("target", "https")+"/")

	token := n.token()
	fromAttacker := func(l store.Log) bool {
		return l.AttackerIP == attackerIP && l.Fields["src_ip"] == attackerIP && l.Decky == "target"
	}

	auth := n.logs(token, `service:ssh event:auth username:root password:"Tr0ub4dor&3"`)
	if l := findLog(auth, fromAttacker); l == nil || l.Fields["success"] != "true" {
		t.Errorf("ssh login not recorded as a successful auth from %s: %+v", attackerIP, auth)
	}
	cmds := n.logs(token, "service:ssh event:command")
	for _, want := range []string{"uname -a", "echo written-in-one-session > /tmp/e2e.txt", "cat /tmp/e2e.txt"} {
		if findLog(cmds, func(l store.Log) bool { return fromAttacker(l) && l.Fields["command"] == want }) == nil {
			t.Errorf("ssh command %q not recorded: %+v", want, cmds)
		}
	}
	redisSrc := attackerIP
	if !routed {
		if testutil.InCI() {
			t.Fatal("CI runs as root: the attacker route must work")
		}
		redisSrc = "127.0.0.1"
	}
	redisFrom := func(l store.Log) bool { return l.AttackerIP == redisSrc && l.Decky == "target" }
	rauth := n.logs(token, "service:redis event:auth")
	if findLog(rauth, func(l store.Log) bool {
		return redisFrom(l) && l.Fields["password"] == "s3cr3t-redis" && l.Fields["success"] == "true"
	}) == nil ||
		findLog(rauth, func(l store.Log) bool {
			return redisFrom(l) && l.Fields["password"] == "guessed-wrong" && l.Fields["success"] == "false"
		}) == nil {
		t.Errorf("redis AUTH attempts not recorded: %+v", rauth)
	}
	if keys := n.logs(token, "service:redis event:command cmd:KEYS"); findLog(keys, redisFrom) == nil {
		t.Errorf("redis KEYS not recorded: %+v", keys)
	}
	hauth := n.logs(token, "service:http event:auth")
	if findLog(hauth, func(l store.Log) bool {
		return fromAttacker(l) && l.Fields["username"] == "alice" && l.Fields["password"] == "wonderland"
	}) == nil {
		t.Errorf("http basic credentials not recorded: %+v", hauth)
	}
	if findLog(n.logs(token, "service:https event:auth"), func(l store.Log) bool {
		return fromAttacker(l) && l.Fields["username"] == "bob" && l.Fields["password"] == "builder"
	}) == nil || findLog(n.logs(token, "service:https event:tls"), func(l store.Log) bool {
		return fromAttacker(l) && l.Fields["version"] == "TLS 1.3"
	}) == nil {
		t.Errorf("https credentials or handshake not recorded")
	}
	if reqs := n.logs(token, "service:http event:request"); findLog(reqs, func(l store.Log) bool {
		return fromAttacker(l) && l.Fields["method"] == "GET" && strings.HasPrefix(l.Fields["user_agent"], "curl/")
	}) == nil {
		t.Errorf("http request not recorded: %+v", reqs)
	}

	var bounties store.Page[store.Bounty]
	n.get(token, "/bounty?bounty_type=credential&limit=1000", &bounties)
	for _, want := range [][3]string{{"root", "Tr0ub4dor&3", attackerIP}, {"default", "s3cr3t-redis", redisSrc}, {"alice", "wonderland", attackerIP}, {"bob", "builder", attackerIP}} {
		found := false
		for _, b := range bounties.Data {
			if b.AttackerIP == want[2] && b.Payload["username"] == want[0] && b.Payload["password"] == want[1] {
				found = true
			}
		}
		if !found {
			t.Errorf("no credential bounty %v: %+v", want, bounties.Data)
		}
	}
	n.stop()
	if out := n.output(); !strings.Contains(out, "stopping") {
		t.Errorf("no clean stop message:\n%s", out)
	}
}

// TestFailedStartKeepsFirstPassword: a start that fails (a taken port)
// must not create the admin account, whose password is shown only once;
// the next start creates it and prints the password.
func TestFailedStartKeepsFirstPassword(t *testing.T) {
	const ip = "127.77.203.10"
	taken, err := net.Listen("tcp", ip+":6379")
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	up := func() (string, error) {
		cmd := exec.Command(binary, "up", "--data-dir", data, "--listen", freePort(t),
			"--services", "redis", "--deckies", "1", "--ip-base", ip)
		cmd.Env = cleanEnv()
		var mu sync.Mutex
		var out bytes.Buffer
		cmd.Stdout = &lockedWriter{mu: &mu, w: &out}
		cmd.Stderr = cmd.Stdout
		output := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			select {
			case err := <-done:
				return output(), err
			default:
			}
			if strings.Contains(output(), "Press Ctrl-C") {
				cmd.Process.Signal(syscall.SIGINT)
				return output(), <-done
			}
		}
		cmd.Process.Kill()
		<-done
		t.Fatalf("decnet up neither started nor failed in 30s:\n%s", output())
		return "", nil
	}
	out, err := up()
	if err == nil || !strings.Contains(out, "cannot bind "+ip+":6379") {
		t.Fatalf("start with a taken port: err %v\n%s", err, out)
	}
	taken.Close()
	out, _ = up()
	if !regexp.MustCompile(`Admin: +user "admin", password \S+`).MatchString(out) {
		t.Fatalf("the first successful start did not print the admin password:\n%s", out)
	}
}
