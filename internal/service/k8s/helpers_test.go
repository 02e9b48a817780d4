package k8s

import (
	"context"
	"net"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// testIP is this package's loopback range (helper 7 of its batch).
const testIP = "127.0.107.1"

type testServer struct {
	events        *testutil.Events
	secure, plain string // host:port
}

// start serves a decky with persona p on fresh loopback ports.
func start(t *testing.T, p *Persona, host string) *testServer {
	t.Helper()
	if p == nil {
		p = defaultPersona().(*Persona)
	}
	ev := &testutil.Events{}
	srv, err := NewServer(service.Config{Host: service.Host{Name: "decky-k8s", Hostname: "kube-master-01", IP: host, DataDir: t.TempDir()}, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	addrs := map[int]string{}
	for _, port := range []int{SecurePort, InsecurePort} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[port] = ln
		addrs[port] = ln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return &testServer{events: ev, secure: addrs[SecurePort], plain: addrs[InsecurePort]}
}
