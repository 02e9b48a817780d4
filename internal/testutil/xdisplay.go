package testutil

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// XDisplay starts a virtual X server for the test (graphical clients such
// as xfreerdp need a display even when they draw nothing) and returns its
// DISPLAY. Xvfb is run directly rather than through xvfb-run, whose
// clean-up sometimes fails and then hides the client's exit code.
func XDisplay(t testing.TB) string {
	t.Helper()
	xvfb := RequireTool(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(xvfb, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		// SIGTERM lets Xvfb remove its lock file and socket.
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	r.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not report its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}
