package shell

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// shellCase is a command line run through a fresh session (as ssh host
// 'line' runs it) and what the terminal shows, stdout and stderr merged.
type shellCase struct {
	distro, user, line, want string
	status                   int
}

func runShellCases(t *testing.T, cases []shellCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.distro+" "+tt.user+" "+tt.line, func(t *testing.T) {
			s := newTestSession(t, tt.distro, tt.user, "")
			got, st := runLine(s, tt.line)
			if got != tt.want || st != tt.status {
				t.Errorf("got %q (%d)\nwant %q (%d)", got, st, tt.want, tt.status)
			}
		})
	}
}

// TestBotScripts runs the recon one-liners of ssh-brute and Mirai-style
// bots end to end, pipes included: each line is what such bots send, and
// the expected output is what the decky's own /proc, free, df and uname
// say, cut the way the bot cuts it.
func TestBotScripts(t *testing.T) {
	runShellCases(t, []shellCase{
		{"debian", "root", "cat /proc/cpuinfo | grep name | wc -l",
			"4\n", 0},
		{"debian", "root", "echo \"root:xyz\"|chpasswd|bash",
			"", 0},
		{"debian", "root", "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
			"Intel(R) Xeon(R) Gold 6230R CPU @\n", 0},
		{"debian", "root", "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
			"1967 320 1107 3 539 1593\n", 0},
		{"debian", "root", "ls -lh $(which ls)",
			"-rwxr-xr-x 1 root root 148K Jan 11  2026 /usr/bin/ls\n", 0},
		{"debian", "root", "which ls",
			"/usr/bin/ls\n", 0},
		{"debian", "root", "crontab -l",
			"no crontab for root\n", 1},
		{"debian", "root", "w",
			" 20:46:26 up 3 days,  4:12,  1 user,  load average: 0.00, 0.01, 0.00\nUSER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n", 0},
		{"debian", "root", "uname -m",
			"x86_64\n", 0},
		{"debian", "root", "top",
			"top: failed tty get\n", 1},
		{"debian", "root", "lscpu | grep Model",
			"Model name:                         Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz\nModel:                              79\n", 0},
		{"debian", "root", "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
			"984M\n", 0},
		{"debian", "root", "cat /proc/cpuinfo | grep model | grep name | wc -l",
			"4\n", 0},
		{"debian", "root", "rm -rf /tmp/secure.sh; rm -rf /tmp/auth.sh; pkill -9 secure.sh; pkill -9 auth.sh; echo > /etc/hosts.deny; pkill -9 sleep;",
			"", 1},
		{"debian", "root", "/bin/busybox MIRAI; echo $?",
			"MIRAI: applet not found\n127\n", 0},
		{"debian", "root", "uname -s -v -n -r -m",
			"Linux SRV-WEB-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64\n", 0},
		{"ubuntu22", "root", "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
			"Intel(R) Xeon(R) Gold 6230R CPU @\n", 0},
		{"rocky9", "root", "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
			"1967 320 1107 3 539 1593\n", 0},
		{"alpine", "root", "cat /proc/cpuinfo | grep name | wc -l",
			"4\n", 0},
	})
}

// TestBotScriptsInteractive feeds a bot's script to a shell reading lines
// (ssh without a command, or a piped shell): no command is missing.
func TestBotScriptsInteractive(t *testing.T) {
	script := strings.Join([]string{
		"cat /proc/cpuinfo | grep name | wc -l",
		"echo \"root:xyz\"|chpasswd|bash",
		"cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
		"free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
		"ls -lh $(which ls)",
		"which ls",
		"crontab -l",
		"w",
		"uname -m",
		"top",
		"uname",
		"uname -a",
		"whoami",
		"lscpu | grep Model",
		"df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
	}, "\n") + "\n"
	s := newTestSession(t, "debian", "root", "pts/0")
	var out bytes.Buffer
	s.RunLines(context.Background(), strings.NewReader(script), &out, &out)
	got := out.String()
	for _, bad := range []string{"command not found", "syntax error", "Usage:"} {
		if strings.Contains(got, bad) {
			t.Errorf("output has %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{"4\nIntel(R) Xeon(R) Gold 6230R CPU @\n1967 320 1107 3 539 1593\n", "\x1b[H\x1b[2Jtop - 20:46:26 up 3 days",
		"Model:                              79\n984M\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
