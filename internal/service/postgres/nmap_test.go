package postgres

import (
	"net"
	"regexp"
	"testing"

	"decnet/internal/testutil"
)

// nmapProduct is what nmap -sV prints after "open " for the default
// persona (15.20's ProcessStartupPacket line is unknown to nmap 7.93's
// table, so it falls back to its PostgreSQL soft match).
var nmapProduct = regexp.MustCompile(`postgresql\s+PostgreSQL DB`)

func TestNmapVersionScan(t *testing.T) {
	addr, _ := startServer(t, 50, nil)
	host, port, _ := net.SplitHostPort(addr)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", port, host)
	line := regexp.MustCompile(port + `/tcp\s+open\s+(.*)`).FindStringSubmatch(out)
	if line == nil || !nmapProduct.MatchString(line[1]) {
		t.Fatalf("nmap does not name PostgreSQL:\n%s", out)
	}
}
