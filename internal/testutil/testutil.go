// Package testutil holds helpers shared by tests.
package testutil

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI, where nothing may be skipped
// for a missing tool.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireTool returns the path of an external program a test drives. When
// it is missing the test is skipped, except in CI, where it fails: .ci/run
// installs every tool the tests need.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Skip(t, name+" is not installed (see .ci/run)")
	}
	return path
}

// Skip skips the test, or fails it in CI.
func Skip(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("cannot skip in CI: %s", why)
	}
	t.Skip(why)
}

// RequireRoot skips a test that needs root (for why), or fails it in CI.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root "+why)
	}
}

// ImpacketExamples is where Debian's python3-impacket keeps its example
// tools (smbclient.py, rdp_check.py, ...).
const ImpacketExamples = "/usr/share/doc/python3-impacket/examples/"

// RequireImpacket returns Debian's python3 when it has python3-impacket:
// another python3 (pyenv's) may come first on PATH without it.
func RequireImpacket(t testing.TB) string {
	t.Helper()
	py := RequireTool(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import impacket.smbconnection").Run(); err != nil {
		Skip(t, "python3-impacket is not installed (see .ci/run)")
	}
	return py
}

// Hex decodes hex written with spaces and line breaks, as protocol test
// vectors are laid out; it panics on anything else, a broken test.
func Hex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Dial connects to addr over TCP, with a deadline of d from now for the
// whole exchange so that a silent server fails the test instead of
// hanging it. The connection is closed when the test ends; close it
// sooner where the server must see the end.
func Dial(t testing.TB, addr string, d time.Duration) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(d))
	return c
}

// Closed waits until TCP connections to addr are refused: a server closes
// the listener of a port its persona does not have once it runs, and
// until then the kernel still completes handshakes into the backlog.
func Closed(t testing.TB, addr string) {
	t.Helper()
	Eventually(t, addr+" refusing connections", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// Buffer collects a process's or server's output while the test reads
// it: unlike bytes.Buffer it is safe for concurrent use. Its zero value
// is ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Logs collects a component's log/slog output as JSON lines, for tests
// that look for what it logged. It is safe for concurrent use.
type Logs struct{ Buffer }

// Logger is a debug-level JSON logger that writes to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Records returns the logged records whose message is msg, oldest first.
func (l *Logs) Records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
