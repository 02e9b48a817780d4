package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// openssh drives OpenSSH's ssh, scp and sftp through sshpass against a
// test server, from the source address 127.66.0.9.
type openssh struct {
	t       *testing.T
	ts      *testServer
	host    string
	port    string
	pw      string
	sshpass string
	env     []string
	level   string // LogLevel, ERROR unless a test needs INFO messages
}

func newOpenSSH(t *testing.T, ts *testServer, pw string) *openssh {
	t.Helper()
	sshpass := testutil.RequireTool(t, "sshpass")
	for _, tool := range []string{"ssh", "scp", "sftp"} {
		testutil.RequireTool(t, tool)
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	return &openssh{t: t, ts: ts, host: host, port: port, pw: pw, sshpass: sshpass, level: "ERROR"}
}

// common are the options every tool gets: no host-key prompts, password
// only, a fixed source address.
func (o *openssh) common() []string {
	return []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=password", "-o", "LogLevel=" + o.level, "-o", "BindAddress=127.66.0.9"}
}

// run runs tool with args and returns its output and exit status.
func (o *openssh) run(stdin string, tool string, args ...string) (stdout, stderr string, code int) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.sshpass, append([]string{"-p", o.pw, tool}, args...)...)
	cmd.Env = append(os.Environ(), o.env...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		o.t.Fatalf("%s %v: timed out\n%s%s", tool, args, out.String(), errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		o.t.Fatalf("%s: %v", tool, err)
	}
	if ee != nil {
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

func (o *openssh) ssh(stdin string, args ...string) (string, string, int) {
	o.t.Helper()
	return o.run(stdin, "ssh", append(append(o.common(), "-p", o.port, "root@"+o.host), args...)...)
}

func (o *openssh) scp(args ...string) (string, string, int) {
	o.t.Helper()
	return o.run("", "scp", append(append(o.common(), "-P", o.port), args...)...)
}

func (o *openssh) remote(p string) string { return "root@" + o.host + ":" + p }

// randomFile writes n random bytes to a file in dir.
func randomFile(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// captured waits for the file_captured event of origPath and checks its
// hash, size and the kept bytes.
func (ts *testServer) captured(t *testing.T, origPath string, want []byte) map[string]string {
	t.Helper()
	var f map[string]string
	testutil.Eventually(t, "file_captured "+origPath, func() bool {
		for _, e := range ts.ev.OfType(event.TypeFileCaptured) {
			if e.Fields["orig_path"] == origPath {
				f = e.Fields
				return true
			}
		}
		return false
	})
	if f["sha256"] != sum(want) || f["size"] != strconv.Itoa(len(want)) || f["stored"] != "true" || f["src_ip"] != "127.66.0.9" || f["username"] != "root" {
		t.Errorf("file_captured %s: %v", origPath, f)
	}
	got, err := os.ReadFile(filepath.Join(ts.dir, "shell", "artifacts", f["stored_as"]))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("stored %s: %d bytes, %v; want the %d uploaded", f["stored_as"], len(got), err, len(want))
	}
	return f
}

// TestRealSCPLegacy copies files both ways with "scp -O", OpenSSH's
// original protocol, and checks the captured upload.
func TestRealSCPLegacy(t *testing.T) {
	ts := start(t, "127.77.1.1", "debian", &Persona{Password: "S3cret!"}, "")
	o := newOpenSSH(t, ts, "S3cret!")
	dir := t.TempDir()
	up, data := randomFile(t, dir, "payload.bin", 150_000)

	if out, errOut, code := o.scp("-O", up, o.remote("/tmp/")); code != 0 {
		t.Fatalf("scp -O upload: %d %s%s", code, out, errOut)
	}
	ts.captured(t, "/tmp/payload.bin", data)
	if out, _, _ := o.ssh("", "ls -l /tmp/payload.bin"); !strings.HasPrefix(out, "-rw-r----- 1 root root 150000 ") {
		t.Errorf("ls -l after upload: %q", out)
	}

	back := filepath.Join(dir, "back.bin")
	if out, errOut, code := o.scp("-O", o.remote("/tmp/payload.bin"), back); code != 0 {
		t.Fatalf("scp -O download: %d %s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(got), len(data))
	}
	env := filepath.Join(dir, "env")
	if _, errOut, code := o.scp("-O", o.remote("projects/.env"), env); code != 0 {
		t.Fatalf("scp -O bait: %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(env); !strings.Contains(string(got), "DB_PASS=changeme123") {
		t.Errorf("bait file: %q", got)
	}

	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"missing remote file", []string{"-O", o.remote("/nonexistent"), dir}, "scp: /nonexistent: No such file or directory\n"},
		{"directory without -r", []string{"-O", o.remote("/etc"), dir}, "scp: /etc: not a regular file\n"},
		{"into a missing directory", []string{"-O", up, o.remote("/nodir/x")}, "scp: /nodir/x: No such file or directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := o.scp(tt.args...)
			if code != 1 || errOut != tt.err {
				t.Errorf("got %d %q, want 1 %q", code, errOut, tt.err)
			}
		})
	}

	// -r -p: a tree with its modes and times.
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o750)
	_, inner := randomFile(t, filepath.Join(tree, "sub"), "inner.sh", 300)
	os.Chmod(filepath.Join(tree, "sub", "inner.sh"), 0o755)
	old := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(tree, "sub", "inner.sh"), old, old)
	if out, errOut, code := o.scp("-O", "-r", "-p", tree, o.remote("/opt/")); code != 0 {
		t.Fatalf("scp -O -r -p: %d %s%s", code, out, errOut)
	}
	ts.captured(t, "/opt/tree/sub/inner.sh", inner)
	if out, _, _ := o.ssh("", "ls -l /opt/tree/sub/inner.sh; ls -ld /opt/tree/sub"); !strings.HasPrefix(out, "-rwxr-xr-x 1 root root 300 Mar  1  2024 /opt/tree/sub/inner.sh\ndrwxr-x---") {
		t.Errorf("tree after scp -r -p: %q", out)
	}
	testutil.Eventually(t, "scp events", func() bool {
		ops := map[string]bool{}
		for _, e := range ts.ev.OfType("scp") {
			ops[e.Fields["op"]] = true
		}
		return ops["upload"] && ops["download"] && ops["mkdir"]
	})
	var sawCommand bool
	for _, e := range ts.ev.OfType(event.TypeCommand) {
		sawCommand = sawCommand || e.Fields["command"] == "scp -t /tmp/"
	}
	if !sawCommand {
		t.Errorf("no command event for scp -t /tmp/")
	}
}

