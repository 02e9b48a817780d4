package shell

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Signals go nowhere: the fake processes cannot die, and killing the
// session's own shell would end the recording. What the commands print is
// what a real one prints when it has (or lacks) the right to signal.

// ownsPID reports whether the session may signal pid, and whether it exists.
func (s *Session) ownsPID(pid int) (exists, allowed bool) {
	for _, p := range s.procs("kill") {
		if p.pid == pid {
			return true, s.cred.uid == 0 || p.user == s.user.name
		}
	}
	return false, false
}

func bKill(c *call) int {
	s := c.s
	args := c.args
	usage := func() int {
		c.errorf("%skill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", s.errPrefix())
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	if args[0] == "-l" || args[0] == "-L" {
		c.printf(" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n 6) SIGABRT\t 7) SIGBUS\t 8) SIGFPE\t 9) SIGKILL\t10) SIGUSR1\n" +
			"11) SIGSEGV\t12) SIGUSR2\t13) SIGPIPE\t14) SIGALRM\t15) SIGTERM\n16) SIGSTKFLT\t17) SIGCHLD\t18) SIGCONT\t19) SIGSTOP\t20) SIGTSTP\n" +
			"21) SIGTTIN\t22) SIGTTOU\t23) SIGURG\t24) SIGXCPU\t25) SIGXFSZ\n26) SIGVTALRM\t27) SIGPROF\t28) SIGWINCH\t29) SIGIO\t30) SIGPWR\n31) SIGSYS\n")
		return 0
	}
	if args[0] == "-s" || args[0] == "-n" {
		if len(args) < 2 {
			return usage()
		}
		args = args[2:]
	} else if strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		args = args[1:]
	}
	if len(args) == 0 {
		return usage()
	}
	status := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			c.errorf("%skill: %s: arguments must be process or job IDs\n", s.errPrefix(), a)
			status = 1
			continue
		}
		exists, allowed := s.ownsPID(pid)
		switch {
		case !exists:
			c.errorf("%skill: (%d) - No such process\n", s.errPrefix(), pid)
			status = 1
		case !allowed:
			c.errorf("%skill: (%d) - Operation not permitted\n", s.errPrefix(), pid)
			status = 1
		}
	}
	return status
}

// matchProcs finds processes for pkill, pgrep and killall.
func (c *call) matchProcs(pattern string, full, exact bool, user string) ([]proc, error) {
	expr := pattern
	if exact {
		expr = "^(?:" + pattern + ")$"
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	var out []proc
	all := c.s.procs(c.name + " " + strings.Join(c.args, " "))
	self := all[len(all)-1].pid
	for _, p := range all {
		subject := p.comm()
		if full {
			subject = p.cmd
		}
		if p.pid == self || user != "" && p.user != user || !re.MatchString(subject) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func cmdPkill(c *call) int {
	var full, exact bool
	var user, pattern string
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--full":
			full = true
		case a == "-x" || a == "--exact":
			exact = true
		case a == "-u" || a == "-U":
			if i+1 < len(args) {
				i++
				user = args[i]
			}
		case strings.HasPrefix(a, "-") && len(a) > 1 && pattern == "":
			// a signal (-9, -KILL, -SIGTERM) or combined flags
			if strings.Contains(a, "f") && !strings.HasPrefix(strings.ToUpper(a), "-SIG") {
				full = true
			}
		default:
			pattern = a
		}
	}
	if pattern == "" && user == "" {
		c.errorf("%s: no matching criteria specified\nTry `%s --help' for more information.\n", c.name, c.name)
		return 2
	}
	ps, err := c.matchProcs(pattern, full, exact, user)
	if err != nil {
		c.errorf("%s: invalid regular expression\n", c.name)
		return 2
	}
	if len(ps) == 0 {
		return 1
	}
	status := 0
	for _, p := range ps {
		switch {
		case c.name == "pgrep":
			c.printf("%d\n", p.pid)
		case c.s.cred.uid != 0 && p.user != c.s.user.name:
			c.errorf("pkill: killing pid %d failed: Operation not permitted\n", p.pid)
			status = 1
		}
	}
	return status
}

func cmdKillall(c *call) int {
	var names []string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		c.errorf("Usage: killall [OPTION]... [--] NAME...\n       killall -l, --list\n       killall -V, --version\n")
		return 1
	}
	status := 0
	for _, n := range names {
		ps, _ := c.matchProcs(regexp.QuoteMeta(path.Base(n)), false, true, "")
		if len(ps) == 0 {
			c.errorf("%s: no process found\n", n)
			status = 1
			continue
		}
		for _, p := range ps {
			if c.s.cred.uid != 0 && p.user != c.s.user.name {
				c.errorf("%s(%d): Operation not permitted\n", n, p.pid)
				status = 1
			}
		}
	}
	return status
}

// --- ulimit ---

type ulimitRow struct {
	flag     byte
	desc     string
	soft     string
	rootOnly bool // raising it needs root (a hard limit below unlimited)
}

