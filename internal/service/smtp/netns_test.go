package smtp

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// netnsChild marks the test binary run inside the test's network
// namespace.
const netnsChild = "SMTP_TEST_NETNS_CHILD"

// TestRelayNeverDelivers proves the open relay sends nothing off the
// machine: in a network namespace whose only way out is a dummy
// veth pair to a sink namespace, holding the default route (so any connect or DNS query
// would leave a socket and a packet), swaks relays a message to an
// external domain; the relay says it is queued and records it, the
// dummy interface sent no packet and the namespace's socket tables hold
// only the listeners and the client's connection.
func TestRelayNeverDelivers(t *testing.T) {
	if os.Getenv(netnsChild) != "" {
		relayInNetns(t)
		return
	}
	testutil.RequireRoot(t, "to make a network namespace")
	ipCmd := testutil.RequireTool(t, "ip")
	testutil.RequireTool(t, "swaks")
	ns := fmt.Sprintf("smtp%d", os.Getpid())
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() { exec.Command(ipCmd, "netns", "del", ns).Run() })
	sh("-n", ns, "link", "set", "lo", "up")
	sink := ns + "s"
	sh("netns", "add", sink)
	t.Cleanup(func() { exec.Command(ipCmd, "netns", "del", sink).Run() })
	sh("-n", ns, "link", "add", "out0", "type", "veth", "peer", "name", "sink0", "netns", sink)
	// No IPv6 link-local address, so the link itself sends nothing.
	sh("-n", ns, "link", "set", "out0", "addrgenmode", "none")
	sh("-n", sink, "link", "set", "sink0", "addrgenmode", "none")
	sh("-n", sink, "link", "set", "sink0", "up")
	sh("-n", ns, "addr", "add", "10.99.0.2/24", "dev", "out0")
	sh("-n", ns, "link", "set", "out0", "up")
	sh("-n", ns, "route", "add", "default", "via", "10.99.0.1")
	cmd := exec.Command(ipCmd, "netns", "exec", ns, os.Args[0], "-test.run", "^TestRelayNeverDelivers$", "-test.v")
	cmd.Env = append(os.Environ(), netnsChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
}

// relayInNetns is the part run inside the namespace.
func relayInNetns(t *testing.T) {
	before := txPackets(t)
	addrs, ev := start(t, "127.0.111.40", true, nil)
	out := run(t, "swaks", "--server", addrs[PortSMTP], "--helo", "spammer.example", "--from", "a@spam.example",
		"--to", "victim@gmail.com", "--header", "Subject: relay test")
	if !strings.Contains(out, "250 2.0.0 Ok: queued as ") {
		t.Fatalf("swaks:\n%s", out)
	}
	testutil.Eventually(t, "the message event", func() bool { return len(ev.With("message", "rcpt_to", `["victim@gmail.com"]`)) == 1 })
	if after := txPackets(t); after != before {
		t.Errorf("the way out sent packets: tx_packets %s, then %s", before, after)
	}
	listeners := map[string]bool{}
	for _, a := range addrs {
		listeners[hexAddr(a)] = true
	}
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		b, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			local, remote := f[1], f[2]
			if !listeners[local] && !listeners[remote] {
				t.Errorf("/proc/net/%s: a socket that is neither a listener nor a client of one: %s", table, line)
			}
		}
	}
}

// txPackets is the packets the way out sent.
func txPackets(t *testing.T) string {
	b, err := os.ReadFile("/sys/class/net/out0/statistics/tx_packets")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hexAddr writes an IPv4 host:port as /proc/net/tcp does.
func hexAddr(hostport string) string {
	var a, b, c, d, port int
	fmt.Sscanf(strings.Replace(hostport, ":", " ", 1), "%d.%d.%d.%d %d", &a, &b, &c, &d, &port)
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", d, c, b, a, port)
}
