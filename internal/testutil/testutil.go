// Package testutil holds helpers shared by tests.
package testutil

import (
	"os"
	"os/exec"
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
