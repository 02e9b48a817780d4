package shell

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// builtins are run by the shell itself; commands are programs on PATH.
var builtins, commands map[string]func(*call) int

func init() {
	builtins = map[string]func(*call) int{
		"cd": bCd, "pwd": bPwd, "echo": bEcho, "export": bExport, "unset": bUnset, "exit": bExit,
		"logout": bExit, "history": bHistory, "true": builtinsTrue, ":": builtinsTrue,
		"false": builtinsFalse, "type": bType, "source": bSource, ".": bSource, "alias": bAlias,
		"printf": bPrintf, "kill": bKill, "ulimit": bUlimit, "enable": bEnable, "q": bQuitTop,
	}
	commands = map[string]func(*call) int{
		"ls": cmdLs, "cat": cmdCat, "head": cmdHeadTail, "tail": cmdHeadTail, "wc": cmdWc, "grep": cmdGrep,
		"touch": cmdTouch, "mkdir": cmdMkdir, "rm": cmdRm, "cp": cmdCpMv, "mv": cmdCpMv, "chmod": cmdChmod,
		"uname": cmdUname, "id": cmdID, "whoami": cmdWhoami, "hostname": cmdHostname, "ps": cmdPs, "w": cmdW,
		"who": cmdWho, "uptime": cmdUptime, "free": cmdFree, "df": cmdDf, "date": cmdDate, "ip": cmdIP,
		"ifconfig": cmdIfconfig, "nproc": cmdNproc, "which": cmdWhich, "env": cmdEnv, "sudo": cmdSudo, "su": cmdSu,
		"wget": cmdWget, "curl": cmdCurl, "sleep": cmdSleep, "clear": cmdClear, "echo": bEcho, "pwd": bPwd,
		"true": builtinsTrue, "false": builtinsFalse, "chpasswd": cmdChpasswd, "ssh": cmdSSH, "bash": cmdSh, "sh": cmdSh,
		"crontab": cmdCrontab, "last": cmdLast, "awk": cmdAwk, "mawk": cmdAwk, "gawk": cmdAwk,
		"cut": cmdCut, "sort": cmdSort, "uniq": cmdUniq, "tr": cmdTr, "base64": cmdBase64, "printf": bPrintf, "kill": bKill,
		"lscpu": cmdLscpu, "top": cmdTop, "getconf": cmdGetconf, "lsblk": cmdLsblk, "dmidecode": cmdDmidecode, "ss": cmdSs,
		"netstat": cmdNetstat, "pkill": cmdPkill, "pgrep": cmdPkill, "killall": cmdKillall, "chattr": cmdChattr,
		"lsattr": cmdLsattr, "busybox": cmdBusybox,
	}
}

func builtinsTrue(*call) int  { return 0 }
func builtinsFalse(*call) int { return 1 }

func bCd(c *call) int {
	s := c.s
	if len(c.args) > 1 {
		c.errorf("%scd: too many arguments\n", s.errPrefix())
		return 1
	}
	target := s.vars["HOME"]
	if len(c.args) == 1 {
		target = c.args[0]
	}
	if target == "-" {
		if s.oldpwd == "" {
			c.errorf("%scd: OLDPWD not set\n", s.errPrefix())
			return 1
		}
		target = s.oldpwd
		defer c.printf("%s\n", target)
	}
	if target == "" {
		return 0
	}
	p := s.abs(target)
	_, n, err := s.fs.stat(p, true)
	switch {
	case err != nil:
		c.errorf("%scd: %s: %s\n", s.errPrefix(), target, errText(err))
		return 1
	case !n.Mode.IsDir():
		c.errorf("%scd: %s: Not a directory\n", s.errPrefix(), target)
		return 1
	case !n.allows(s.cred, 1):
		c.errorf("%scd: %s: Permission denied\n", s.errPrefix(), target)
		return 1
	}
	s.oldpwd, s.cwd = s.cwd, p
	s.setExport("OLDPWD", s.oldpwd)
	s.setExport("PWD", s.cwd)
	return 0
}

func bPwd(c *call) int {
	c.printf("%s\n", c.s.cwd)
	return 0
}