// TestRealSCPOverSFTP uploads with scp's default (SFTP) protocol.
func TestRealSCPOverSFTP(t *testing.T) {
	ts := start(t, "127.77.1.2", "ubuntu22", &Persona{Password: "pw"}, "")
	o := newOpenSSH(t, ts, "pw")
	dir := t.TempDir()
	up, data := randomFile(t, dir, "x86_64.bin", 70_000)
	if out, errOut, code := o.scp(up, o.remote("/var/tmp/.x")); code != 0 {
		t.Fatalf("scp: %d %s%s", code, out, errOut)
	}
	ts.captured(t, "/var/tmp/.x", data)
	back := filepath.Join(dir, "back")
	if _, errOut, code := o.scp(o.remote("/var/tmp/.x"), back); code != 0 {
		t.Fatalf("scp download: %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes", len(got))
	}
	if _, errOut, code := o.scp(o.remote("/nonexistent"), back); code != 1 || !strings.Contains(errOut, "/nonexistent: No such file or directory") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	testutil.Eventually(t, "sftp events", func() bool {
		for _, e := range ts.ev.OfType("sftp") {
			if e.Fields["op"] == "close" && e.Fields["path"] == "/var/tmp/.x" && e.Fields["bytes_written"] == "70000" {
				return true
			}
		}
		return false
	})
}

