// Package servicetest helps test honeypot servers.
package servicetest

import (
	"context"
	"net"
	"testing"
	"time"

	"decnet/internal/service"
)

// ServeTCP serves srv's declared TCP port on a fresh listener at host
// (a loopback address, any free port) until the test ends, and returns
// the listener's address. At the end it stops the server and fails the
// test if Serve returned an error or did not return within 5 s.
func ServeTCP(t testing.TB, srv service.Server, host string, port int) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, service.Listeners{TCP: map[int]net.Listener{port: ln}}) }()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of the end of the test")
		}
	})
	return ln.Addr().String()
}
