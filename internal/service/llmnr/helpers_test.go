package llmnr

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test deckies live on 127.0.118.0/24; each test takes its own address,
// since NetBIOS tools always send to port 137.
func winHost(ip string) service.Host {
	return service.Host{Name: "decky-w" + ip[len("127.0.118."):], Hostname: "WS-ACCT-07", OS: "windows", Distro: "debian", IP: ip}
}

func linuxHost(ip string) service.Host {
	return service.Host{Name: "decky-l" + ip[len("127.0.118."):], Hostname: "fileserv01.corp.example", OS: "linux", Distro: "debian", IP: ip}
}

// start serves a decky's three ports on its address (the real port
// numbers) until the test ends.
func start(t *testing.T, h service.Host, keys map[string]string) (*Server, *testutil.Events) {
	t.Helper()
	srv, ev := servicetest.New(t, Service{}, h, keys)
	servicetest.ServeRealPorts(t, srv, h.IP, Service{}.Info().Ports...)
	return srv.(*Server), ev
}

// run runs a client tool, with a deadline, and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	testutil.RequireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out)
}

// exchange sends each datagram to addr from one socket and returns the
// first reply, which must come within 5 s.
func exchange(t *testing.T, addr string, pkts ...[]byte) []byte {
	t.Helper()
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range pkts {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, maxDatagram)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply from %s: %v", addr, err)
	}
	return buf[:n]
}

// queryEvent waits for the query event of a name and returns it.
func queryEvent(t *testing.T, ev *testutil.Events, proto, name string) event.Event {
	t.Helper()
	var got event.Event
	testutil.Eventually(t, proto+" query event for "+name, func() bool {
		for _, e := range ev.With(typeQuery, fieldName, name) {
			if e.Fields[fieldProto] == proto {
				got = e
				return true
			}
		}
		return false
	})
	return got
}
