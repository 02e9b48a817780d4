package imap

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

// What nmap 7.93's version scan says of the persona, as it says of the
// real Dovecot 2.3.19 on Debian 12 (measured with Debian's 10-ssl.conf):
// its GetRequest probe matches Dovecot's "Error in IMAP command received
// by server" on 143, and on 993 once its TLSSessionReq hello got a
// ServerHello (without Debian's ssl_dh the real one refuses that hello
// and nmap only guesses "imaps?").
var (
	nmapIMAP  = regexp.MustCompile(`143/tcp open  imap +Dovecot imapd`)
	nmapIMAPS = regexp.MustCompile(`993/tcp open  ssl/imap +Dovecot imapd`)
)

func TestNmapVersionScan(t *testing.T) {
	testutil.RequireRoot(t, "to listen on 143 and 993")
	nmap := testutil.RequireTool(t, "nmap")
	s, _ := newTestServer(t, nil)
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	for _, port := range []int{PortIMAP, PortIMAPS} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addrNmap, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[port] = ln
	}
	servicetest.Serve(t, s, ls)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, "-sV", "-Pn", "-n", "-p", "143,993", addrNmap).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, re := range []*regexp.Regexp{nmapIMAP, nmapIMAPS} {
		if !re.Match(out) {
			t.Errorf("nmap output does not match %s:\n%s", re, out)
		}
	}
}
