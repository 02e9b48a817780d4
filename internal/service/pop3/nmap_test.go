package pop3

import (
	"regexp"
	"testing"

	"decnet/internal/service/servicetest"
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
	s, _, _ := newTestServer(t, nil)
	servicetest.ServeRealPorts(t, s, addrNmap, Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "110,995", addrNmap)
	testutil.MatchAll(t, out, nmapPOP3, nmapPOP3S)
}
