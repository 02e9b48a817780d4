package redis

import (
	"context"
	"net"
	"testing"
	"time"

	"decnet/internal/service"
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
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, service.Listeners{TCP: map[int]net.Listener{Port: ln}}) }()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return ln.Addr().String(), rec
}
