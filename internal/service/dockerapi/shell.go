package dockerapi

import (
	"strings"
)

// miniShell answers the few commands attackers' scripts run in a fresh
// container to look around (id, uname, hostname, cat /etc/os-release,
// echo ...), so a script proceeds; anything else prints nothing, as a
// command that succeeds quietly would. It runs nothing.
type miniShell struct {
	ct     *container
	kernel string
	cwd    string
	exited bool
}

func newMiniShell(ct *container, kernel string) *miniShell {
	return &miniShell{ct: ct, kernel: kernel, cwd: "/"}
}

// family is the image's userland: alpine's BusyBox, or glibc distros.
func (m *miniShell) family() string {
	repo, _, _ := strings.Cut(normalizeRef(m.ct.Image), ":")
	switch {
	case strings.Contains(repo, "alpine"), repo == "busybox", strings.Contains(repo, "redis"), strings.Contains(repo, "nginx"):
		return "alpine"
	case strings.Contains(repo, "ubuntu"):
		return "ubuntu"
	}
	return "debian"
}

func (m *miniShell) prompt() string {
	if m.family() == "alpine" {
		return m.cwd + " # "
	}
	return "root@" + m.ct.ID[:12] + ":" + m.cwd + "# "
}

var osRelease = map[string]string{
	"alpine": "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\nHOME_URL=\"https://alpinelinux.org/\"\nBUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n",
	"ubuntu": "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nHOME_URL=\"https://www.ubuntu.com/\"\nSUPPORT_URL=\"https://help.ubuntu.com/\"\nBUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\nPRIVACY_POLICY_URL=\"https://www.ubuntu.com/legal/terms-and-policies/privacy-policy\"\nUBUNTU_CODENAME=jammy\n",
	"debian": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n",
}

// run answers one command (argv); sh -c and bash -c scripts are split
// into their simple commands.
func (m *miniShell) run(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	base := argv[0][strings.LastIndexByte(argv[0], '/')+1:]
	switch base {
	case "sh", "bash", "ash", "dash":
		if len(argv) >= 3 && argv[1] == "-c" {
			return m.script(argv[2])
		}
		return ""
	case "chroot", "nsenter":
		for i := 1; i < len(argv); i++ {
			if !strings.HasPrefix(argv[i], "-") && (base == "chroot" && i == 1) {
				if len(argv) > i+1 {
					return m.run(argv[i+1:])
				}
				return ""
			}
		}
		return ""
	}
	return m.simple(argv)
}

// script runs a shell script line by simple command; quoting is honoured
// only as far as splitting words goes.
func (m *miniShell) script(s string) string {
	var out strings.Builder
	for _, stmt := range splitStatements(s) {
		if w := words(stmt); len(w) > 0 {
			out.WriteString(m.run(w))
		}
		if m.exited {
			break
		}
	}
	return out.String()
}

func (m *miniShell) simple(w []string) string {
	switch w[0] {
	case "id":
		return "uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)\n"
	case "whoami":
		return "root\n"
	case "hostname":
		return m.ct.ID[:12] + "\n"
	case "pwd":
		return m.cwd + "\n"
	case "cd":
		if len(w) > 1 && strings.HasPrefix(w[1], "/") {
			m.cwd = w[1]
		} else {
			m.cwd = "/"
		}
		return ""
	case "echo":
		args := w[1:]
		nl := "\n"
		if len(args) > 0 && args[0] == "-n" {
			args, nl = args[1:], ""
		}
		return strings.Join(args, " ") + nl
	case "uname":
		return m.uname(w[1:])
	case "nproc":
		return "4\n"
	case "exit", "logout":
		m.exited = true
		return ""
	case "cat":
		var out strings.Builder
		for _, f := range w[1:] {
			switch strings.TrimPrefix(f, "/host") {
			case "/etc/os-release", "/usr/lib/os-release":
				out.WriteString(osRelease[m.family()])
			case "/etc/hostname":
				out.WriteString(m.ct.ID[:12] + "\n")
			}
		}
		return out.String()
	case "ls":
		if m.family() == "alpine" {
			return "bin    dev    etc    home   lib    media  mnt    opt    proc   root   run    sbin   srv    sys    tmp    usr    var\n"
		}
		return "bin\nboot\ndev\netc\nhome\nlib\nlib32\nlib64\nlibx32\nmedia\nmnt\nopt\nproc\nroot\nrun\nsbin\nsrv\nsys\ntmp\nusr\nvar\n"
	}
	return ""
}

func (m *miniShell) uname(args []string) string {
	kernel := m.kernel
	build := "#1 SMP PREEMPT_DYNAMIC"
	if strings.HasSuffix(kernel, "-generic") {
		build = "#83-Ubuntu SMP Thu Jun 15 19:16:32 UTC 2023"
	}
	all := "Linux " + m.ct.ID[:12] + " " + kernel + " " + build + " x86_64"
	if m.family() != "alpine" {
		all += " x86_64 x86_64 GNU/Linux"
	} else {
		all += " Linux"
	}
	if len(args) == 0 {
		return "Linux\n"
	}
	switch args[0] {
	case "-a":
		return all + "\n"
	case "-r":
		return kernel + "\n"
	case "-m", "-p", "-i":
		return "x86_64\n"
	case "-n":
		return m.ct.ID[:12] + "\n"
	}
	return "Linux\n"
}

// splitStatements splits a script at ;, &&, ||, | and newlines outside
// quotes.
func splitStatements(s string) []string {
	return splitQuoted(s, func(ch byte) bool { return ch == ';' || ch == '\n' || ch == '&' || ch == '|' }, false)
}

// words splits a simple command into words, removing quotes.
func words(s string) []string {
	return splitQuoted(s, func(ch byte) bool { return ch == ' ' || ch == '\t' }, true)
}

// splitQuoted splits s at the bytes sep takes outside single or double
// quotes. Statements keep their quotes and every piece, for words to
// split again; with unquote (words) the quotes go, and so do pieces
// without a byte or a quote ("" is a word, a run of blanks is not).
func splitQuoted(s string, sep func(byte) bool, unquote bool) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	in := false // cur is a piece
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote == 0 && sep(ch):
			if in || !unquote {
				out = append(out, cur.String())
			}
			cur.Reset()
			in = false
			continue
		case quote == 0 && (ch == '\'' || ch == '"'):
			quote, in = ch, true
			if unquote {
				continue
			}
		case quote != 0 && ch == quote:
			quote = 0
			if unquote {
				continue
			}
		}
		cur.WriteByte(ch)
		in = true
	}
	if in || !unquote {
		out = append(out, cur.String())
	}
	return out
}
