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
	p, err := service.NewPersona(Service{}.Info(), keys)
	if err != nil {
		t.Fatal(err)
	}
	rec := &testutil.Events{}
	srv, err := Service{}.New(service.Config{
		Host:    service.Host{Name: "decky-07", Hostname: "SRV-DB-17", Distro: "debian"},
		Persona: p, Emit: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return servicetest.ServeTCP(t, srv, host, Port), rec
}