// TestRealSFTPBatch runs an sftp batch: put, get, ls, mkdir, rename, rm.
func TestRealSFTPBatch(t *testing.T) {
	ts := start(t, "127.77.1.3", "debian", &Persona{Password: "pw"}, "")
	o := newOpenSSH(t, ts, "pw")
	dir := t.TempDir()
	up, data := randomFile(t, dir, "kit.tgz", 40_000)
	back := filepath.Join(dir, "back.tgz")
	batch := filepath.Join(dir, "batch")
	os.WriteFile(batch, []byte("pwd\nmkdir /tmp/.kit\ncd /tmp/.kit\nput "+up+"\nls -l\nget kit.tgz "+back+
		"\nrename kit.tgz k2\nls\nrm k2\ncd ..\nrmdir .kit\nls -la /root/projects\nchmod 700 /tmp\n"), 0o600)
	// -b turns on BatchMode, which would rule out the password: an earlier
	// -o wins.
	out, errOut, code := o.run("", "sftp", append(o.common(), "-o", "BatchMode=no", "-P", o.port, "-b", batch, "root@"+o.host)...)
	if code != 0 {
		t.Fatalf("sftp -b: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"Remote working directory: /root\n",
		"sftp> put " + up,
		"-rw-r-----    ? root     root        40000 ",
		"sftp> ls\nk2",
		".env",
		"backup.sh",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sftp output lacks %q:\n%s", want, out)
		}
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Errorf("get: %d bytes", len(got))
	}
	ts.captured(t, "/tmp/.kit/kit.tgz", data)
	if out, errOut, _ := o.ssh("", "ls -la /tmp/.kit; ls -ld /tmp"); !strings.Contains(errOut, "No such file or directory") || !strings.HasPrefix(out, "drwx------") {
		t.Errorf("after the batch: %q", out)
	}
	testutil.Eventually(t, "sftp request events", func() bool {
		ops := map[string]bool{}
		for _, e := range ts.ev.OfType("sftp") {
			ops[e.Fields["op"]+" "+e.Fields["path"]] = true
		}
		return ops["mkdir /tmp/.kit"] && ops["posix-rename /tmp/.kit/kit.tgz"] && ops["remove /tmp/.kit/k2"] && ops["rmdir /tmp/.kit"] && ops["setstat /tmp"]
	})
}

