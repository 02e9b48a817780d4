// Package servicetest helps test honeypot servers.
package servicetest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// New builds svc's server for the decky h from persona keys, decoded as
// the fleet configuration's are, and returns it with the recorder of its
// events.
func New(t testing.TB, svc service.Service, h service.Host, keys map[string]string) (service.Server, *testutil.Events) {
	t.Helper()
	p, err := service.NewPersona(svc.Info(), keys)
	if err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	srv, err := svc.New(service.Config{Host: h, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	return srv, ev
}

// Start builds svc's server as New does and serves its declared TCP port
// on a fresh port of h.IP (a loopback address) until the test ends. It
// returns the listener's address and the server's events.
func Start(t testing.TB, svc service.Service, h service.Host, keys map[string]string, port int) (string, *testutil.Events) {
	t.Helper()
	srv, ev := New(t, svc, h, keys)
	return ServeTCP(t, srv, h.IP, port), ev
}

// ServeTCP serves srv's declared TCP port on a fresh listener at host
// (a loopback address, any free port) until the test ends, and returns
// the listener's address. At the end it stops the server as Serve does.
func ServeTCP(t testing.TB, srv service.Server, host string, port int) string {
	t.Helper()
	return ServeTCPPorts(t, srv, host, port)[port]
}

// ServeTCPPorts is ServeTCP for a server of several TCP ports: each
// declared port gets a fresh listener at host. It returns the listeners'
// addresses by declared port.
func ServeTCPPorts(t testing.TB, srv service.Server, host string, ports ...int) map[int]string {
	t.Helper()
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	addrs := map[int]string{}
	for _, port := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			closeAll(ls)
			t.Fatal(err)
		}
		ls.TCP[port] = ln
		addrs[port] = ln.Addr().String()
	}
	Serve(t, srv, ls)
	return addrs
}

// ServeRealPorts serves srv until the test ends on the real numbers of
// ports (TCP or UDP) at host, a loopback address of the test's own, as
// the runtime serves a decky: for clients that judge a service by its
// port number as well as its answers, such as nmap. Ports below 1024
// need root: without it the test is skipped (failed in CI).
func ServeRealPorts(t testing.TB, srv service.Server, host string, ports ...service.Port) {
	t.Helper()
	if slices.ContainsFunc(ports, func(p service.Port) bool { return p.Number < 1024 }) {
		testutil.RequireRoot(t, "to listen on ports below 1024")
	}
	ls := service.Listeners{TCP: map[int]net.Listener{}, UDP: map[int]net.PacketConn{}}
	for _, p := range ports {
		if err := listen(ls, host, p); err != nil {
			closeAll(ls)
			t.Fatal(err)
		}
	}
	Serve(t, srv, ls)
}

// listen adds a listener for p's real number at host to ls.
func listen(ls service.Listeners, host string, p service.Port) error {
	addr := net.JoinHostPort(host, strconv.Itoa(p.Number))
	switch p.Proto {
	case service.TCP:
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		ls.TCP[p.Number] = ln
	case service.UDP:
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		ls.UDP[p.Number] = pc
	default:
		return fmt.Errorf("port %d: unknown protocol %q", p.Number, p.Proto)
	}
	return nil
}

// closeAll closes every listener of ls.
func closeAll(ls service.Listeners) {
	for _, ln := range ls.TCP {
		ln.Close()
	}
	for _, pc := range ls.UDP {
		pc.Close()
	}
}

// Serve serves srv on ls until the test ends. At the end it stops the
// server, closes every listener (the runtime's part) and fails the test
// if Serve returned an error or did not return within 5 s.
func Serve(t testing.TB, srv service.Server, ls service.Listeners) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		closeAll(ls)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of the end of the test")
		}
	})
}
