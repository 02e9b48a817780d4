package imap

import (
	"regexp"
	"testing"

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
	s, _ := newTestServer(t, nil)
	servicetest.ServeRealPorts(t, s, addrNmap, Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "143,993", addrNmap)
	testutil.MatchAll(t, out, nmapIMAP, nmapIMAPS)
}
