package conpot

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.117.0/24.
const (
	addrUnit    = "127.0.117.10"
	addrMbpoll  = "127.0.117.20"
	addrPymb    = "127.0.117.21"
	addrNmapM   = "127.0.117.30"
	addrNmapS7  = "127.0.117.31"
	addrWeb     = "127.0.117.40"
	addrSNMP    = "127.0.117.50"
	addrCapture = "127.0.117.60"
)

// hostFor is a decky of the given name on ip.
func hostFor(name, ip string) service.Host {
	return service.Host{Name: name, Hostname: name, OS: "embedded", Distro: "debian", IP: ip}
}

// newTestServer builds a PLC of persona p for the decky name.
func newTestServer(t testing.TB, name, ip string, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	h := hostFor(name, ip)
	h.DataDir = t.TempDir()
	ev := &testutil.Events{}
	s, err := newServer(service.Config{Host: h, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	s.shortWait = 100 * time.Millisecond
	return s, ev
}

// serve runs s on free ports of ip until the test ends. It returns the
// TCP addresses by declared port and the SNMP address.
func serve(t *testing.T, s *Server, ip string) (map[int]string, string) {
	t.Helper()
	ls := service.Listeners{TCP: map[int]net.Listener{}, UDP: map[int]net.PacketConn{}}
	addrs := map[int]string{}
	for _, port := range []int{PortModbus, PortS7, PortHTTP} {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[port] = ln
		addrs[port] = ln.Addr().String()
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ls.UDP[PortSNMP] = pc
	servicetest.Serve(t, s, ls)
	return addrs, pc.LocalAddr().String()
}

// run runs a client program with a deadline and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// hostPort splits addr.
func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
