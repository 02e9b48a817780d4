package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// rssAnon is the private resident memory of a process, in bytes.
func rssAnon(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	tb.Fatal("no RssAnon")
	return 0
}

// BenchmarkConnMemory measures what a `decnet up` process holds per idle
// connection to each TCP honeypot, and per interactive ssh shell session:
// the growth of its private resident memory (RssAnon) while they are
// open, divided by their number. Connections come from several loopback
// sources, under the per-source and per-listener caps. It measures once,
// whatever b.N. Run: go test ./cmd/decnet -run '^$' -bench ConnMemory -benchtime 1x
func BenchmarkConnMemory(b *testing.B) {
	services := []string{"ssh", "telnet", "ftp", "smb", "rdp", "vnc", "redis", "http", "https", "mysql", "postgres",
		"mssql", "mongodb", "elasticsearch", "ldap", "k8s", "docker_api", "smtp", "imap", "pop3", "mqtt"}
	// conpot's HMI shares port 80 with http: it gets a decky of its own.
	ics := []string{"conpot"}
	dir := b.TempDir()
	const ip, icsIP = "127.77.205.10", "127.77.205.11"
	ini := filepath.Join(dir, "fleet.ini")
	os.WriteFile(ini, []byte("[mem]\nservices = "+strings.Join(services, ", ")+"\n[mem.ssh]\npassword = bench-pass\n"+
		"[ics]\nservices = "+strings.Join(ics, ", ")+"\n"), 0o600)
	// A small GC target and immediate release of freed pages keep the
	// garbage of earlier steps out of each reading.
	listen := freePort(b)
	n := startDecnet(b, listen, []string{"DECNET_ADMIN_USER=analyst", "DECNET_ADMIN_PASSWORD=e2e-admin-password",
		"GOGC=20", "GODEBUG=madvdontneed=1"},
		"up", "--data-dir", filepath.Join(dir, "data"), "--listen", listen, "--config", ini, "--ip-base", ip)
	defer n.stop()
	pid := n.cmd.Process.Pid
	// settle reads the memory once it has stopped moving: the least of
	// readings a second apart, after the garbage of the last step is gone.
	settle := func() int64 {
		least := int64(-1)
		for range 4 {
			time.Sleep(time.Second)
			if m := rssAnon(b, pid); least < 0 || m < least {
				least = m
			}
		}
		return least
	}
	// 200 connections, under the 256 per listener, 10 per source: sshd's
	// MaxStartups starts refusing a source's eleventh.
	const perSource, sources = 10, 20
	type target struct{ decky, ip, svc string }
	var targets []target
	for _, svc := range services {
		targets = append(targets, target{"mem", ip, svc})
	}
	for _, svc := range ics {
		targets = append(targets, target{"ics", icsIP, svc})
	}
	for _, tg := range targets {
		svc := tg.svc
		before := settle()
		var conns []net.Conn
		for s := range sources {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 66, 1, byte(10+s))}, Timeout: 5 * time.Second}
			for range perSource {
				c, err := d.Dial("tcp", net.JoinHostPort(tg.ip, n.port(tg.decky, svc)))
				if err != nil {
					b.Fatalf("%s: %v", svc, err)
				}
				conns = append(conns, c)
			}
		}
		after := settle()
		b.ReportMetric(float64(after-before)/float64(len(conns))/1024, svc+"-KiB/idle-conn")
		for _, c := range conns {
			c.Close()
		}
	}

	// Interactive shells: logged in, a PTY and bash waiting at its prompt.
	before := settle()
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("bench-pass")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	const shells = 50
	var clients []*ssh.Client
	for i := range shells {
		cfg := *cfg
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 66, 2, byte(10+i%8))}}
		c, err := d.Dial("tcp", net.JoinHostPort(ip, n.port("mem", "ssh")))
		if err != nil {
			b.Fatal(err)
		}
		conn, chans, reqs, err := ssh.NewClientConn(c, c.RemoteAddr().String(), &cfg)
		if err != nil {
			b.Fatal(err)
		}
		client := ssh.NewClient(conn, chans, reqs)
		sess, err := client.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			b.Fatal(err)
		}
		clients = append(clients, client)
	}
	after := settle()
	b.ReportMetric(float64(after-before)/shells/1024, "ssh-KiB/shell-session")
	for _, c := range clients {
		c.Close()
	}
}
