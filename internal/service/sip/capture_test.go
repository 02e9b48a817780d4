package sip

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// recordingConn keeps every datagram the server reads.
type recordingConn struct {
	net.PacketConn
	mu   sync.Mutex
	seen [][]byte
}

func (c *recordingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.mu.Lock()
		c.seen = append(c.seen, bytes.Clone(b[:n]))
		c.mu.Unlock()
	}
	return n, addr, err
}

// TestCaptureSeeds remakes the fuzz corpora from real clients' traffic:
// sipsak (OPTIONS, REGISTER with digest), sipp (uac, the toll-fraud
// scenario), svmap, svwar, svcrack and nmap's SIP probes, against both
// products. Every datagram becomes a FuzzMessage seed, every
// Authorization value a FuzzCredentials seed. Run it with
// SIP_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("SIP_CAPTURE_SEEDS") == "" {
		t.Skip("SIP_CAPTURE_SEEDS is not set")
	}
	var conns []*recordingConn
	for _, tc := range []struct{ ip, product string }{{"127.0.114.60", productAsterisk}, {"127.0.114.61", productKamailio}} {
		srv, _ := servicetest.New(t, Service{}, testHost(tc.ip), map[string]string{"product": tc.product, "users": "100:secret"})
		pc, err := net.ListenPacket("udp", tc.ip+":5060")
		if err != nil {
			t.Fatal(err)
		}
		rc := &recordingConn{PacketConn: pc}
		conns = append(conns, rc)
		ln, err := net.Listen("tcp", tc.ip+":5060")
		if err != nil {
			t.Fatal(err)
		}
		servicetest.Serve(t, srv, service.Listeners{UDP: map[int]net.PacketConn{Port: rc}, TCP: map[int]net.Listener{Port: ln}})
	}
	scen := filepath.Join(t.TempDir(), "fraud.xml")
	if err := os.WriteFile(scen, []byte(sippScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	dict := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(dict, []byte("1234\nsecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"127.0.114.60", "127.0.114.61"} {
		run(t, "sipsak", "-s", "sip:100@"+ip, "-a", "secret")
		run(t, "sipsak", "-U", "-s", "sip:100@"+ip, "-a", "secret", "-u", "100")
		run(t, "sipp", "-sn", "uac", ip+":5060", "-m", "1", "-timeout", "5s", "-i", "127.0.114.160", "-p", fmt.Sprint(5095+i), "-nostdin")
		run(t, "sipp", "-sf", scen, ip+":5060", "-m", "1", "-timeout", "10s", "-i", "127.0.114.160", "-p", fmt.Sprint(5097+i), "-nostdin")
		run(t, "svmap", "-P", fmt.Sprint(5150+i), ip)
		run(t, "svwar", "-P", fmt.Sprint(5152+i), "--force", "-e100-102", ip)
		run(t, "svcrack", "-P", fmt.Sprint(5154+i), "-u100", "-d", dict, ip)
		run(t, "nmap", "-n", "-Pn", "-sU", "-sV", "--version-intensity", "5", "-p", "5060", ip)
	}
	n, a := 0, 0
	for _, rc := range conns {
		rc.mu.Lock()
		for _, d := range rc.seen {
			n++
			testutil.WriteSeed(t, "FuzzMessage", fmt.Sprintf("client-%03d", n), d)
			m, err := parseDatagram(d)
			if err != nil {
				continue
			}
			if v := m.get("authorization"); v != "" && !strings.Contains(v, "\n") {
				a++
				writeStringSeed(t, "FuzzCredentials", fmt.Sprintf("client-%03d", a), v)
			}
		}
		rc.mu.Unlock()
	}
	t.Logf("%d datagram seeds, %d credential seeds", n, a)
}

// writeStringSeed writes a seed of a string fuzz target.
func writeStringSeed(t *testing.T, target, name, v string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", v), 0o644); err != nil {
		t.Fatal(err)
	}
}
