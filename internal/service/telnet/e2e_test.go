package telnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// recorder keeps what clients send to a listener.
type recorder struct {
	net.Listener
	mu  sync.Mutex
	got []byte
}

type recConn struct {
	net.Conn
	r *recorder
}

func (l *recorder) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return recConn{c, l}, nil
}

func (c recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.mu.Lock()
	c.r.got = append(c.r.got, p[:n]...)
	c.r.mu.Unlock()
	return n, err
}

// TestRealClient logs in with GNU inetutils telnet, the client Debian
// ships, driven by expect: a failed login, then the persona's password,
// uname -a and a file written. It checks the events, and that the client
// negotiated with the honeypot exactly as it did with the real telnetd
// (testdata/golden/inetutils.txt) or busybox telnetd
// (testdata/busybox/inetutils.txt, the default on an embedded decky).
func TestRealClient(t *testing.T) {
	expectBin := testutil.RequireTool(t, "expect")
	testutil.RequireTool(t, "telnet")
	for _, tc := range []realClientCase{
		{"inetutils", "debian", "linux", "testdata/golden/inetutils.txt", "e2e-inetutils-telnet", 2, "# ",
			"Linux vm 6.1.0-28-amd64", "xterm"},
		// busybox telnetd never asks for the terminal type.
		{"busybox", "alpine", "embedded", "testdata/busybox/inetutils.txt", "e2e-busybox-inetutils-telnet", 0x10,
			"vm:~# ", "Linux vm " + archetype.KernelOf("alpine").Release, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { realClient(t, expectBin, tc) })
	}
}

type realClientCase struct {
	name, distro, family string
	transcript           string // the real server's conversation with the client
	seed                 string // FuzzEngine seed written with TELNET_WRITE_SEEDS
	mode                 byte   // FuzzEngine's mode for the seed
	prompt, uname, ttype string
}

func realClient(t *testing.T, expectBin string, tc realClientCase) {
	srv, ev := newTestServerOn(t, &Persona{Password: "s3cret"}, tc.distro, tc.family)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, service.Listeners{TCP: map[int]net.Listener{23: rec}}) }()
	defer func() {
		cancel()
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	script := fmt.Sprintf(`set timeout 20
spawn telnet %s %s
expect "login: "
send "root\r"
expect "Password: "
send "wrongpw\r"
expect "Login incorrect"
expect "login: "
send "root\r"
expect "Password: "
send "s3cret\r"
expect "%[3]s"
send "uname -a\r"
expect "%[3]s"
send "echo hi > /tmp/x\r"
expect "%[3]s"
send "exit\r"
expect eof
`, host, port, tc.prompt)
	cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
	defer ccancel()
	cmd := exec.CommandContext(cctx, expectBin, "-c", script)
	// As when the transcript of the real telnetd was recorded.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TERM=xterm", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("expect: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), tc.uname) {
		t.Errorf("the session printed:\n%s", out)
	}

	testutil.Eventually(t, "events of the session", func() bool { return len(ev.OfType(event.TypeCommand)) == 3 })
	if got := fieldsOf(ev, event.TypeAuth, event.FieldPassword); !slices.Equal(got, []string{"wrongpw", "s3cret"}) {
		t.Errorf("passwords %q", got)
	}
	if got := fieldsOf(ev, event.TypeAuth, event.FieldSuccess); !slices.Equal(got, []string{"false", "true"}) {
		t.Errorf("success %q", got)
	}
	if got := fieldsOf(ev, event.TypeAuth, "ttype"); !slices.Equal(got, []string{tc.ttype, tc.ttype}) {
		t.Errorf("ttype %q", got)
	}
	if got := fieldsOf(ev, event.TypeCommand, event.FieldCommand); !slices.Equal(got, []string{"uname -a", "echo hi > /tmp/x", "exit"}) {
		t.Errorf("commands %q", got)
	}
	if !hasPeer(ev, event.TypeCommand) || !hasPeer(ev, event.TypeAuth) {
		t.Error("events without the peer's address")
	}
	sum := sha256.Sum256([]byte("hi\n"))
	files := ev.OfType(event.TypeFileCaptured)
	if len(files) != 1 || files[0].Fields["sha256"] != hex.EncodeToString(sum[:]) || files[0].Fields["orig_path"] != "/tmp/x" {
		t.Errorf("file_captured %v", files)
	}

	// The client's negotiation, everything before the first name typed.
	rec.mu.Lock()
	got := append([]byte(nil), rec.got...)
	rec.mu.Unlock()
	var want []byte
	for _, s := range loadTranscript(t, tc.transcript) {
		if s.dir == 'C' {
			want = append(want, s.data...)
		}
	}
	want, _, _ = bytes.Cut(want, []byte("rptest"))
	if !bytes.HasPrefix(got, want) {
		t.Errorf("the client negotiated differently:\n got %q\nwant %q", got[:min(len(got), len(want))], want)
	}
	if os.Getenv("TELNET_WRITE_SEEDS") != "" {
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte('\\x07')\nbyte(%q)\n", got, tc.mode)
		if err := os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzEngine", tc.seed), []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