// TestRealForwarding tries -R, -L, -A and -X and checks what sshd would
// answer and that each attempt is recorded.
func TestRealForwarding(t *testing.T) {
	ts := start(t, "127.77.1.4", "debian", &Persona{Password: "pw"}, "")
	o := newOpenSSH(t, ts, "pw")

	if out, errOut, code := o.ssh("", "-o", "ExitOnForwardFailure=yes", "-R", "8080:127.0.0.1:80", "echo ok"); code != 0 || out != "ok\n" {
		t.Errorf("-R 8080: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := o.ssh("", "-o", "ExitOnForwardFailure=yes", "-R", "22:127.0.0.1:80", "echo ok"); code != 255 || !strings.Contains(errOut, "remote port forwarding failed for listen port 22") {
		t.Errorf("-R 22: %d %q", code, errOut)
	}

	// -L: the client opens direct-tcpip when something connects locally.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	lport := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	done := make(chan string, 1)
	o.level = "INFO" // "open failed" is an INFO message
	go func() {
		_, errOut, _ := o.ssh("", "-L", "127.0.0.1:"+strconv.Itoa(lport)+":10.0.0.5:3306", "sleep 3")
		done <- errOut
	}()
	testutil.Eventually(t, "local forward listening", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(lport))
		if err != nil {
			return false
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 1)) // the forward is refused: EOF
		c.Close()
		return true
	})
	if errOut := <-done; !strings.Contains(errOut, "open failed: connect failed: Connection refused") {
		t.Errorf("-L: %q", errOut)
	}
	o.level = "ERROR"

	// -A needs an agent, -X a display.
	agentDir := t.TempDir()
	sock := filepath.Join(agentDir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err == nil {
		defer func() { agent.Process.Kill(); agent.Wait() }()
		testutil.Eventually(t, "ssh-agent socket", func() bool { _, err := os.Stat(sock); return err == nil })
		o.env = []string{"SSH_AUTH_SOCK=" + sock, "DISPLAY=:0"}
		out, errOut, _ := o.ssh("", "-A", "-X", "echo $SSH_AUTH_SOCK $DISPLAY")
		if !strings.HasPrefix(out, "/tmp/ssh-") || !strings.Contains(out, "/agent.") || !strings.HasSuffix(out, " localhost:10.0\n") {
			t.Errorf("-A -X: %q %q", out, errOut)
		}
	} else {
		t.Errorf("ssh-agent: %v", err)
	}

	testutil.Eventually(t, "forwarding events", func() bool {
		seen := map[string]bool{}
		for _, e := range ts.ev.OfType("port_forward") {
			seen[e.Fields["request"]+" "+e.Fields["listen_port"]+e.Fields["dst_host"]+" "+e.Fields["accepted"]] = true
		}
		return seen["tcpip-forward 8080 true"] && seen["tcpip-forward 22 false"] && seen["direct-tcpip 10.0.0.5 false"] &&
			len(ts.ev.OfType("agent_forward")) == 1 && len(ts.ev.OfType("x11_forward")) == 1
	})
}

// TestRealShellRecon runs the recon commands of bots over exec and in an
// interactive session.
func TestRealShellRecon(t *testing.T) {
	ts := start(t, "127.77.1.5", "debian", &Persona{Password: "pw"}, "")
	o := newOpenSSH(t, ts, "pw")
	tests := []struct{ cmd, want string }{
		{"uname -a", "Linux SRV-WEB-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux\n"},
		{"cat /proc/cpuinfo | grep -c '^processor'; nproc", ""},
		{"free -m | head -1", "               total        used        free      shared  buff/cache   available\n"},
		{"crontab -l", "no crontab for root\n"},
		{"echo '*/5 * * * * /tmp/.x/run >/dev/null 2>&1' | crontab - && crontab -l", "*/5 * * * * /tmp/.x/run >/dev/null 2>&1\n"},
		{"echo a > /tmp/r; echo b >> /tmp/r; cat /tmp/r | wc -l && echo yes; false || echo no", "2\nyes\nno\n"},
		{"sudo id -u", "0\n"},
		{"last | tail -1 | grep -c '^wtmp begins '", "1\n"},
	}
	for _, tt := range tests {
		out, errOut, _ := o.ssh("", tt.cmd)
		got := out + errOut
		if tt.want == "" {
			lines := strings.Split(strings.TrimSpace(got), "\n")
			if len(lines) != 2 || lines[0] != lines[1] {
				t.Errorf("%q: %q", tt.cmd, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.cmd, got, tt.want)
		}
	}
	testutil.Eventually(t, "crontab captured", func() bool {
		for _, e := range ts.ev.OfType(event.TypeFileCaptured) {
			if e.Fields["orig_path"] == "/var/spool/cron/crontabs/root" {
				return true
			}
		}
		return false
	})

	// Interactive, with a terminal: history and w see the session.
	out, _, _ := o.ssh("uname -a\nw | tail -1\nhistory | tail -2\nlast -n 1\nexit\n", "-tt")
	for _, want := range []string{
		"root@SRV-WEB-17:~# uname -a\r\nLinux SRV-WEB-17 6.1.0-28-amd64",
		"root     pts/",
		"   21  history | tail -2\r\n", // after the 19 lines of the seeded .bash_history
		"root     pts/",
		"logout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("interactive session lacks %q:\n%s", want, out)
		}
	}
}
