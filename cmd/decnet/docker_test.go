package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/api"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

// requireDocker skips a test that needs root and a Docker engine with a
// compose tool, unless CI=true, where their absence fails it.
func requireDocker(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t, "for the docker runtime (networks, hairpin interface)")
	testutil.RequireTool(t, "docker")
	testutil.DockerEngine(t)
	if exec.Command("docker", "compose", "version").Run() != nil {
		testutil.RequireTool(t, "docker-compose")
	}
}

// testLAN is a LAN the test owns: a bridge with this host's address on it,
// and an attacker host in its own network namespace behind a veth.
type testLAN struct {
	bridge   string
	prefix   string // "10.a.b." without the last octet
	attacker string // network namespace
	nic      string // the attacker's interface
}

func (l testLAN) ip(last int) string { return fmt.Sprintf("%s%d", l.prefix, last) }

// newTestLAN builds the LAN and removes it when the test ends. Nothing is
// attached to a real interface.
func newTestLAN(t *testing.T) testLAN {
	t.Helper()
	id := fmt.Sprintf("%04x", rand.IntN(1<<16))
	l := testLAN{bridge: "dkb" + id, prefix: fmt.Sprintf("10.%d.%d.", 200+rand.IntN(50), rand.IntN(256)), attacker: "dka" + id, nic: "dkp" + id}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.attacker).Run()
		exec.Command("ip", "link", "del", "dkv"+id).Run()
		exec.Command("ip", "link", "del", l.bridge).Run()
	})
	ip("link", "add", l.bridge, "type", "bridge")
	ip("addr", "add", l.ip(1)+"/24", "dev", l.bridge)
	ip("link", "set", l.bridge, "up")
	ip("netns", "add", l.attacker)
	ip("link", "add", "dkv"+id, "type", "veth", "peer", "name", "dkp"+id)
	ip("link", "set", "dkp"+id, "netns", l.attacker)
	ip("link", "set", "dkv"+id, "master", l.bridge, "up")
	ip("-n", l.attacker, "addr", "add", l.ip(200)+"/24", "dev", "dkp"+id)
	ip("-n", l.attacker, "link", "set", "dkp"+id, "up")
	ip("-n", l.attacker, "link", "set", "lo", "up")
	return l
}

// attack runs a client in the attacker's namespace.
func (l testLAN) attack(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.attacker, name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("attacker: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// attackMayFail runs a client in the attacker's namespace whose failure
// is the expected outcome (a refused login), and returns what it printed.
func (l testLAN) attackMayFail(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.attacker, name}, args...)...).CombinedOutput()
	return string(out)
}

var (
	pingTTL  = regexp.MustCompile(`ttl=(\d+)`)
	arpReply = regexp.MustCompile(`reply from \S+ \[([0-9A-F:]+)\]`)
)

// dockerNames lists containers, networks or links whose name holds s.
func dockerNames(t *testing.T, what, s string) []string {
	t.Helper()
	var out []byte
	var err error
	switch what {
	case "container":
		out, err = exec.Command("docker", "ps", "-a", "--format", "{{.Names}}").Output()
	case "network":
		out, err = exec.Command("docker", "network", "ls", "--format", "{{.Name}}").Output()
	case "link":
		out, err = exec.Command("ip", "-o", "link", "show").Output()
	case "route":
		out, err = exec.Command("ip", "route", "show").Output()
	}
	if err != nil {
		t.Fatalf("list %ss: %v", what, err)
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, s) {
			found = append(found, strings.TrimSpace(line))
		}
	}
	return found
}

