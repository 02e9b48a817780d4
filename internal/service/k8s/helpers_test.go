package k8s

import (
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
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
	addrs := servicetest.ServeTCPPorts(t, srv, host, SecurePort, InsecurePort)
	return &testServer{events: ev, secure: addrs[SecurePort], plain: addrs[InsecurePort]}
}
