package postgres

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// nmapProduct is what nmap -sV prints after "open " for the default
// persona (15.20's ProcessStartupPacket line is unknown to nmap 7.93's
// table, so it falls back to its PostgreSQL soft match).
var nmapProduct = regexp.MustCompile(`postgresql\s+PostgreSQL DB`)

func TestNmapVersionScan(t *testing.T) {
	bin := testutil.RequireTool(t, "nmap")
	addr, _ := startServer(t, 50, nil)
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-sV", "-Pn", "-n", "-p", port, host).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	line := regexp.MustCompile(port + `/tcp\s+open\s+(.*)`).FindSubmatch(out)
	if line == nil || !nmapProduct.Match(line[1]) {
		t.Fatalf("nmap does not name PostgreSQL:\n%s", out)
	}
	t.Logf("nmap: %s", line[1])
}
