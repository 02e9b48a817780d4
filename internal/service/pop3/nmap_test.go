package pop3

import (
	"context"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// Version-scan results the persona must get, as cmd/decnet's nmap test
// matches them (the text after "open "): nmap's name for Dovecot.
var (
	nmapPOP3  = regexp.MustCompile(`110/tcp open  pop3 +Dovecot pop3d`)
	nmapPOP3S = regexp.MustCompile(`995/tcp open  ssl/pop3 +Dovecot pop3d`)
)

// TestNmapVersionScan runs nmap -sV against 110 and 995 and wants Dovecot
// pop3d on both.
func TestNmapVersionScan(t *testing.T) {
	testutil.RequireRoot(t, "to listen on 110 and 995")
	nmap := testutil.RequireTool(t, "nmap")
	s, _, _ := newTestServer(t, nil)
	serve(t, s, addrNmap, true)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, "-sV", "-Pn", "-n", "-p", "110,995", addrNmap).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, re := range []*regexp.Regexp{nmapPOP3, nmapPOP3S} {
		if !re.Match(out) {
			t.Errorf("nmap output does not match %s:\n%s", re, out)
		}
	}
}
