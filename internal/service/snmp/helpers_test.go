package snmp

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testIP is the loopback address of this package's tests.
const testIP = "127.0.116.1"

// testHost is a decky for tests.
func testHost() service.Host {
	return service.Host{Name: "decky-07", Hostname: "SRV-MONITOR-17", Distro: "debian", OS: "linux", IP: "10.20.30.47"}
}

// startAgent serves the snmp service for h with persona keys on ip (a
// port of the kernel's choosing) and returns its address and events.
func startAgent(t *testing.T, h service.Host, keys map[string]string, ip string) (*net.UDPAddr, *testutil.Events) {
	t.Helper()
	srv, ev := servicetest.New(t, Service{}, h, keys)
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Serve(t, srv, service.Listeners{UDP: map[int]net.PacketConn{Port: pc}})
	return pc.LocalAddr().(*net.UDPAddr), ev
}

// run runs a client tool and returns its output (stdout and stderr).
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	testutil.RequireTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// target is a net-snmp tool's agent address.
func target(a *net.UDPAddr) string { return "udp:" + a.String() }

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// timeNowForFuzz is the clock of agents built outside a server.
func timeNowForFuzz() time.Time { return time.Now() }