// TestDockerRuntime deploys three deckies as containers on a macvlan
// network whose parent is a bridge the test makes, attacks them from
// another network namespace with real clients, and follows the events
// through the collector into the store; then it mutates a decky and tears
// everything down.
func TestDockerRuntime(t *testing.T) {
	requireDocker(t)
	sshpass := testutil.RequireTool(t, "sshpass")
	testutil.RequireTool(t, "ssh")
	redisCLI := testutil.RequireTool(t, "redis-cli")
	smbclient := testutil.RequireTool(t, "smbclient")
	ping := testutil.RequireTool(t, "ping")
	arping := testutil.RequireTool(t, "arping")
	openssl := testutil.RequireTool(t, "openssl")

	l := newTestLAN(t)
	project := fmt.Sprintf("e2e%04x", rand.IntN(1<<16))
	lin, win, ws := project+"-lin", project+"-win", project+"-ws"
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ini := filepath.Join(dir, "fleet.ini")
	os.WriteFile(ini, []byte(fmt.Sprintf(`[%s]
services = ssh, redis, imap, pop3, conpot
nmap_os = linux
[%[1]s.ssh]
password = Winter2026!
[%s]
services = redis, ssh
nmap_os = windows
[%s]
archetype = windows-workstation
`, lin, win, ws)), 0o600)
	env := []string{"DECNET_ADMIN_USER=analyst", "DECNET_ADMIN_PASSWORD=e2e-admin-password", envProject + "=" + project}
	// Whatever happens, leave nothing on the engine or the host.
	t.Cleanup(func() {
		cmd := exec.Command(binary, "teardown", "--all", "--data-dir", data)
		cmd.Env = cleanEnv(env...)
		cmd.Run()
		for _, c := range dockerNames(t, "container", project) {
			exec.Command("docker", "rm", "-f", c).Run()
		}
		exec.Command("docker", "network", "rm", project+"_lan").Run()
	})

	// A dry run writes the compose file and deploys nothing.
	dry := decnetOut(t, env, "deploy", "--mode", "unihost", "--config", ini, "--interface", l.bridge, "--ip-start", l.ip(10),
		"--data-dir", data, "--dry-run")
	if b, err := os.ReadFile(filepath.Join(data, "compose.dry-run.yml")); err != nil || !strings.Contains(string(b), "container_name: "+win+"-redis") ||
		!strings.Contains(dry, "nothing deployed") {
		t.Fatalf("dry run: %v\n%s\n%s", err, dry, b)
	}
	if c := dockerNames(t, "container", project); len(c) > 0 {
		t.Fatalf("the dry run made containers: %v", c)
	}

	listen := freePort(t)
	start := time.Now()
	n := startDecnet(t, listen, env, "up", "--mode", "unihost", "--config", ini, "--interface", l.bridge,
		"--ip-start", l.ip(10), "--data-dir", data, "--listen", listen)
	t.Logf("up --mode unihost with 3 deckies ready in %s", time.Since(start).Round(time.Millisecond))
	linIP, winIP, wsIP := l.ip(10), l.ip(11), l.ip(12)
	if out := n.output(); !strings.Contains(out, lin+"  "+linIP) || !strings.Contains(out, win+"  "+winIP) {
		t.Fatalf("the status table does not show the deckies at %s and %s:\n%s", linIP, winIP, out)
	}

	// Real clients from the attacker's namespace.
	sshArgs := []string{"-p", "Winter2026!", "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no", "root@" + linIP, "uname -a; id"}
	if out := l.attack(t, sshpass, sshArgs...); !strings.HasPrefix(out, "Linux ") || !strings.Contains(out, "uid=0(root)") {
		t.Errorf("ssh uname -a; id answered %q", out)
	}
	if out := l.attack(t, redisCLI, "-h", winIP, "SET", "planted", "by-attacker"); strings.TrimSpace(out) != "OK" {
		t.Errorf("redis SET answered %q", out)
	}
	// One host, one snakeoil: imap and pop3, each in a container of its
	// own, present the certificate the first of them made.
	certOf := func(port string) string {
		out := l.attackMayFail(openssl, "s_client", "-connect", net.JoinHostPort(linIP, port))
		begin, end := strings.Index(out, "-----BEGIN CERTIFICATE-----"), strings.Index(out, "-----END CERTIFICATE-----")
		if begin < 0 || end < begin {
			t.Fatalf("no certificate on %s:%s:\n%s", linIP, port, out)
		}
		return out[begin:end]
	}
	if certOf("993") != certOf("995") {
		t.Errorf("%s's imap and pop3 present different certificates", lin)
	}
	// The Windows workstation's smb, in its own hardened container.
	if out := l.attackMayFail(smbclient, "-L", "//"+wsIP, "-U", "alice%secret"); !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
		t.Errorf("smbclient against the workstation: %q, want a logon failure", out)
	}
	for ip, want := range map[string]string{linIP: "64", winIP: "128", wsIP: "128"} {
		out := l.attack(t, ping, "-c", "1", "-W", "2", ip)
		if m := pingTTL.FindStringSubmatch(out); m == nil || m[1] != want {
			t.Errorf("ping %s: TTL %v, want %s (its OS family's)\n%s", ip, m, want, out)
		}
	}

	// The LAN sees one MAC for this host's address: the hairpin, which
	// holds it too, answers ARP for the deckies only.
	bridgeMAC := strings.ToUpper(strings.TrimSpace(run(t, "cat", "/sys/class/net/"+l.bridge+"/address")))
	arp := l.attack(t, arping, "-c", "3", "-I", l.nic, l.ip(1))
	if replies := arpReply.FindAllStringSubmatch(arp, -1); len(replies) == 0 {
		t.Errorf("no ARP reply for this host's address:\n%s", arp)
	} else {
		for _, r := range replies {
			if r[1] != bridgeMAC {
				t.Errorf("this host's address answered by %s besides its own MAC %s:\n%s", r[1], bridgeMAC, arp)
			}
		}
	}

	// The events reach the store through the collector, with the right
	// decky and source address.
	token := n.token()
	attacker := l.ip(200)
	cmdLog := findLog(n.logs(token, "decky:"+lin+" event_type:command"), func(g store.Log) bool {
		return g.Service == "ssh" && g.AttackerIP == attacker && g.Fields["command"] == "uname -a; id"
	})
	if cmdLog == nil {
		t.Errorf("no ssh command event of %s from %s in the store", lin, attacker)
	}
	auth := findLog(n.logs(token, "decky:"+lin+" event_type:auth"), func(g store.Log) bool {
		return g.AttackerIP == attacker && g.Fields["password"] == "Winter2026!" && g.Fields["success"] == "true"
	})
	if auth == nil {
		t.Errorf("no successful ssh login of %s with the persona's password in the store", lin)
	}
	if findLog(n.logs(token, "decky:"+ws+" service:smb event:auth"), func(g store.Log) bool {
		return g.AttackerIP == attacker && g.Fields["username"] == "alice" && strings.HasPrefix(g.Fields["hash"], "alice::")
	}) == nil {
		t.Errorf("no NetNTLMv2 of alice from the workstation %s in the store", ws)
	}
	if findLog(n.logs(token, "decky:"+win+" service:redis"), func(g store.Log) bool {
		return g.AttackerIP == attacker && strings.Contains(g.Fields["command"], "SET")
	}) == nil {
		t.Errorf("no redis SET of %s from %s in the store", win, attacker)
	}

	// status: every container up, and the workers of this process.
	status := decnetOut(t, env, "status", "--data-dir", data)
	for _, d := range []string{lin, win, ws} {
		if !regexp.MustCompile(`(?m)^` + d + `\s.*\sup$`).MatchString(status) {
			t.Errorf("status does not show %s up:\n%s", d, status)
		}
	}
	if !strings.Contains(status, "Workers: UP") || !strings.Contains(status, "collector") {
		t.Errorf("status does not show the workers:\n%s", status)
	}

	// A forced mutation changes the services: in the record, in the
	// containers, and as a mutation event in the store.
	before := deckyServices(t, project, lin)
	out := decnetOut(t, env, "mutate", "--decky", lin, "--data-dir", data)
	after := deckyServices(t, project, lin)
	if slices.Equal(before, after) || !strings.Contains(out, lin+" now runs "+strings.Join(recordServices(t, data, lin), ", ")) {
		t.Errorf("mutate: containers ran %v, now %v; it said %q", before, after, out)
	}
	if !slices.Equal(after, sortedCopy(recordServices(t, data, lin))) {
		t.Errorf("the containers of %s run %v, the record says %v", lin, after, recordServices(t, data, lin))
	}
	if findLog(n.logs(token, "decky:"+lin+" event_type:mutation"), func(g store.Log) bool { return g.Service == "mutator" }) == nil {
		t.Errorf("no mutation event of %s in the store", lin)
	}

	// The API drives this runtime too: deploy a fourth decky from an INI
	// document, and mutate it.
	extra := project + "-api"
	admin, _ := n.login("analyst", "e2e-admin-password")
	if code, body := n.request(admin, "POST", "/deckies/deploy", map[string]string{"ini_content": "[" + extra + "]\nservices = redis\n"}); code != 200 {
		t.Fatalf("POST /deckies/deploy: %d %s", code, body)
	}
	if got := deckyServices(t, project, extra); !slices.Equal(got, []string{"redis"}) {
		t.Errorf("after the API deploy, %s runs %v", extra, got)
	}
	if out := l.attack(t, redisCLI, "-h", l.ip(13), "PING"); strings.TrimSpace(out) != "PONG" {
		t.Errorf("the decky deployed through the API answered PING with %q", out)
	}
	if code, body := n.request(admin, "POST", "/deckies/"+extra+"/mutate", nil); code != 200 {
		t.Fatalf("POST /deckies/%s/mutate: %d %s", extra, code, body)
	}
	if got := deckyServices(t, project, extra); slices.Equal(got, []string{"redis"}) {
		t.Errorf("after the API mutation, %s still runs %v", extra, got)
	}
	if linNow := deckyServices(t, project, lin); !slices.Equal(linNow, after) {
		t.Errorf("the API deploy changed %s: %v, was %v", lin, linNow, after)
	}

	// The CLI sets a decky's interval in the record the API reads.
	decnetOut(t, env, "mutate", "--decky", lin, "--interval", "45", "--data-dir", data)
	var deckies []api.Decky
	n.get(token, "/deckies", &deckies)
	if i := slices.IndexFunc(deckies, func(d api.Decky) bool { return d.Name == lin }); i < 0 ||
		deckies[i].MutateInterval == nil || *deckies[i].MutateInterval != 45 {
		t.Errorf("after mutate --interval 45 the API shows %+v", deckies)
	}
	for _, d := range deckies {
		if !d.Active {
			t.Errorf("the API shows %s inactive while its containers run", d.Name)
		}
		// What the attacker's ARP table holds is the decky's own vendor
		// MAC, not the engine's 02:42:... one.
		if d.Name != win {
			continue
		}
		neigh := l.attack(t, "ip", "neigh", "show", winIP)
		if d.MAC == "" || strings.HasPrefix(d.MAC, "02:42") || !strings.Contains(neigh, "lladdr "+d.MAC) {
			t.Errorf("%s has MAC %q in the API; the attacker's neighbour table says %q", win, d.MAC, neigh)
		}
	}

	// Stopping the workers leaves the deckies running.
	n.stop()
	if got := len(dockerNames(t, "container", project)); got == 0 {
		t.Error("the deckies stopped with the workers")
	}

	// What an attacker does while no collector runs waits in the
	// container's log: `decnet collect` picks it up where the last
	// collector stopped, without repeating what was collected before.
	l.attack(t, redisCLI, "-h", winIP, "SET", "while-down", "1")
	collect := exec.Command(binary, "collect", "--data-dir", data)
	collect.Env = cleanEnv(env...)
	if err := collect.Start(); err != nil {
		t.Fatal(err)
	}
	ingest := filepath.Join(data, "events.json")
	testutil.Eventually(t, "the event made while no collector ran reaches the ingest file", func() bool {
		b, _ := os.ReadFile(ingest)
		return strings.Contains(string(b), "while-down")
	})
	collect.Process.Signal(os.Interrupt)
	if err := collect.Wait(); err != nil {
		t.Errorf("decnet collect: %v", err)
	}
	if b, _ := os.ReadFile(ingest); strings.Count(string(b), `"command":"uname -a; id"`) != 1 {
		t.Errorf("the ssh command is in the ingest file %d times, want once", strings.Count(string(b), `"command":"uname -a; id"`))
	}

	// teardown --id removes one decky; the others keep running.
	decnetOut(t, env, "teardown", "--id", extra, "--data-dir", data)
	if c := dockerNames(t, "container", extra); len(c) > 0 {
		t.Errorf("containers of %s left after teardown --id: %v", extra, c)
	}
	if got := deckyServices(t, project, win); !slices.Equal(got, []string{"redis", "ssh"}) {
		t.Errorf("after teardown --id %s, %s runs %v", extra, win, got)
	}

	// redeploy brings back what was lost: a removed container, the hairpin.
	hairpin := project[:min(len(project), 11)] + "_mv0"
	exec.Command("docker", "rm", "-f", win+"-redis").Run()
	exec.Command("ip", "link", "del", hairpin).Run()
	decnetOut(t, env, "redeploy", "--data-dir", data)
	if got := deckyServices(t, project, win); !slices.Equal(got, []string{"redis", "ssh"}) {
		t.Errorf("after redeploy, %s runs %v", win, got)
	}
	if len(dockerNames(t, "link", hairpin)) != 1 {
		t.Errorf("redeploy did not bring back the hairpin %s", hairpin)
	}
	if out := l.attack(t, redisCLI, "-h", winIP, "PING"); strings.TrimSpace(out) != "PONG" {
		t.Errorf("the redeployed redis answered PING with %q", out)
	}

	// teardown --all leaves no container, network, interface or route.
	decnetOut(t, env, "teardown", "--all", "--data-dir", data)
	if c := dockerNames(t, "container", project); len(c) > 0 {
		t.Errorf("containers left: %v", c)
	}
	if c := dockerNames(t, "network", project); len(c) > 0 {
		t.Errorf("networks left: %v", c)
	}
	if c := dockerNames(t, "link", hairpin); len(c) > 0 {
		t.Errorf("hairpin left: %v", c)
	}
	if c := dockerNames(t, "route", l.prefix); len(c) != 1 { // the bridge's own subnet route
		t.Errorf("routes left: %v", c)
	}
	if _, err := os.Stat(filepath.Join(data, "deployment.json")); !os.IsNotExist(err) {
		t.Errorf("the deployment record is still there: %v", err)
	}
}

// decnetOut runs a short decnet command and returns its output.
func decnetOut(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("decnet %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// deckyServices lists the services whose containers run for a decky,
// found by label as the collector finds them.
func deckyServices(t *testing.T, project, decky string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "--filter", "label=decnet.project="+project, "--filter", "label=decnet.decky="+decky,
		"--filter", "label=decnet.role=service", "--format", `{{.Label "decnet.service"}}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	return sortedCopy(strings.Fields(string(out)))
}

// recordServices reads a decky's services from the deployment record.
func recordServices(t *testing.T, data, decky string) []string {
	t.Helper()
	out := decnetOut(t, nil, "status", "--data-dir", data)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[0] == decky {
			var svcs []string
			for _, s := range f[5 : len(f)-1] {
				svcs = append(svcs, strings.SplitN(s, ":", 2)[0])
			}
			return svcs
		}
	}
	t.Fatalf("status shows no %s:\n%s", decky, out)
	return nil
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
