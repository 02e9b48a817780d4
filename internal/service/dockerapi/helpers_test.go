package dockerapi

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// testHost is the decky the tests serve.
var testHost = service.Host{Name: "decky-06", Hostname: "build-node-2", Distro: "ubuntu22", IP: "127.0.106.1"}

// daemon is a served test daemon: its plain and TLS addresses and events.
type daemon struct {
	plain, tls string
	ev         *testutil.Events
	srv        *Server
	host       service.Host
}

// start serves a decky's daemon on host (a loopback address of the
// package's range) until the test ends.
func start(t testing.TB, host string, keys map[string]string) *daemon {
	t.Helper()
	p, err := service.NewPersona(Service{}.Info(), keys)
	if err != nil {
		t.Fatal(err)
	}
	h := testHost
	h.DataDir = t.TempDir()
	h.IP = host
	ev := &testutil.Events{}
	s, err := Service{}.New(service.Config{Host: h, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	d := &daemon{ev: ev, srv: s.(*Server), host: h}
	for _, port := range []int{PlainPort, TLSPort} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[port] = ln
		if port == PlainPort {
			d.plain = ln.Addr().String()
		} else {
			d.tls = ln.Addr().String()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		for _, ln := range ls.TCP {
			ln.Close()
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s")
		}
	})
	return d
}

// dockerCLI runs the docker client and returns its output.
func dockerCLI(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	return runDocker(t, env, "", args...)
}

// dockerCLIInput runs the docker client with stdin.
func dockerCLIInput(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	return runDocker(t, nil, stdin, args...)
}

func runDocker(t *testing.T, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	bin := testutil.RequireTool(t, "docker")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"DOCKER_CONFIG=" + t.TempDir(), "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// runTool runs an external program with a deadline.
func runTool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// commands returns the command events with action a.
func commands(ev *testutil.Events, action string) []event.Event {
	var out []event.Event
	for _, e := range ev.OfType(event.TypeCommand) {
		if e.Fields["action"] == action {
			out = append(out, e)
		}
	}
	return out
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
