package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

// TestIdleFloodDoesNotLockOut opens 2,000 idle connections to one decky's
// ssh, from 100 sources, and then logs in with the real OpenSSH client:
// the login works, because a full listener makes room by closing the
// connection idle the longest.
func TestIdleFloodDoesNotLockOut(t *testing.T) {
	sshpass := testutil.RequireTool(t, "sshpass")
	testutil.RequireTool(t, "ssh")
	const ip = "127.77.206.10"
	dir := t.TempDir()
	ini := filepath.Join(dir, "fleet.ini")
	os.WriteFile(ini, []byte("[flooded]\nservices = ssh\n[flooded.ssh]\npassword = Flood2026!\n"), 0o600)
	n := startNode(t, filepath.Join(dir, "data"), freePort(t), "--config", ini, "--ip-base", ip)
	addr := net.JoinHostPort(ip, n.port("flooded", "ssh"))

	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for s := range 100 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 66, 3, byte(10+s))}, Timeout: 5 * time.Second}
		for range 20 {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("flood connection %d: %v", len(flood), err)
			}
			flood = append(flood, c)
		}
	}
	_, port, _ := net.SplitHostPort(addr)
	out := run(t, sshpass, "-p", "Flood2026!", "ssh", "-b", attackerIP, "-p", port, "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no", "root@"+ip, "echo still-served")
	if strings.TrimSpace(out) != "still-served" {
		t.Fatalf("the login under a flood of %d idle connections answered %q", len(flood), out)
	}
	if l := findLog(n.logs(n.token(), "service:ssh event:command"), func(l store.Log) bool {
		return l.AttackerIP == attackerIP && l.Fields["command"] == "echo still-served"
	}); l == nil {
		t.Error("the command of the login under the flood is not in the store")
	}
}