func (s *Session) ulimits() []ulimitRow {
	procs := strconv.FormatInt(s.sys.machine().memKB/64, 10)
	return []ulimitRow{
		{'R', "real-time non-blocking time  (microseconds, -R)", "unlimited", false},
		{'c', "core file size              (blocks, -c)", "0", false},
		{'d', "data seg size               (kbytes, -d)", "unlimited", false},
		{'e', "scheduling priority                 (-e)", "0", true},
		{'f', "file size                   (blocks, -f)", "unlimited", false},
		{'i', "pending signals                     (-i)", procs, true},
		{'l', "max locked memory           (kbytes, -l)", "8192", true},
		{'m', "max memory size             (kbytes, -m)", "unlimited", false},
		{'n', "open files                          (-n)", "1024", true},
		{'p', "pipe size                (512 bytes, -p)", "8", true},
		{'q', "POSIX message queues         (bytes, -q)", "819200", true},
		{'r', "real-time priority                  (-r)", "0", true},
		{'s', "stack size                  (kbytes, -s)", "8192", false},
		{'t', "cpu time                   (seconds, -t)", "unlimited", false},
		{'u', "max user processes                  (-u)", procs, true},
		{'v', "virtual memory              (kbytes, -v)", "unlimited", false},
		{'x', "file locks                          (-x)", "unlimited", false},
	}
}

// ulimitKey keeps a limit the session set, under a name no shell variable
// can have.
func ulimitKey(flag byte) string { return "\x00ulimit-" + string(flag) }

func bUlimit(c *call) int {
	s := c.s
	rows := s.ulimits()
	if !strings.HasPrefix(s.d.bash, "5.2") {
		rows = rows[1:]
	}
	value := func(r ulimitRow) string {
		if v, ok := s.vars[ulimitKey(r.flag)]; ok {
			return v
		}
		return r.soft
	}
	flag := byte('f')
	var set string
	hasSet := false
	for _, a := range c.args {
		switch {
		case a == "-a":
			for _, r := range rows {
				c.printf("%s %s\n", r.desc, value(r))
			}
			return 0
		case a == "-H" || a == "-S":
		case strings.HasPrefix(a, "-") && len(a) == 2:
			flag = a[1]
		default:
			set, hasSet = a, true
		}
	}
	var row *ulimitRow
	for i := range rows {
		if rows[i].flag == flag {
			row = &rows[i]
		}
	}
	if row == nil {
		c.errorf("%sulimit: -%c: invalid option\nulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n", s.errPrefix(), flag)
		return 2
	}
	if !hasSet {
		c.printf("%s\n", value(*row))
		return 0
	}
	name := strings.TrimSpace(row.desc[:strings.Index(row.desc, "  ")])
	n, err := strconv.ParseInt(set, 10, 64)
	if set != "unlimited" && (err != nil || n < 0) {
		c.errorf("%sulimit: %s: invalid number\n", s.errPrefix(), set)
		return 1
	}
	old, _ := strconv.ParseInt(row.soft, 10, 64)
	raising := set == "unlimited" && row.soft != "unlimited" || err == nil && row.soft != "unlimited" && n > old
	if raising && row.rootOnly && (s.cred.uid != 0 || set == "unlimited" || n > 1048576) {
		c.errorf("%sulimit: %s: cannot modify limit: Operation not permitted\n", s.errPrefix(), name)
		return 1
	}
	s.vars[ulimitKey(flag)] = set
	return 0
}

// --- chattr, lsattr ---

// attrString is lsattr's flag column for a file on the distro's root
// filesystem: ext4 sets the extents flag, XFS none.
func (d *distro) attrString() string {
	switch {
	case d.bash == "4.2.46(2)-release":
		return "----------------"
	case d.rhel && d.selinux:
		return "----------------------"
	}
	return "--------------e-------"
}

func cmdChattr(c *call) int {
	var files []string
	modes := 0
	for _, a := range c.args {
		switch {
		case a == "-R" || a == "-V" || a == "-f":
		case len(a) > 1 && (a[0] == '+' || a[0] == '-' || a[0] == '='):
			if strings.Trim(a[1:], "aAcCdDeijPsStTuFxm") != "" {
				c.errorf("Usage: chattr [-RVf] [-+=aAcCdDeijPsStTuFx] [-p project] [-v version] files...\n")
				return 1
			}
			modes++
		default:
			files = append(files, a)
		}
	}
	if modes == 0 || len(files) == 0 {
		c.errorf("Usage: chattr [-RVf] [-+=aAcCdDeijPsStTuFx] [-p project] [-v version] files...\n")
		return 1
	}
	status := 0
	for _, f := range files {
		_, n, err := c.s.fs.stat(c.s.abs(f), true)
		switch {
		case err != nil:
			c.errorf("chattr: %s while trying to stat %s\n", errText(err), f)
			status = 1
		case c.s.cred.uid != 0 && n.Mode != 0:
			// Every flag attackers use (i, a) needs CAP_LINUX_IMMUTABLE.
			c.errorf("chattr: Operation not permitted while setting flags on %s\n", f)
			status = 1
		}
	}
	return status
}

