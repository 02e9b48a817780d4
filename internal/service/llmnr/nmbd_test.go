package llmnr

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// nmbdNetns makes a network namespace joined to the test's own by a veth
// pair and returns its name and address. nmbd needs 0.0.0.0:137 besides
// its interface's address, and cannot have it (and never answers) while
// any other process on the machine holds port 137 of some address: the
// namespace's port 137 is nmbd's alone. Each run takes a /30 of
// 10.118.51.0/24 picked by its process id, as the test's end of the pair
// is in the machine's namespace.
func nmbdNetns(t *testing.T) (ns, addr string) {
	t.Helper()
	id := requireNetns(t)
	ns = "llmn" + id
	addNetns(t, ns)
	base := 4 * (os.Getpid() % 64)
	host, peer := "llmn"+id+"h", "llmn"+id+"n"
	ipRun(t, "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	ipRun(t, "addr", "add", fmt.Sprintf("10.118.51.%d/30", base+1), "broadcast", "+", "dev", host)
	ipRun(t, "link", "set", host, "up")
	addr = fmt.Sprintf("10.118.51.%d", base+2)
	ipRun(t, "-n", ns, "addr", "add", addr+"/30", "broadcast", "+", "dev", peer)
	ipRun(t, "-n", ns, "link", "set", peer, "up")
	ipRun(t, "-n", ns, "link", "set", "lo", "up")
	return ns, addr
}

// TestNmbdDifferential runs the real nmbd in a network namespace and
// checks that the Samba-style responder answers each query byte for byte
// as it does, and stays silent where it does.
func TestNmbdDifferential(t *testing.T) {
	nmbd := testutil.RequireTool(t, "nmbd")
	ns, ip := nmbdNetns(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "smb.conf")
	cfg := "[global]\n workgroup = WORKGROUP\n netbios name = NBTESTSRV\n interfaces = " + ip + "/30\n bind interfaces only = yes\n"
	for _, d := range []string{"lock directory", "state directory", "cache directory", "private dir", "pid directory"} {
		cfg += " " + d + " = " + dir + "\n"
	}
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, nmbd, "-F", "--debug-stdout", "-d0", "--no-process-group", "-s", conf)
	var out testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	id, err := newIdentity(service.Host{Name: "d", Hostname: "nbtestsrv", OS: "linux", IP: ip}, defaultPersona().(*Persona))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp4", net.JoinHostPort(ip, "137"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2048)
	ask := func(q []byte, wait time.Duration) bool {
		c.Write(q)
		c.SetReadDeadline(time.Now().Add(wait))
		_, err := c.Read(buf)
		return err == nil
	}
	query := func(id uint16, name string, suffix byte, qtype byte) []byte {
		b := append(appendHeader(nil, id, nbRD|nbBroadcast, 1, 0), appendName(nil, newNBName(name, suffix))...)
		return append(b, 0, qtype, 0, 1)
	}
	status := append(append(appendHeader(nil, 1, 0, 1, 0), appendName(nil, wildcard())...), 0, 0x21, 0, 1)
	// nmbd answers for its names once it has registered them (seconds).
	for deadline := time.Now().Add(30 * time.Second); !ask(query(2, "NBTESTSRV", 0x20, 0x20), 500*time.Millisecond); {
		if time.Now().After(deadline) {
			t.Fatalf("nmbd does not answer:\n%s", out.String())
		}
	}
	unicast := func(q []byte) []byte { q[3] &^= nbBroadcast; return q }
	norec := func(q []byte) []byte { q[2] &^= nbRD >> 8; return q }
	silent := query(0x7777, "OTHERHOST", 0x20, 0x20)
	for i, q := range [][]byte{
		status,
		query(0x10, "NBTESTSRV", 0x00, 0x20), query(0x11, "NBTESTSRV", 0x03, 0x20), query(0x12, "nbtestsrv", 0x20, 0x20),
		query(0x13, "WORKGROUP", 0x00, 0x20), query(0x14, "WORKGROUP", 0x1e, 0x20),
		query(0x15, "NBTESTSRV", 0x00, 0x21), query(0x16, "NBTESTSRV", 0x1c, 0x20), silent,
		query(0x20, "NBTESTSRV", 0x03, 0x21), query(0x21, "NBTESTSRV", 0x20, 0x21), query(0x22, "nbtestsrv", 0x20, 0x21),
		query(0x23, "WORKGROUP", 0x00, 0x21), query(0x24, "WORKGROUP", 0x1e, 0x21), query(0x25, "OTHERHOST", 0x00, 0x21),
		query(0x26, "__SAMBA__", 0x00, 0x21), query(0x27, "__SAMBA__", 0x20, 0x21), query(0x28, "*", 0x00, 0x21),
		query(0x29, "*", 0x20, 0x21), query(0x2a, "NBTESTSRV", 0x1c, 0x21), query(0x2b, "__SAMBA__", 0x00, 0x20),
		query(0x2c, "*", 0x00, 0x20), query(0x2d, "__samba__", 0x00, 0x21), query(0x2e, "__SAMBA__", 0x03, 0x21),
		unicast(query(0x30, "NBTESTSRV", 0x00, 0x21)), unicast(query(0x31, "WORKGROUP", 0x1e, 0x21)), unicast(query(0x32, "OTHERHOST", 0x00, 0x21)),
		unicast(query(0x33, "__SAMBA__", 0x00, 0x21)), unicast(query(0x34, "NBTESTSRV", 0x20, 0x20)),
		norec(query(0x40, "NBTESTSRV", 0x20, 0x20)), norec(query(0x41, "NBTESTSRV", 0x00, 0x21)), norec(unicast(query(0x42, "WORKGROUP", 0x00, 0x20))),
		query(0x43, "__SAMBA__", 0x20, 0x20), query(0x44, "*", 0x20, 0x20), query(0x45, "NBTESTSRV", 0x03, 0x20),
	} {
		// After each query, a node status request of its own ID: the
		// replies up to its answer tell whether the query was answered.
		marker := bytes.Clone(status)
		marker[0], marker[1] = 0x90, byte(i)
		c.Write(q)
		c.Write(marker)
		var real []byte
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("query %d: no answer to the node status after it: %v", i, err)
			}
			if bytes.Equal(buf[:2], marker[:2]) {
				break
			}
			if bytes.Equal(buf[:2], q[:2]) {
				real = bytes.Clone(buf[:n])
			}
		}
		p, err := parseNBNS(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := id.answerNBNS(p); !bytes.Equal(got, real) {
			t.Errorf("query %d (%x):\n ours %x\n nmbd %x", i, q, got, real)
		}
	}
}
