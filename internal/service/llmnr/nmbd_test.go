package llmnr

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestNmbdDifferential runs the real nmbd on a loopback address and
// checks that the Samba-style responder answers each query byte for byte
// as it does, and stays silent where it does.
func TestNmbdDifferential(t *testing.T) {
	nmbd := testutil.RequireTool(t, "nmbd")
	const ip = "127.0.118.51"
	dir := t.TempDir()
	conf := filepath.Join(dir, "smb.conf")
	cfg := "[global]\n workgroup = WORKGROUP\n netbios name = NBTESTSRV\n interfaces = " + ip + "/24\n bind interfaces only = yes\n"
	for _, d := range []string{"lock directory", "state directory", "cache directory", "private dir", "pid directory"} {
		cfg += " " + d + " = " + dir + "\n"
	}
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nmbd, "-F", "--debug-stdout", "-d0", "--no-process-group", "-s", conf)
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
	silent := query(0x7777, "OTHERHOST", 0x20, 0x20)
	for i, q := range [][]byte{
		status,
		query(0x10, "NBTESTSRV", 0x00, 0x20), query(0x11, "NBTESTSRV", 0x03, 0x20), query(0x12, "nbtestsrv", 0x20, 0x20),
		query(0x13, "WORKGROUP", 0x00, 0x20), query(0x14, "WORKGROUP", 0x1e, 0x20),
		query(0x15, "NBTESTSRV", 0x00, 0x21), query(0x16, "NBTESTSRV", 0x1c, 0x20), silent,
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
