package shell

import (
	"strings"
	"time"
)

// LoginBanner is what a terminal login prints before the first prompt:
// the distro's motd and sshd's "Last login" line. It also records this
// login as the user's last one and in wtmp.
func (s *Session) LoginBanner() string {
	d, k := s.d, s.sys.kernel()
	var b strings.Builder
	switch s.sys.Distro {
	case "debian", "kali":
		name := "Debian GNU/Linux"
		if d.kali {
			name = "Kali GNU/Linux"
		}
		b.WriteString("Linux " + s.sys.Hostname + " " + k.Release + " " + k.Version + " x86_64\n\n" +
			"The programs included with the " + name + " system are free software;\n" +
			"the exact distribution terms for each program are described in the\n" +
			"individual files in /usr/share/doc/*/copyright.\n\n" +
			name + " comes with ABSOLUTELY NO WARRANTY, to the extent\npermitted by applicable law.\n")
	case "ubuntu22", "ubuntu20":
		pretty := strings.TrimSuffix(strings.TrimSpace(d.issue), `\n \l`)
		b.WriteString("Welcome to " + strings.TrimSpace(pretty) + " (GNU/Linux " + k.Release + " x86_64)\n\n" +
			" * Documentation:  https://help.ubuntu.com\n * Management:     https://landscape.canonical.com\n" +
			" * Support:        https://ubuntu.com/pro\n\n")
	case "alpine":
		b.WriteString("Welcome to Alpine!\n\nThe Alpine Wiki contains a large amount of how-to guides and general\n" +
			"information about administrating Alpine systems.\nSee <https://wiki.alpinelinux.org/>.\n\n" +
			"You can setup the system with the command: setup-alpine\n\nYou may change this message by editing /etc/motd.\n\n")
	}
	s.fs.mu.Lock()
	prev, ok := s.fs.last[s.user.name]
	s.fs.last[s.user.name] = lastLogin{Time: s.login, From: s.remote}
	s.recordLogin()
	s.fs.dirty = true
	s.fs.mu.Unlock()
	if ok && !d.ash {
		b.WriteString("Last login: " + prev.Time.UTC().Format("Mon Jan _2 15:04:05 2006"))
		if prev.From != "" {
			b.WriteString(" from " + prev.From)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// seedLastLogin gives root a previous login from the admin's workstation,
// so the first attacker does not see a machine nobody ever logged into.
func seedLastLogin(f *FS, at time.Time) {
	f.last = map[string]lastLogin{"root": {Time: at, From: "10.0.0.7"}}
}
