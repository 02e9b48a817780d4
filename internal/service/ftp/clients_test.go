package ftp

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// run runs a real client with a deadline and returns its combined output.
func run(t *testing.T, dir string, name string, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.RequireTool(t, name), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// commands returns the command lines the server saw, in order.
func commands(evs *testutil.Events) []string {
	var out []string
	for _, e := range evs.OfType(event.TypeCommand) {
		out = append(out, e.Fields["command"])
	}
	return out
}

func hasAuth(evs *testutil.Events, user, pass, success string) bool {
	for _, e := range evs.OfType(event.TypeAuth) {
		f := e.Fields
		if f["username"] == user && f["password"] == pass && f["success"] == success && f["src_ip"] == "127.0.0.1" {
			return true
		}
	}
	return false
}

func payload(t *testing.T, dir, name string, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b, p
}

// TestLftp drives lftp 4.9: FEAT and AUTH TLS first (OPTS UTF8 ON only
// when FEAT lists UTF8, which 3.0.3 does not), then login, ls and put in
// passive mode.
func TestLftp(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "alice:secret"})
	host, port, _ := net.SplitHostPort(serve(t, srv))
	dir := t.TempDir()
	data, local := payload(t, dir, "kit.tar.gz", 300_000)
	out := run(t, dir, "lftp", "", "-u", "alice,secret", "-p", port, "-e",
		"set ftp:passive-mode on; set net:max-retries 1; ls; put "+local+" -o kit.tar.gz; ls; bye", host)
	if !strings.Contains(out, " backup.sql") || !strings.Contains(out, " kit.tar.gz") {
		t.Fatalf("lftp output:\n%s", out)
	}
	testutil.Eventually(t, "the upload's event", func() bool { return len(captured(evs, "/home/alice/kit.tar.gz")) == 1 })
	checkArtifact(t, srv, captured(evs, "/home/alice/kit.tar.gz")[0], data)
	if !hasAuth(evs, "alice", "secret", "true") {
		t.Errorf("no auth event for alice: %v", evs.OfType(event.TypeAuth))
	}
	cmds := commands(evs)
	if len(cmds) < 4 || cmds[0] != "FEAT" || !strings.Contains(strings.Join(cmds, "\n"), "STOR kit.tar.gz") {
		t.Errorf("lftp's commands: %q", cmds)
	}
	t.Logf("lftp sent %q", cmds)
}

// TestCurl drives curl 7.88: a listing and an upload in passive mode
// (EPSV), then a download in active mode (-P -, EPRT), which makes the
// decky connect back to curl.
func TestCurl(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "bob:hunter2"})
	addr := serve(t, srv)
	dir := t.TempDir()
	out := run(t, dir, "curl", "", "-sS", "-u", "bob:hunter2", "ftp://"+addr+"/")
	if !strings.Contains(out, " backup.sql\n") { // curl turns the ASCII listing's CRLF into LF
		t.Fatalf("curl listing:\n%q", out)
	}
	data, local := payload(t, dir, "x.elf", 70_000)
	run(t, dir, "curl", "", "-sS", "-u", "bob:hunter2", "-T", local, "ftp://"+addr+"/upload/x.elf", "--ftp-create-dirs")
	testutil.Eventually(t, "the upload's event", func() bool { return len(captured(evs, "/home/bob/upload/x.elf")) == 1 })
	checkArtifact(t, srv, captured(evs, "/home/bob/upload/x.elf")[0], data)

	got := run(t, dir, "curl", "", "-sS", "-P", "-", "-u", "bob:hunter2", "ftp://"+addr+"/upload/x.elf")
	if !bytes.Equal([]byte(got), data) {
		t.Fatalf("active-mode download: %d bytes, want %d", len(got), len(data))
	}
	joined := strings.Join(commands(evs), "\n")
	for _, want := range []string{"EPSV", "MKD upload", "STOR x.elf", "EPRT |1|127.0.0.1|", "RETR x.elf"} {
		if !strings.Contains(joined, want) {
			t.Errorf("curl did not send %q: %q", want, commands(evs))
		}
	}
	if !hasAuth(evs, "bob", "hunter2", "true") {
		t.Errorf("no auth event for bob")
	}
	t.Logf("curl sent %q", commands(evs))
}

// TestFtpClient drives tnftp (Debian's ftp) in active mode, logging in
// anonymously where the persona allows it.
func TestFtpClient(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"anonymous_enable": "true"})
	host, port, _ := net.SplitHostPort(serve(t, srv))
	dir := t.TempDir()
	out := run(t, dir, "ftp", "user anonymous guest@example.com\npassive off\nls pub\ncd pub\nget README\nbye\n", "-n", "-v", host, port)
	if !strings.Contains(out, "230 Login successful.") || !strings.Contains(out, "200 EPRT command successful") && !strings.Contains(out, "200 PORT command successful") {
		t.Fatalf("ftp output:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "README"))
	if err != nil || !strings.Contains(string(b), "file archive") {
		t.Fatalf("README via active mode: %q %v", b, err)
	}
	if !hasAuth(evs, "anonymous", "guest@example.com", "true") {
		t.Errorf("no anonymous auth event: %v", evs.OfType(event.TypeAuth))
	}
	t.Logf("ftp sent %q", commands(evs))
}

// TestCurlRefusedLogin checks the failure curl sees, and that a persona
// without anonymous logins refuses curl's default anonymous login.
func TestCurlRefusedLogin(t *testing.T) {
	srv, evs := newTestServer(t, "debian", nil)
	addr := serve(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testutil.RequireTool(t, "curl"), "-sS", "ftp://"+addr+"/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "530") {
		t.Fatalf("anonymous curl on a persona without anonymous: %v %s", err, out)
	}
	if !hasAuth(evs, "anonymous", "ftp@example.com", "false") {
		t.Errorf("curl's anonymous attempt not recorded: %v", evs.OfType(event.TypeAuth))
	}
}

// TestNmapVersion checks that a version scan names the product, and that
// nmap's ftp-anon script finds the anonymous login and the bait.
func TestNmapVersion(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"anonymous_enable": "true"})
	host, port, _ := net.SplitHostPort(serve(t, srv))
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "--script", "ftp-anon,ftp-syst", "-p", port, host)
	for _, want := range []string{"vsftpd 3.0.3", "Anonymous FTP login allowed (FTP code 230)", " pub", "vsFTPd 3.0.3 - secure, fast, stable"} {
		if !strings.Contains(out, want) {
			t.Errorf("nmap does not say %q:\n%s", want, out)
		}
	}
}