func cmdLsattr(c *call) int {
	s := c.s
	var ops []string
	dirOnly, all := false, false
	for _, a := range c.args {
		switch {
		case strings.HasPrefix(a, "-") && len(a) > 1:
			dirOnly = dirOnly || strings.Contains(a, "d")
			all = all || strings.Contains(a, "a")
		default:
			ops = append(ops, a)
		}
	}
	attrs := s.d.attrString()
	report := func(p, shown string) int {
		if strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/sys/") {
			c.errorf("lsattr: Inappropriate ioctl for device While reading flags on %s\n", shown)
			return 1
		}
		c.printf("%s %s\n", attrs, shown)
		return 0
	}
	listDir := func(dir, prefix string) int {
		full, names, err := s.fs.readDir(s.cred, s.abs(dir))
		if err != nil {
			c.errorf("lsattr: %s While reading flags on %s\n", errText(err), dir)
			return 1
		}
		sort.Strings(names)
		st := 0
		for _, n := range names {
			if strings.HasPrefix(n, ".") && !all {
				continue
			}
			st |= report(path.Join(full, n), prefix+n)
		}
		return st
	}
	if len(ops) == 0 {
		return listDir(".", "./")
	}
	status := 0
	for _, op := range ops {
		_, n, err := s.fs.stat(s.abs(op), true)
		switch {
		case err != nil:
			c.errorf("lsattr: %s while trying to stat %s\n", errText(err), op)
			status = 1
		case n.Mode&fs.ModeDir != 0 && !dirOnly:
			status |= listDir(op, strings.TrimSuffix(op, "/")+"/")
		default:
			status |= report(s.abs(op), op)
		}
	}
	return status
}

// --- busybox ---

func (d *distro) busyboxBanner() string {
	switch {
	case d.ash:
		return "BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary."
	case d.kali:
		return "BusyBox v1.37.0 (Debian 1:1.37.0-6+b3) multi-call binary."
	case d.bash == "5.1.16(1)-release":
		return "BusyBox v1.30.1 (Ubuntu 1:1.30.1-7ubuntu3.1) multi-call binary."
	case d.bash == "5.0.17(1)-release":
		return "BusyBox v1.30.1 (Ubuntu 1:1.30.1-4ubuntu6.5) multi-call binary."
	}
	return "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
}

// busyboxApplets are the programs BusyBox answers to: those the shell
// implements, less the ones BusyBox lacks.
func busyboxApplets() []string {
	var out []string
	for name := range commands {
		switch name {
		case "bash", "ssh", "curl", "sudo", "lscpu", "ss", "dmidecode", "crontab", "mawk", "gawk", "chpasswd", "lsblk", "getconf", "busybox":
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func cmdBusybox(c *call) int {
	if len(c.args) == 0 || c.args[0] == "--help" {
		c.printf("%s\nBusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\n"+
			"copyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: busybox --show SCRIPT\n"+
			"   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n"+
			"\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n"+
			"\twill act like whatever it was invoked as.\n\nCurrently defined functions:\n", c.s.d.busyboxBanner())
		line := "\t"
		for i, a := range busyboxApplets() {
			item := a
			if i < len(busyboxApplets())-1 {
				item += ","
			}
			if len(line)+len(item)+1 > 78 {
				c.printf("%s\n", strings.TrimRight(line, " "))
				line = "\t"
			}
			line += item + " "
		}
		c.printf("%s\n", strings.TrimRight(line, " "))
		return 0
	}
	if c.args[0] == "--list" {
		for _, a := range busyboxApplets() {
			c.printf("%s\n", a)
		}
		return 0
	}
	name := c.args[0]
	for _, a := range busyboxApplets() {
		if a == name {
			sub := *c
			sub.name, sub.args = name, c.args[1:]
			if b, ok := builtins[name]; ok {
				return b(&sub)
			}
			return commands[name](&sub)
		}
	}
	c.errorf("%s: applet not found\n", name)
	return 127
}

// bashBuiltins are bash 5's builtins in the order enable lists them.
var bashBuiltins = []string{".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
	"complete", "compopt", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec", "exit", "export",
	"false", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let", "local", "logout", "mapfile",
	"popd", "printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift", "shopt", "source",
	"suspend", "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait"}

// bEnable lists bash's builtins: Mirai's telnet login sends "enable"
// first, as to a router's CLI. BusyBox ash has no such builtin.
func bEnable(c *call) int {
	if c.s.d.ash {
		c.errorf("%senable: not found\n", c.s.errPrefix())
		return 127
	}
	if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") {
		for _, a := range c.args {
			if !slices.Contains(bashBuiltins, a) {
				c.errorf("%senable: %s: not a shell builtin\n", c.s.errPrefix(), a)
				return 1
			}
		}
		return 0
	}
	for _, b := range bashBuiltins {
		c.printf("enable %s\n", b)
	}
	return 0
}
