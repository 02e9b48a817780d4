package shell

import (
	"fmt"
	"strconv"
	"strings"
)

// sock is one socket of the fake machine: its sshd and the session's own
// connection, plus the distro's resolver or time daemon.
type sock struct {
	proto, state string
	local, peer  [2]string // address, port
	pid, fd      int
	prog         string
}

func (s *Session) sockets() []sock {
	socks := []sock{
		{"tcp", "LISTEN", [2]string{"0.0.0.0", "22"}, [2]string{"0.0.0.0", "*"}, 812, 3, "sshd"},
		{"tcp6", "LISTEN", [2]string{"::", "22"}, [2]string{"::", "*"}, 812, 4, "sshd"},
	}
	switch {
	case strings.HasPrefix(s.sys.Distro, "ubuntu"):
		socks = append(socks,
			sock{"tcp", "LISTEN", [2]string{"127.0.0.53%lo", "53"}, [2]string{"0.0.0.0", "*"}, 498, 14, "systemd-resolve"},
			sock{"udp", "UNCONN", [2]string{"127.0.0.53%lo", "53"}, [2]string{"0.0.0.0", "*"}, 498, 13, "systemd-resolve"})
	case s.d.rhel:
		socks = append(socks,
			sock{"udp", "UNCONN", [2]string{"127.0.0.1", "323"}, [2]string{"0.0.0.0", "*"}, 605, 5, "chronyd"},
			sock{"udp6", "UNCONN", [2]string{"::1", "323"}, [2]string{"::", "*"}, 605, 6, "chronyd"})
	case !s.d.ash:
		socks = append(socks, sock{"udp", "UNCONN", [2]string{"0.0.0.0", "68"}, [2]string{"0.0.0.0", "*"}, 488, 7, "dhclient"})
	}
	if s.remote != "" {
		_, port, _ := strings.Cut(s.vars["SSH_CLIENT"], " ")
		port, _, _ = strings.Cut(port, " ")
		if port == "" {
			port = "22"
		}
		socks = append(socks, sock{"tcp", "ESTAB", [2]string{s.sys.IP, "22"}, [2]string{s.remote, port}, s.pid - 2, 4, "sshd"})
	}
	return socks
}

var serviceNames = map[string]string{"22": "ssh", "53": "domain", "68": "bootpc", "323": "323"}

// sockFlags reads ss/netstat's option letters.
func sockFlags(args []string) (map[rune]bool, string, bool) {
	f := map[rune]bool{}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			if strings.HasPrefix(a, "--") {
				switch a {
				case "--tcp":
					f['t'] = true
				case "--udp":
					f['u'] = true
				case "--listening":
					f['l'] = true
				case "--all":
					f['a'] = true
				case "--numeric":
					f['n'] = true
				case "--processes", "--program":
					f['p'] = true
				default:
					return nil, a, false
				}
			}
			continue
		}
		for _, r := range a[1:] {
			if !strings.ContainsRune("tulanpexsw4r6ev", r) {
				return nil, string(r), false
			}
			f[r] = true
		}
	}
	return f, "", true
}

// selected filters the sockets by -t -u -l -a.
func selected(socks []sock, f map[rune]bool) []sock {
	var out []sock
	for _, k := range socks {
		tcp := strings.HasPrefix(k.proto, "tcp")
		if (f['t'] || f['u']) && (tcp && !f['t'] || !tcp && !f['u']) {
			continue
		}
		listening := k.state != "ESTAB"
		if !f['a'] && listening != f['l'] {
			continue
		}
		out = append(out, k)
	}
	return out
}

