package testutil

import (
	"context"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// nmapTimeout bounds one scan: a version scan of a few ports that get no
// answer to most probes takes a few minutes.
const nmapTimeout = 4 * time.Minute

// Nmap runs nmap with args and returns its combined output, which it also
// logs. A missing nmap skips the test (fails it in CI), as does a UDP scan
// (-sU) without root, which nmap refuses; a scan that fails or outlasts
// its timeout fails the test with the output.
func Nmap(t testing.TB, args ...string) string {
	t.Helper()
	nmap := RequireTool(t, "nmap")
	if slices.Contains(args, "-sU") {
		RequireRoot(t, "for nmap -sU")
	}
	ctx, cancel := context.WithTimeout(context.Background(), nmapTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("nmap %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// MatchAll fails the test for each of res that out does not match,
// showing out in full, so one run shows every miss.
func MatchAll(t testing.TB, out string, res ...*regexp.Regexp) {
	t.Helper()
	for _, re := range res {
		if !re.MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
}
