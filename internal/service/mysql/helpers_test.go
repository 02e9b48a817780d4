package mysql

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testIP is this package's loopback range (127.0.101.0/24); each test
// uses its own address in it.
func testIP(n int) string { return "127.0.101." + strconv.Itoa(n) }

// newTestServer builds a server for persona keys on a Debian decky "db01".
func newTestServer(t testing.TB, keys map[string]string) (*Server, *testutil.Events) {
	t.Helper()
	srv, ev := servicetest.New(t, Service{}, service.Host{Name: "decky1", Hostname: "db01", Distro: "debian", DataDir: t.TempDir()}, keys)
	return srv.(*Server), ev
}

// startServer serves a new test server on host.
func startServer(t *testing.T, host string, keys map[string]string) (string, *testutil.Events) {
	t.Helper()
	s, ev := newTestServer(t, keys)
	return servicetest.ServeTCP(t, s, host, Port), ev
}

// run runs a command with a timeout and returns its combined output and
// exit code.
func run(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	testutil.RequireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out: %s", name, out.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// authEvents waits for n auth events.
func authEvents(t *testing.T, ev *testutil.Events, n int) []event.Event {
	t.Helper()
	testutil.Eventually(t, "auth events", func() bool { return len(ev.OfType(event.TypeAuth)) >= n })
	return ev.OfType(event.TypeAuth)
}

// cracks recomputes a hashcat 11200 line as hashcat does and says
// whether password is its password.
func cracks(t *testing.T, line, password string) bool {
	t.Helper()
	rest, ok := strings.CutPrefix(line, "$mysqlna$")
	saltHex, respHex, ok2 := strings.Cut(rest, "*")
	if !ok || !ok2 {
		t.Fatalf("not a hashcat 11200 line: %q", line)
	}
	salt, err1 := hex.DecodeString(saltHex)
	resp, err2 := hex.DecodeString(respHex)
	if err1 != nil || err2 != nil || len(salt) != 20 || len(resp) != 20 {
		t.Fatalf("bad hashcat 11200 line: %q", line)
	}
	// hashcat -m 11200: SHA1(password) XOR SHA1(salt . SHA1(SHA1(password))).
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(salt, h2[:]...))
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return bytes.Equal(h3[:], resp)
}