func bEcho(c *call) int {
	args := c.args
	newline, escapes := true, false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		for _, r := range args[0][1:] {
			switch r {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	out := strings.Join(args, " ")
	if escapes {
		var stop bool
		out, stop = escEcho.decodeAll(out)
		if stop {
			newline = false
		}
	}
	if newline {
		out += "\n"
	}
	io.WriteString(c.out, out)
	return 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func bExport(c *call) int {
	s := c.s
	args := c.args
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		names := make([]string, 0, len(s.exports))
		for k := range s.exports {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c.printf("declare -x %s=\"%s\"\n", k, strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`).Replace(s.vars[k]))
		}
		return 0
	}
	status := 0
	for _, a := range args {
		name, val, hasVal := strings.Cut(a, "=")
		if !validName(name) {
			c.errorf("%sexport: `%s': not a valid identifier\n", s.errPrefix(), a)
			status = 1
			continue
		}
		if hasVal {
			s.vars[name] = val
		}
		s.exports[name] = true
	}
	return status
}

func bUnset(c *call) int {
	for _, a := range c.args {
		delete(c.s.vars, a)
		delete(c.s.exports, a)
	}
	return 0
}

func bExit(c *call) int {
	s := c.s
	status := s.status
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.errorf("%s%s: %s: numeric argument required\n", s.errPrefix(), c.name, c.args[0])
			n = 2
		}
		status = n & 0xff
	}
	// A login bash says logout as it leaves; busybox ash says nothing.
	if s.popUser() {
		if !s.d.ash {
			c.printf("logout\n")
		}
		return status
	}
	if !s.lineMode && s.depth == 0 && !s.d.ash {
		c.printf("logout\n")
	}
	s.exited = true
	return status
}

func bHistory(c *call) int {
	if len(c.args) > 0 && c.args[0] == "-c" {
		c.s.history = nil
		return 0
	}
	for i, h := range c.s.history {
		c.printf("%5d  %s\n", i+1, h)
	}
	return 0
}

func bType(c *call) int {
	status := 0
	for _, a := range c.args {
		if _, ok := builtins[a]; ok && a != "q" {
			c.printf("%s is a shell builtin\n", a)
			continue
		}
		if p, ok := c.s.lookPath(a); ok {
			c.printf("%s is %s\n", a, p)
			continue
		}
		c.errorf("%stype: %s: not found\n", c.s.errPrefix(), a)
		status = 1
	}
	return status
}

func bAlias(c *call) int { return 0 }

func bSource(c *call) int {
	if len(c.args) == 0 {
		c.errorf("%s%s: filename argument required\n%s: usage: %s filename [arguments]\n", c.s.errPrefix(), c.name, c.name, c.name)
		return 2
	}
	data, err := c.s.fs.readFile(c.s.cred, c.s.abs(c.args[0]))
	if err != nil {
		c.errorf("%s%s: %s\n", c.s.errPrefix(), c.args[0], errText(err))
		return 1
	}
	return c.s.runScript(c, data)
}

// cmdSh runs sh/bash: a script operand, -c STRING, or a script on stdin.
func cmdSh(c *call) int {
	switch {
	case len(c.args) >= 2 && c.args[0] == "-c":
		c.s.depth++
		defer func() { c.s.depth-- }()
		return c.s.Run(c.ctx, c.args[1], c.out, c.err)
	case len(c.args) >= 1 && !strings.HasPrefix(c.args[0], "-"):
		data, err := c.s.fs.readFile(c.s.cred, c.s.abs(c.args[0]))
		if err != nil {
			c.errorf("%s: %s: %s\n", c.name, c.args[0], errText(err))
			return 127
		}
		return c.s.runScript(c, data)
	case c.hasIn:
		return c.s.runScript(c, c.stdin)
	}
	return 0
}

// --- users ---

func cmdWhoami(c *call) int {
	if len(c.args) > 0 {
		c.errorf("whoami: extra operand %s\nTry 'whoami --help' for more information.\n", quoteaf(c.args[0]))
		return 1
	}
	c.printf("%s\n", c.s.user.name)
	return 0
}

func cmdID(c *call) int {
	opts, ops, ok := c.getopt("ugGnr", map[string]rune{"user": 'u', "group": 'g', "groups": 'G', "name": 'n', "real": 'r'})
	if !ok {
		return 1
	}
	u := c.s.user
	if len(ops) > 0 {
		var found bool
		if u, found = c.s.fs.userByName(ops[0]); !found {
			c.errorf("id: %s: no such user\n", quoteaf(ops[0]))
			return 1
		}
	}
	gs := c.s.fs.groupsOf(u.name)
	switch {
	case has(opts, 'u'):
		if has(opts, 'n') {
			c.printf("%s\n", u.name)
		} else {
			c.printf("%d\n", u.uid)
		}
		return 0
	case has(opts, 'g'):
		if has(opts, 'n') {
			c.printf("%s\n", c.s.fs.groupName(u.gid))
		} else {
			c.printf("%d\n", u.gid)
		}
		return 0
	case has(opts, 'G'):
		var parts []string
		for _, g := range gs {
			if has(opts, 'n') {
				parts = append(parts, g.name)
			} else {
				parts = append(parts, strconv.Itoa(g.gid))
			}
		}
		c.printf("%s\n", strings.Join(parts, " "))
		return 0
	}
	var parts []string
	for _, g := range gs {
		parts = append(parts, fmt.Sprintf("%d(%s)", g.gid, g.name))
	}
	line := fmt.Sprintf("uid=%d(%s) gid=%d(%s) groups=%s", u.uid, u.name, u.gid, c.s.fs.groupName(u.gid), strings.Join(parts, ","))
	if c.s.d.selinux && len(ops) == 0 {
		line += " context=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"
	}
	c.printf("%s\n", line)
	return 0
}

// pushUser switches to another account (su, sudo -i); exit returns.
func (s *Session) pushUser(u account) {
	s.stack = append(s.stack, savedLogin{user: s.user, cred: s.cred, cwd: s.cwd, vars: copyMap(s.vars)})
	s.user = u
	s.cred = s.fs.credOf(u)
	s.cwd = u.home
	for k, v := range map[string]string{"HOME": u.home, "USER": u.name, "LOGNAME": u.name, "SHELL": u.shell, "PWD": u.home} {
		s.setExport(k, v)
	}
	if u.uid == 0 {
		s.setExport("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
}

func (s *Session) popUser() bool {
	if len(s.stack) == 0 {
		return false
	}
	top := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.user, s.cred, s.cwd, s.vars = top.user, top.cred, top.cwd, top.vars
	return true
}

type savedLogin struct {
	user account
	cred cred
	cwd  string
	vars map[string]string
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *Session) mayRoot() bool {
	if s.cred.uid == 0 {
		return true
	}
	for _, g := range s.fs.groupsOf(s.user.name) {
		if g.name == "sudo" || g.name == "wheel" || g.name == "admin" {
			return true
		}
	}
	return false
}

func cmdSudo(c *call) int {
	s := c.s
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-i" && args[0] != "-s" {
		args = args[1:]
	}
	if !s.mayRoot() {
		c.errorf("%s is not in the sudoers file.  This incident will be reported.\n", s.user.name)
		return 1
	}
	root, _ := s.fs.userByName("root")
	if len(args) == 0 {
		c.errorf("usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\n")
		return 1
	}
	if args[0] == "-i" || args[0] == "-s" || len(args) == 1 && (args[0] == "su" || args[0] == "bash" || args[0] == "-s") {
		s.pushUser(root)
		return 0
	}
	saved, savedCred := s.user, s.cred
	s.user, s.cred = root, s.fs.credOf(root)
	defer func() { s.user, s.cred = saved, savedCred }()
	sub := &call{s: s, ctx: c.ctx, name: args[0], args: args[1:], stdin: c.stdin, out: c.out, err: c.err, hasIn: c.hasIn}
	if _, ok := builtins[sub.name]; ok && sub.name != "echo" && sub.name != "pwd" {
		c.errorf("sudo: %s: command not found\n", sub.name)
		return 1
	}
	if p, ok := s.lookPath(sub.name); ok || strings.Contains(sub.name, "/") {
		if !ok {
			p = s.abs(sub.name)
		}
		return s.runPath(sub, p)
	}
	c.errorf("sudo: %s: command not found\n", sub.name)
	return 1
}

func cmdSu(c *call) int {
	s := c.s
	name := "root"
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			name = a
		}
	}
	u, ok := s.fs.userByName(name)
	if !ok {
		c.errorf("su: user %s does not exist or the user entry does not contain all the required fields\n", name)
		return 1
	}
	if s.cred.uid != 0 {
		c.errorf("Password: \nsu: Authentication failure\n")
		return 1
	}
	s.pushUser(u)
	return 0
}

