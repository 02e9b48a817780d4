package redis

import (
	"net"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// start serves a decky's Redis on addr (a 127.x loopback address, port 0
// for any) until the test ends.
func start(t testing.TB, addr string, keys map[string]string) (string, *testutil.Events) {
	t.Helper()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return servicetest.Start(t, Service{}, service.Host{Name: "decky-07", Hostname: "SRV-DB-17", Distro: "debian", IP: host}, keys, Port)
}
