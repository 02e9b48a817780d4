package mqtt

import (
	"net"
	"strconv"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// Test addresses: this package's loopback range is 127.0.115.0/24.
const (
	addrClients = "127.0.115.10"
	addrTLS     = "127.0.115.11"
	addrNmap    = "127.0.115.20"
	addrFuzz    = "127.0.115.30"
	addrOurs    = "127.0.115.40" // ours, in the differential test
	addrReal    = "127.0.115.66" // the real mosquitto of the differential test
)

var testHost = service.Host{Name: "decky-plant-07", Hostname: "scada-gw07", OS: "linux", Distro: "debian", IP: addrClients}

// start serves a broker for persona keys on fresh ports of ip and returns
// the addresses of 1883 and 8883 (empty when TLS is off).
func start(t testing.TB, ip string, keys map[string]string) (mqttAddr, mqttsAddr string, ev *testutil.Events) {
	t.Helper()
	return startIn(t, ip, t.TempDir(), keys)
}

// startIn is start with the decky's data directory dir.
func startIn(t testing.TB, ip, dir string, keys map[string]string) (mqttAddr, mqttsAddr string, ev *testutil.Events) {
	t.Helper()
	h := testHost
	h.IP = ip
	h.DataDir = dir
	srv, ev := servicetest.New(t, Service{}, h, keys)
	addrs := servicetest.ServeTCPPorts(t, srv, ip, PortMQTT, PortMQTTS)
	return addrs[PortMQTT], addrs[PortMQTTS], ev
}

// hostPort splits addr for command-line clients.
func hostPort(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.Atoi(p); err != nil {
		t.Fatal(err)
	}
	return h, p
}
