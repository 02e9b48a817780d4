package local

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/fleet"
	"decnet/internal/service"
	"decnet/internal/service/accounts"
	_ "decnet/internal/service/ssh"
	_ "decnet/internal/service/telnet"
	"decnet/internal/shell"
	"decnet/internal/testutil"
)

// startLoginDecky starts one decky running ssh and telnet on ip, with the
// persona defaults (root:root, root:admin, root:123456, root:password, ...),
// on the data directory dir.
func startLoginDecky(t *testing.T, ip, dir string) (sshAddr, telnetAddr string) {
	t.Helper()
	d := fleet.Decky{Name: "box", IP: netip.MustParseAddr(ip), Hostname: "box", Distro: "debian", OS: "linux",
		Services: []string{"ssh", "telnet"}}
	f, err := Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{d}},
		Options{PortOffset: 20000, ForceOffset: true, DataDir: dir, Emit: &testutil.Events{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return ip + ":20022", ip + ":20023"
}

// sshExec logs in with a password and runs cmd, returning its output; an
// error when the login is refused.
func sshExec(t *testing.T, addr, user, pw, cmd string) (string, error) {
	t.Helper()
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.Password(pw)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("ssh %q: %v (%q)", cmd, err, out)
	}
	return string(out), nil
}

// telnetClient is a line-mode telnet client that refuses every option but
// the server's echo and go-ahead suppression, as scripted bots do.
type telnetClient struct {
	t    *testing.T
	c    net.Conn
	text []byte // received, negotiation removed
}

func dialTelnet(t *testing.T, addr string) *telnetClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &telnetClient{t: t, c: c}
}

// expect reads until the text holds s and returns the text before it.
func (tc *telnetClient) expect(s string) string {
	tc.t.Helper()
	const iac, will, wont, do, dont, sb, se = 255, 251, 252, 253, 254, 250, 240
	tc.c.SetReadDeadline(time.Now().Add(15 * time.Second))
	buf := make([]byte, 4096)
	for {
		if i := bytes.Index(tc.text, []byte(s)); i >= 0 {
			out := string(tc.text[:i])
			tc.text = tc.text[i+len(s):]
			return out
		}
		n, err := tc.c.Read(buf)
		if err != nil {
			tc.t.Fatalf("waiting for %q: %v; got %q", s, err, tc.text)
		}
		p := buf[:n]
		for i := 0; i < len(p); i++ {
			switch {
			case p[i] != iac || i+2 >= len(p):
				tc.text = append(tc.text, p[i])
			case p[i+1] == sb:
				if j := bytes.IndexByte(p[i:], se); j > 0 {
					i += j
				}
			case p[i+1] == do || p[i+1] == dont:
				tc.c.Write([]byte{iac, wont, p[i+2]})
				i += 2
			case p[i+1] == will || p[i+1] == wont:
				answer := byte(dont)
				if p[i+2] == 1 || p[i+2] == 3 { // ECHO, SUPPRESS-GO-AHEAD
					answer = do
				}
				tc.c.Write([]byte{iac, answer, p[i+2]})
				i += 2
			default:
				i++
			}
		}
	}
}

func (tc *telnetClient) login(user, pw, prompt string) {
	tc.t.Helper()
	tc.expect("login: ")
	tc.c.Write([]byte(user + "\r\n"))
	tc.expect("Password: ")
	tc.c.Write([]byte(pw + "\r\n"))
	tc.expect(prompt)
}

// run sends a command line and returns its output up to the next prompt.
func (tc *telnetClient) run(line, prompt string) string {
	tc.t.Helper()
	tc.c.Write([]byte(line + "\r\n"))
	tc.expect(line + "\r\n") // the echo
	return strings.ReplaceAll(tc.expect(prompt), "\r\n", "\n")
}

// TestSSHAndTelnetShareTheHost: ssh and telnet of one decky are two ways
// into one machine. The password telnet bound is the one ssh accepts, and
// a file written over one is there, at once, over the other, also in a
// session opened before it was written.
func TestSSHAndTelnetShareTheHost(t *testing.T) {
	sshAddr, telnetAddr := startLoginDecky(t, "127.77.9.40", t.TempDir())
	const prompt = "root@box:~# "
	tel := dialTelnet(t, telnetAddr)
	tel.login("root", "admin", prompt)

	if _, err := sshExec(t, sshAddr, "root", "root", "true"); err == nil {
		t.Fatal("ssh accepted root:root after telnet bound root to admin")
	}
	if _, err := sshExec(t, sshAddr, "root", "admin", "echo from-ssh > /root/s.txt"); err != nil {
		t.Fatalf("ssh refused the password telnet bound: %v", err)
	}
	if got := tel.run("cat /root/s.txt", prompt); got != "from-ssh\n" {
		t.Errorf("telnet reads the file ssh wrote as %q", got)
	}
	tel.run("echo from-telnet > /tmp/t.txt", prompt)
	if got, err := sshExec(t, sshAddr, "root", "admin", "cat /tmp/t.txt"); err != nil || got != "from-telnet\n" {
		t.Errorf("ssh reads the file telnet wrote as %q (%v)", got, err)
	}
}

// TestSharedHostAdoptsServiceState: a decky upgraded from per-service
// state keeps ssh's filesystem and bound passwords, for telnet too; the
// telnet state it had on its own is not taken.
func TestSharedHostAdoptsServiceState(t *testing.T) {
	dir := t.TempDir()
	for slug, bound := range map[string]string{"ssh": `{"root":"password"}`, "telnet": `{"root":"admin"}`} {
		if err := os.MkdirAll(filepath.Join(dir, "box", slug), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "box", slug, slug+"_logins.json"), []byte(bound), 0o600); err != nil {
			t.Fatal(err)
		}
		fsys, err := shell.Open(filepath.Join(dir, "box", slug, "shell"), shell.System{Hostname: "box", Distro: "debian"})
		if err != nil {
			t.Fatal(err)
		}
		s := fsys.NewSession(shell.Options{User: "root"})
		s.Exec(context.Background(), "echo kept-by-"+slug+" > /root/old.txt", &bytes.Buffer{}, &bytes.Buffer{})
		s.Close()
	}
	sshAddr, telnetAddr := startLoginDecky(t, "127.77.9.41", dir)

	if _, err := sshExec(t, sshAddr, "root", "admin", "true"); err == nil {
		t.Fatal("ssh accepted root:admin: its bound password was not adopted")
	}
	const prompt = "root@box:~# "
	tel := dialTelnet(t, telnetAddr)
	tel.login("root", "password", prompt)
	if got := tel.run("cat /root/old.txt", prompt); got != "kept-by-ssh\n" {
		t.Errorf("telnet reads the upgraded decky's file as %q, want ssh's", got)
	}
	shared := filepath.Join(dir, "box", service.SharedDirName)
	for _, name := range []string{accounts.FileName, filepath.Join(shell.DirName, "fs.json")} {
		if _, err := os.Stat(filepath.Join(shared, name)); err != nil {
			t.Errorf("shared directory: %v", err)
		}
	}
}
