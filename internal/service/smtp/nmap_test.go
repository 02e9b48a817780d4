package smtp

import (
	"regexp"
	"testing"

	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// What nmap -sV must say on each port (the text after "open "), as it
// says for the real Postfix.
var nmapWants = []*regexp.Regexp{
	regexp.MustCompile(`25/tcp +open +smtp +Postfix smtpd`),
	regexp.MustCompile(`465/tcp +open +ssl/smtp +Postfix smtpd`),
	regexp.MustCompile(`587/tcp +open +smtp +Postfix smtpd`),
	// nmap's smtp-commands script lists Postfix's EHLO.
	regexp.MustCompile(`smtp-commands: mx1\.corp\.example, PIPELINING, SIZE 10240000, VRFY, ETRN, STARTTLS, AUTH PLAIN LOGIN, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8, CHUNKING`),
}

// TestNmapVersionScan runs nmap -sV with its default scripts on the
// three real ports.
func TestNmapVersionScan(t *testing.T) {
	h := testHost
	h.DataDir = t.TempDir()
	srv, _ := servicetest.New(t, Service{}, h, nil)
	servicetest.ServeRealPorts(t, srv, addrNmap, Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-sC", "-Pn", "-n", "-p", "25,465,587", addrNmap)
	testutil.MatchAll(t, out, nmapWants...)
}
