package dockerapi

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
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
	h := testHost
	h.DataDir = t.TempDir()
	h.IP = host
	srv, ev := servicetest.New(t, Service{}, h, keys)
	addrs := servicetest.ServeTCPPorts(t, srv, host, PlainPort, TLSPort)
	return &daemon{plain: addrs[PlainPort], tls: addrs[TLSPort], ev: ev, srv: srv.(*Server), host: h}
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

// commands returns the command events with action a.
func commands(ev *testutil.Events, action string) []event.Event {
	return ev.With(event.TypeCommand, "action", action)
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