func cmdChpasswd(c *call) int { return 0 }

// --- env, which, sleep, clear ---

func cmdEnv(c *call) int {
	if len(c.args) > 0 {
		args := c.args
		for len(args) > 0 && strings.Contains(args[0], "=") {
			args = args[1:]
		}
		if len(args) > 0 {
			sub := &call{s: c.s, ctx: c.ctx, name: args[0], args: args[1:], stdin: c.stdin, out: c.out, err: c.err, hasIn: c.hasIn}
			if p, ok := c.s.lookPath(sub.name); ok {
				return c.s.runPath(sub, p)
			}
			c.errorf("env: %s: No such file or directory\n", quoteaf(sub.name))
			return 127
		}
	}
	names := make([]string, 0, len(c.s.exports))
	for k := range c.s.exports {
		if _, ok := c.s.vars[k]; ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		c.printf("%s=%s\n", k, c.s.vars[k])
	}
	c.printf("_=/usr/bin/env\n")
	return 0
}

func cmdWhich(c *call) int {
	status := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if p, ok := c.s.lookPath(a); ok {
			c.printf("%s\n", p)
			continue
		}
		if c.s.d.rhel && c.s.d.selinux {
			c.errorf("/usr/bin/which: no %s in (%s)\n", a, c.s.vars["PATH"])
		}
		status = 1
	}
	return status
}

