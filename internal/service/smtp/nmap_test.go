package smtp

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"decnet/internal/service"
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
	testutil.RequireRoot(t, "to listen on 25, 465 and 587")
	nmap := testutil.RequireTool(t, "nmap")
	h := testHost
	h.DataDir = t.TempDir()
	srv, _ := servicetest.New(t, Service{}, h, nil)
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	for _, p := range []int{PortSMTP, PortSubmission, PortSMTPS} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addrNmap, strconv.Itoa(p)))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[p] = ln
	}
	servicetest.Serve(t, srv, ls)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, "-sV", "-sC", "-Pn", "-n", "-p", "25,465,587", addrNmap).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, re := range nmapWants {
		if !re.Match(out) {
			t.Errorf("nmap output does not match %s:\n%s", re, out)
		}
	}
	t.Logf("%s", out)
}
