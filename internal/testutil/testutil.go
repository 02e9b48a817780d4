// Package testutil holds helpers shared by tests.
package testutil

import (
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
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