func cmdSs(c *call) int {
	s := c.s
	f, bad, ok := sockFlags(c.args)
	if !ok {
		c.errorf("ss: invalid option -- '%s'\nUsage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n", strings.TrimLeft(bad, "-"))
		return 1
	}
	if f['s'] {
		return ssSummary(c, s.sockets())
	}
	if !f['t'] && !f['u'] {
		f['t'], f['u'] = true, true
	}
	socks := selected(s.sockets(), f)
	addr := func(a [2]string) (string, string) {
		host := a[0]
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		port := a[1]
		if !f['n'] && port != "*" {
			if name, ok := serviceNames[port]; ok {
				port = name
			}
		}
		return host, port
	}
	type row struct{ netid, state, lh, lp, ph, pp, proc string }
	rows := []row{}
	for _, k := range socks {
		lh, lp := addr(k.local)
		ph, pp := addr(k.peer)
		proc := ""
		if f['p'] && s.cred.uid == 0 {
			proc = fmt.Sprintf(`users:(("%s",pid=%d,fd=%d))`, k.prog, k.pid, k.fd)
		}
		rows = append(rows, row{strings.TrimSuffix(k.proto, "6"), k.state, lh, lp, ph, pp, proc})
	}
	wl, wlp, wp, wpp := len("Local Address"), len("Port"), len("Peer Address"), len("Port")
	for _, r := range rows {
		wl, wlp, wp, wpp = max(wl, len(r.lh)), max(wlp, len(r.lp)), max(wp, len(r.ph)), max(wpp, len(r.pp))
	}
	both := f['t'] && f['u']
	var b strings.Builder
	if both {
		b.WriteString("Netid State  ")
	} else {
		b.WriteString("State  ")
	}
	fmt.Fprintf(&b, "Recv-Q Send-Q %*s:%-*s %*s:%-*s Process\n", wl, "Local Address", wlp, "Port", wp, "Peer Address", wpp, "Port")
	for _, r := range rows {
		line := ""
		if both {
			line = fmt.Sprintf("%-5s %-6s ", r.netid, r.state)
		} else {
			line = fmt.Sprintf("%-6s ", r.state)
		}
		sendq := "0"
		if r.state == "LISTEN" {
			sendq = "128"
		}
		line += fmt.Sprintf("%-6s %-6s %*s:%-*s %*s:%-*s %s", "0", sendq, wl, r.lh, wlp, r.lp, wp, r.ph, wpp, r.pp, r.proc)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	c.printf("%s", b.String())
	return 0
}

func cmdNetstat(c *call) int {
	s := c.s
	f, bad, ok := sockFlags(c.args)
	if !ok {
		c.errorf("netstat: invalid option -- '%s'\n", strings.TrimLeft(bad, "-"))
		return 1
	}
	if !f['t'] && !f['u'] {
		f['t'], f['u'] = true, true
	}
	socks := selected(s.sockets(), f)
	switch {
	case f['a']:
		c.printf("Active Internet connections (servers and established)\n")
	case f['l']:
		c.printf("Active Internet connections (only servers)\n")
	default:
		c.printf("Active Internet connections (w/o servers)\n")
	}
	head := "Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
	if f['p'] {
		head += " PID/Program name    "
	}
	c.printf("%s\n", head)
	for _, k := range socks {
		host := func(a [2]string) string {
			h, p := a[0], a[1]
			h, _, _ = strings.Cut(h, "%")
			if !f['n'] {
				if name, ok := serviceNames[p]; ok {
					p = name
				}
			}
			return h + ":" + p
		}
		state := map[string]string{"LISTEN": "LISTEN", "ESTAB": "ESTABLISHED", "UNCONN": ""}[k.state]
		line := fmt.Sprintf("%-5s %6d %6d %-23s %-23s %-11s", k.proto, 0, 0, host(k.local), host(k.peer), state)
		if f['p'] {
			prog := "-"
			if s.cred.uid == 0 {
				prog = strconv.Itoa(k.pid) + "/" + k.prog
			}
			line += " " + fmt.Sprintf("%-20s", prog)
		}
		c.printf("%s\n", line)
	}
	return 0
}

// ssSummary is ss -s.
func ssSummary(c *call, socks []sock) int {
	var tcp, tcp6, udp, udp6, estab int
	for _, k := range socks {
		switch k.proto {
		case "tcp":
			tcp++
		case "tcp6":
			tcp6++
		case "udp":
			udp++
		case "udp6":
			udp6++
		}
		if k.state == "ESTAB" {
			estab++
		}
	}
	c.printf("Total: %d\nTCP:   %d (estab %d, closed 0, orphaned 0, timewait 0)\n\n", 96+len(socks)*3, tcp+tcp6, estab)
	c.printf("Transport Total     IP        IPv6\n")
	row := func(name string, v4, v6 int) { c.printf("%-9s %-9d %-9d %-9d\n", name, v4+v6, v4, v6) }
	row("RAW", 0, 0)
	row("UDP", udp, udp6)
	row("TCP", tcp, tcp6)
	row("INET", tcp+udp, tcp6+udp6)
	row("FRAG", 0, 0)
	return 0
}
