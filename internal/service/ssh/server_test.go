package ssh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

type testServer struct {
	addr string
	ev   *testutil.Events
	srv  *Server
	dir  string
}

// start runs a server for persona p on a loopback address.
func start(t *testing.T, ip, distro string, p *Persona, dir string) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ev := &testutil.Events{}
	sv, err := Service{}.New(service.Config{Host: service.Host{Name: "decky-01", Hostname: "SRV-WEB-17", Distro: distro, IP: "10.0.0.23", DataDir: dir},
		Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	srv := sv.(*Server)
	srv.FailDelay = 10 * time.Millisecond
	return &testServer{addr: servicetest.ServeTCP(t, srv, ip, 22), ev: ev, srv: srv, dir: dir}
}

func dial(t *testing.T, addr, user, pw string) (*gossh.Client, error) {
	t.Helper()
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.Password(pw)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

func run(t *testing.T, c *gossh.Client, cmd string) (string, string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	code := 0
	if err := s.Run(cmd); err != nil {
		var ee *gossh.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run %q: %v", cmd, err)
		}
		code = ee.ExitStatus()
	}
	return out.String(), errb.String(), code
}

func TestLoginExecAndEvents(t *testing.T) {
	ts := start(t, "127.77.0.1", "debian", &Persona{Password: "hunter2", Users: []string{"deploy:deploy1"}}, "")
	if _, err := dial(t, ts.addr, "root", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	c, err := dial(t, ts.addr, "root", "hunter2")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	defer c.Close()
	if got := string(c.ServerVersion()); got != "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10" {
		t.Errorf("banner %q", got)
	}
	tests := []struct {
		cmd, out, errOut string
		code             int
	}{
		{"uname -a", "Linux SRV-WEB-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux\n", "", 0},
		{"whoami; id -u", "root\n0\n", "", 0},
		{"nosuchcmd", "", "bash: line 1: nosuchcmd: command not found\n", 127},
		{"cat /root/projects/.env | grep PASS", "DB_PASS=changeme123\n", "", 0},
		{"false || exit 3", "", "", 3},
	}
	for _, tt := range tests {
		out, errOut, code := run(t, c, tt.cmd)
		if out != tt.out || errOut != tt.errOut || code != tt.code {
			t.Errorf("%q: got (%q, %q, %d), want (%q, %q, %d)", tt.cmd, out, errOut, code, tt.out, tt.errOut, tt.code)
		}
	}
	c2, err := dial(t, ts.addr, "deploy", "deploy1")
	if err != nil {
		t.Fatalf("second account: %v", err)
	}
	if out, _, _ := run(t, c2, "pwd; id"); out != "/home/deploy\nuid=1001(deploy) gid=1001(deploy) groups=1001(deploy)\n" {
		t.Errorf("deploy: %q", out)
	}
	c2.Close()

	testutil.Eventually(t, "command events", func() bool { return len(ts.ev.OfType(event.TypeCommand)) >= len(tests)+1 })
	auths := ts.ev.OfType(event.TypeAuth)
	if len(auths) != 3 {
		t.Fatalf("auth events: %d, want 3", len(auths))
	}
	want := []map[string]string{
		{"username": "root", "password": "wrong", "method": "password", "success": "false"},
		{"username": "root", "password": "hunter2", "method": "password", "success": "true"},
		{"username": "deploy", "password": "deploy1", "method": "password", "success": "true"},
	}
	for i, w := range want {
		for k, v := range w {
			if auths[i].Fields[k] != v {
				t.Errorf("auth %d %s = %q, want %q", i, k, auths[i].Fields[k], v)
			}
		}
		for _, k := range []string{"src_ip", "src_port", "session", "client_version"} {
			if auths[i].Fields[k] == "" {
				t.Errorf("auth %d lacks %s", i, k)
			}
		}
	}
	cmd := ts.ev.OfType(event.TypeCommand)[0]
	if cmd.Fields["command"] != "uname -a" || cmd.Fields["username"] != "root" || cmd.Fields["src_ip"] != "127.0.0.1" {
		t.Errorf("command event %v", cmd.Fields)
	}
	if kex := ts.ev.OfType("client_kex"); len(kex) == 0 || len(kex[0].Fields["hassh"]) != 32 {
		t.Errorf("client_kex events %v", kex)
	}
}

func TestBoundPassword(t *testing.T) {
	ts := start(t, "127.77.0.2", "ubuntu22", &Persona{}, "")
	c, err := dial(t, ts.addr, "root", "123456")
	if err != nil {
		t.Fatalf("default login: %v", err)
	}
	c.Close()
	// Once root got in with one password, the others stop working.
	if _, err := dial(t, ts.addr, "root", "root"); err == nil {
		t.Fatal("a second password worked for root")
	}
	if c, err = dial(t, ts.addr, "root", "123456"); err != nil {
		t.Fatalf("bound password: %v", err)
	}
	c.Close()
}

func TestFileWriteCapturedAndPersistent(t *testing.T) {
	ts := start(t, "127.77.0.3", "rocky9", &Persona{Password: "pw"}, "")
	c, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	run(t, c, "echo payload > /tmp/x.sh; chmod +x /tmp/x.sh")
	c.Close()
	c, err = dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, _, _ := run(t, c, "cat /tmp/x.sh; ls -l /tmp/x.sh | cut -c1-11"); !strings.HasPrefix(out, "payload\n") {
		t.Errorf("second connection reads %q", out)
	}
	testutil.Eventually(t, "file_captured", func() bool { return len(ts.ev.OfType(event.TypeFileCaptured)) == 1 })
	f := ts.ev.OfType(event.TypeFileCaptured)[0].Fields
	if f["orig_path"] != "/tmp/x.sh" || f["size"] != "8" || f["sha256"] != "d4e4877bac978b7952f0d544fc52ebff5411d351d129f1f056fa43f11da9af2b" {
		t.Errorf("file_captured %v", f)
	}
	b, err := os.ReadFile(filepath.Join(ts.dir, "shell", "artifacts", f["stored_as"]))
	if err != nil || string(b) != "payload\n" {
		t.Errorf("artifact %q: %q %v", f["stored_as"], b, err)
	}
}

func TestInteractiveShell(t *testing.T) {
	ts := start(t, "127.77.0.4", "debian", &Persona{Password: "pw"}, "")
	c, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	readUntil := func(marker string) string {
		t.Helper()
		var b strings.Builder
		for !strings.Contains(b.String(), marker) {
			c, err := r.ReadByte()
			if err != nil {
				t.Fatalf("reading for %q: %v (got %q)", marker, err, b.String())
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	banner := readUntil("root@SRV-WEB-17:~# ")
	if !strings.HasPrefix(banner, "Linux SRV-WEB-17 6.1.0-28-amd64") || !strings.Contains(banner, "Last login: ") {
		t.Errorf("login banner %q", banner)
	}
	io.WriteString(in, "cd /tmp; echo hi\r")
	if got := readUntil("root@SRV-WEB-17:/tmp# "); !strings.Contains(got, "\r\nhi\r\n") {
		t.Errorf("echo: %q", got)
	}
	io.WriteString(in, "sleep 5\x03") // Ctrl-C abandons the line
	readUntil("^C\r\n")
	io.WriteString(in, "exit 0\r")
	readUntil("logout\r\n")
	if err := s.Wait(); err != nil {
		t.Errorf("exit status: %v", err)
	}
}

func TestMaxAuthTries(t *testing.T) {
	ts := start(t, "127.77.0.5", "debian", &Persona{Password: "pw"}, "")
	tries := 0
	_, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{User: "root", HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Auth: []gossh.AuthMethod{gossh.RetryableAuthMethod(gossh.PasswordCallback(func() (string, error) {
			tries++
			return "bad", nil
		}), 20)}})
	if err == nil || tries != 6 {
		t.Fatalf("got %d tries, err %v; want 6 then disconnect", tries, err)
	}
}

func TestHostKeysPersist(t *testing.T) {
	dir := t.TempDir()
	keyOf := func(ip string) string {
		ts := start(t, ip, "debian", &Persona{Password: "pw"}, dir)
		var fp string
		c, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{User: "root", Auth: []gossh.AuthMethod{gossh.Password("pw")},
			HostKeyAlgorithms: []string{"rsa-sha2-512"},
			HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
				fp = gossh.FingerprintSHA256(k)
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return fp
	}
	first, second := keyOf("127.77.0.6"), keyOf("127.77.0.7")
	if first == "" || first != second {
		t.Errorf("host key changed across restarts: %s vs %s", first, second)
	}
	for _, name := range []string{"ssh_host_rsa_key", "ssh_host_ecdsa_key", "ssh_host_ed25519_key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}
}

// TestIdentProbes sends the probes scanners and honeypot detectors use and
// expects sshd's exact answers.
func TestIdentProbes(t *testing.T) {
	ts := start(t, "127.77.0.8", "debian", &Persona{Password: "pw"}, "")
	banner := "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"
	tests := []struct {
		name, send, want string
		kexinit          bool
	}{
		{"honeydet", "SSH-1111-x\r\n", banner + "Invalid SSH identification string.\r\n", false},
		{"ssh1", "SSH-1.5-Nmap-SSH1-Hostkey\r\n", banner + "Protocol major versions differ.\r\n", false},
		{"http", "GET / HTTP/1.0\r\n\r\n", banner + "Invalid SSH identification string.\r\n", false},
		{"nul", "SSH-2.0-a\x00b\r\n", banner + "Invalid SSH identification string.\r\n", false},
		{"empty software", "SSH-2.0-\r\n", banner + "Invalid SSH identification string.\r\n", false},
		{"1.99", "SSH-1.99-OpenSSH_3.9\r\n", banner, true},
		{"valid", "SSH-2.0-OpenSSH_9.2p1\r\n", banner, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testutil.Dial(t, ts.addr, 5*time.Second)
			defer c.Close()
			io.WriteString(c, tt.send)
			if !tt.kexinit {
				got, _ := io.ReadAll(c)
				if string(got) != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				return
			}
			got := make([]byte, len(tt.want)+6)
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatal(err)
			}
			if string(got[:len(tt.want)]) != tt.want || got[len(tt.want)+5] != 20 {
				t.Errorf("got %q, want banner then KEXINIT", got)
			}
		})
	}
}

// TestRealClient logs in with OpenSSH's ssh, driven by sshpass.
func TestRealClient(t *testing.T) {
	sshpass := testutil.RequireTool(t, "sshpass")
	testutil.RequireTool(t, "ssh")
	ts := start(t, "127.77.0.9", "debian", &Persona{Password: "S3cret!"}, "")
	_, port, _ := net.SplitHostPort(ts.addr)
	ssh := func(cmd string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, sshpass, "-p", "S3cret!", "ssh", "-b", "127.66.0.9", "-p", port,
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
			"-o", "PreferredAuthentications=password", "-o", "LogLevel=ERROR", "root@127.77.0.9", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	if got := ssh("uname -a"); got != "Linux SRV-WEB-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux\n" {
		t.Errorf("uname -a: %q", got)
	}
	ssh("echo x > /tmp/f")
	if got := ssh("cat /tmp/f"); got != "x\n" {
		t.Errorf("cat /tmp/f in a new connection: %q", got)
	}
	testutil.Eventually(t, "auth from 127.66.0.9", func() bool {
		for _, e := range ts.ev.OfType(event.TypeAuth) {
			if e.Fields["src_ip"] == "127.66.0.9" && e.Fields["success"] == "true" && strings.HasPrefix(e.Fields["client_version"], "SSH-2.0-OpenSSH_") {
				return true
			}
		}
		return false
	})
}

// TestMaxSessions checks that one connection cannot hold more than sshd's
// MaxSessions open session channels, and that a closed one frees its slot.
func TestMaxSessions(t *testing.T) {
	ts := start(t, "127.77.0.10", "debian", &Persona{Password: "hunter2"}, "")
	c, err := dial(t, ts.addr, "root", "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var open []*gossh.Session
	for range maxSessions {
		s, err := c.NewSession()
		if err != nil {
			t.Fatalf("session %d: %v", len(open)+1, err)
		}
		open = append(open, s)
	}
	if s, err := c.NewSession(); err == nil {
		s.Close()
		t.Fatalf("session %d accepted", maxSessions+1)
	}
	open[0].Close()
	testutil.Eventually(t, "a freed session slot", func() bool {
		s, err := c.NewSession()
		if err != nil {
			return false
		}
		s.Close()
		return true
	})
	for _, s := range open[1:] {
		s.Close()
	}
}
