package mongodb

import (
	"net"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// start serves a decky's mongod on host (a 127.0.104.x address, any port)
// until the test ends.
func start(t testing.TB, host string, keys map[string]string) (string, *testutil.Events) {
	t.Helper()
	return servicetest.Start(t, Service{}, service.Host{Name: "decky-04", Hostname: "db-prod-02", Distro: "ubuntu22", IP: host}, keys, Port)
}

func splitAddr(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