func cmdSleep(c *call) int {
	if len(c.args) == 0 {
		c.errorf("sleep: missing operand\nTry 'sleep --help' for more information.\n")
		return 1
	}
	f, err := strconv.ParseFloat(strings.TrimRight(c.args[0], "smhd"), 64)
	if err != nil || f < 0 {
		c.errorf("sleep: invalid time interval %s\nTry 'sleep --help' for more information.\n", c.quote(c.args[0]))
		return 1
	}
	// A honeypot session must not be parked for ever by sleep 99999.
	d := min(time.Duration(f*float64(time.Second)), 10*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
	return 0
}

func cmdClear(c *call) int {
	c.printf("\x1b[H\x1b[2J\x1b[3J")
	return 0
}

func cmdSSH(c *call) int {
	for _, a := range c.args {
		if a == "-V" {
			c.errorf("%s\n", c.s.d.sshVersion)
			return 0
		}
	}
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			_, host, found := strings.Cut(a, "@")
			if !found {
				host = a
			}
			c.errorf("ssh: Could not resolve hostname %s: Temporary failure in name resolution\n", host)
			return 255
		}
	}
	c.errorf("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]\n           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n           destination [command [argument ...]]\n")
	return 255
}

// --- grep ---

func cmdGrep(c *call) int {
	opts, ops, ok := c.getopt("ivnclqEFwohHrse:", map[string]rune{"ignore-case": 'i', "invert-match": 'v',
		"line-number": 'n', "count": 'c', "quiet": 'q', "extended-regexp": 'E', "fixed-strings": 'F',
		"color": 0, "colour": 0, "only-matching": 'o', "regexp": 'e', "files-with-matches": 'l'})
	if !ok {
		return 2
	}
	pat, hasE := opts['e']
	if !hasE {
		if len(ops) == 0 {
			c.errorf("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
			return 2
		}
		pat, ops = ops[0], ops[1:]
	}
	var expr string
	switch {
	case has(opts, 'F'):
		expr = regexp.QuoteMeta(pat)
	case has(opts, 'E'):
		expr = pat
	default:
		expr = breToERE(pat)
	}
	if has(opts, 'w') {
		expr = `\b(?:` + expr + `)\b`
	}
	if has(opts, 'i') {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		c.errorf("grep: Unmatched ( or \\(\n")
		return 2
	}
	status := 1
	errs := false
	names, data := c.inputs(ops, func(op string, err error) {
		if !has(opts, 's') {
			c.errorf("grep: %s: %s\n", op, errText(err))
		}
		errs = true
	})
	multi := len(names) > 1 && !has(opts, 'h') || has(opts, 'H')
	for i, b := range data {
		name := names[i]
		if name == "-" {
			name = "(standard input)"
		}
		count := 0
		lines := strings.SplitAfter(string(b), "\n")
		for n, line := range lines {
			if line == "" {
				continue
			}
			text := strings.TrimSuffix(line, "\n")
			if re.MatchString(text) == has(opts, 'v') {
				continue
			}
			count++
			status = 0
			if has(opts, 'q') {
				return 0
			}
			if has(opts, 'c') || has(opts, 'l') {
				continue
			}
			prefix := ""
			if multi {
				prefix = name + ":"
			}
			if has(opts, 'n') {
				prefix += strconv.Itoa(n+1) + ":"
			}
			if has(opts, 'o') && !has(opts, 'v') {
				for _, m := range re.FindAllString(text, -1) {
					c.printf("%s%s\n", prefix, m)
				}
				continue
			}
			c.printf("%s%s\n", prefix, text)
		}
		switch {
		case has(opts, 'l') && count > 0:
			c.printf("%s\n", name)
		case has(opts, 'c') && multi:
			c.printf("%s:%d\n", name, count)
		case has(opts, 'c'):
			c.printf("%d\n", count)
		}
	}
	if errs && status != 0 {
		return 2
	}
	return status
}

// breToERE converts a POSIX basic regular expression to Go syntax: in a
// BRE, \| \( \) \{ \} \+ \? are operators and the bare forms are literal.
func breToERE(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if ch == '\\' && i+1 < len(p) {
			i++
			switch n := p[i]; n {
			case '|', '(', ')', '{', '}', '+', '?':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			continue
		}
		switch ch {
		case '|', '(', ')', '{', '}', '+', '?':
			b.WriteByte('\\')
		}
		b.WriteByte(ch)
	}
	return b.String()
}
