package shell

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"decnet/internal/artifact"
)

// maxOutput caps what one command may print or pipe, so a loop cannot
// exhaust memory.
const maxOutput = 1 << 20

// Hooks receive what happens in a session, for the caller's events. Any of
// them may be nil.
type Hooks struct {
	// Command is called with every command line before it runs.
	Command func(line string)
	// File is called after a write that changed a file's contents.
	File func(FileWrite)
	// Download is called when a program tried to fetch a URL (nothing is
	// fetched: a honeypot never becomes a weapon).
	Download func(Download)
}

// FileWrite describes a file an attacker wrote. The bytes are also stored
// under the filesystem's directory, in artifacts/StoredAs, once per distinct
// content and while the store's artifact.Budget lasts.
type FileWrite struct {
	Path string
	artifact.Kept
}

// Download is a fetch attempt.
type Download struct {
	Tool string // wget, curl
	URL  string
}

// Options describe a login.
type Options struct {
	User     string // account name; created in /etc/passwd if missing
	RemoteIP string // shown by who, w, last and in SSH_CLIENT
	// TTY is the terminal name, e.g. "pts/0"; empty for a session without
	// a terminal (ssh host 'cmd').
	TTY   string
	Env   map[string]string // variables the client passed (TERM, LANG, LC_*)
	Hooks Hooks
}

// Session is one login: a user, a working directory, variables and a
// history. It is not safe for concurrent use; sessions on one FS are.
type Session struct {
	fs       *FS
	sys      System
	d        *distro
	user     account
	cred     cred
	hooks    Hooks
	remote   string
	tty      string
	login    time.Time
	pid      int
	cwd      string
	oldpwd   string
	vars     map[string]string
	exports  map[string]bool
	history  []string
	histBase int // history lines loaded from ~/.bash_history
	status   int
	exited   bool
	stack    []savedLogin // accounts su/sudo -i switched from
	lineMode bool         // running from -c (ssh host 'cmd'): error texts differ
	depth    int
	width    int
	termOut  io.Writer // the terminal, when there is one
	wtmpID   int64     // this login's wtmp entry, 0 without a terminal login
	now      func() time.Time
}

// NewSession logs a user in.
func (f *FS) NewSession(o Options) *Session {
	f.refresh()
	f.sessMu.Lock()
	f.sessions++
	f.nextPID += 3 + hashN(o.RemoteIP+o.User, 40)
	pid := f.nextPID
	f.sessMu.Unlock()
	s := &Session{fs: f, sys: f.sys, d: f.sys.distro(), hooks: o.Hooks, remote: o.RemoteIP, tty: o.TTY,
		pid: pid, vars: map[string]string{}, exports: map[string]bool{}, width: 80, now: func() time.Time { return time.Now().UTC() }}
	s.login = s.now()
	s.user = f.ensureUser(o.User, s.d)
	s.cred = f.credOf(s.user)
	s.cwd = s.user.home
	if _, n, err := f.stat(s.cwd, true); err != nil || !n.Mode.IsDir() {
		s.cwd = "/"
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if s.user.uid != 0 && !s.d.rhel {
		path = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
	}
	for k, v := range map[string]string{"HOME": s.user.home, "USER": s.user.name, "LOGNAME": s.user.name,
		"SHELL": s.user.shell, "PATH": path, "PWD": s.cwd, "SHLVL": "1", "MAIL": "/var/mail/" + s.user.name} {
		s.setExport(k, v)
	}
	if s.d.lang != "" {
		s.setExport("LANG", s.d.lang)
	}
	if o.RemoteIP != "" {
		s.setExport("SSH_CLIENT", o.RemoteIP+" "+strconv.Itoa(40000+hashN(o.RemoteIP+s.login.String(), 25000))+" 22")
	}
	if o.TTY != "" {
		s.setExport("SSH_TTY", "/dev/"+o.TTY)
		s.setExport("TERM", "xterm")
	}
	for k, v := range o.Env {
		if validName(k) && len(v) < 4096 && len(s.vars) < 256 {
			s.setExport(k, v)
		}
	}
	return s
}

// Close logs the session out and saves the filesystem.
func (s *Session) Close() error {
	s.recordLogout()
	s.fs.sessMu.Lock()
	s.fs.sessions--
	s.fs.sessMu.Unlock()
	return s.fs.Flush()
}

// User returns the name of the logged-in account.
func (s *Session) User() string { return s.user.name }

// Exited reports whether exit or logout ran.
func (s *Session) Exited() bool { return s.exited }

// Status is the exit status of the last command.
func (s *Session) Status() int { return s.status }

// SetWidth sets the terminal width ls uses for columns.
func (s *Session) SetWidth(w int) {
	if w > 0 && w < 1000 {
		s.width = w
	}
}

func (s *Session) setExport(k, v string) {
	s.vars[k] = v
	s.exports[k] = true
}

// Prompt is bash's PS1 for this user and directory.
func (s *Session) Prompt() string {
	sign := "$"
	if s.cred.uid == 0 {
		sign = "#"
	}
	host := s.sys.ShortHostname()
	dir := s.cwd
	if home := s.vars["HOME"]; home != "" && home != "/" && (dir == home || strings.HasPrefix(dir, home+"/")) {
		dir = "~" + dir[len(home):]
	}
	switch {
	case s.d.kali:
		return "┌──(" + s.user.name + "㉿" + host + ")-[" + dir + "]\r\n└─" + sign + " "
	case s.d.ash:
		return host + ":" + dir + sign + " "
	case s.d.rhel:
		base := path.Base(dir)
		if dir == "~" || dir == "/" {
			base = dir
		}
		return "[" + s.user.name + "@" + host + " " + base + "]" + sign + " "
	}
	return s.user.name + "@" + host + ":" + dir + sign + " "
}

// Exec runs a command line given to the shell with -c (ssh host 'cmd') and
// returns its exit status.
func (s *Session) Exec(ctx context.Context, line string, stdout, stderr io.Writer) int {
	s.lineMode = true
	if s.tty != "" {
		s.termOut = stdout
	}
	defer func() { s.lineMode = false }()
	return s.Run(ctx, line, stdout, stderr)
}

// Run runs one command line and returns its exit status.
func (s *Session) Run(ctx context.Context, line string, stdout, stderr io.Writer) int {
	if strings.TrimSpace(line) == "" {
		return s.status
	}
	if s.hooks.Command != nil && s.depth == 0 {
		s.hooks.Command(line)
	}
	if s.depth == 0 && !s.lineMode {
		s.history = append(s.history, line)
		if len(s.history) > 1000 {
			s.history = s.history[1:]
		}
	}
	if s.depth == 0 {
		// The decky's other services may share the filesystem from other
		// processes: take in their changes first, show them ours after.
		s.fs.refresh()
		defer s.fs.Flush()
	}
	script, err := parse(line)
	if err != nil {
		fmt.Fprintf(stderr, "%s%s\n", s.errPrefix(), err)
		s.status = 2
		return 2
	}
	run := true
	for _, pl := range script {
		if ctx.Err() != nil || s.exited {
			break
		}
		if run {
			s.status = s.pipeline(ctx, pl, stdout, stderr)
		}
		switch pl.next {
		case "&&":
			run = s.status == 0
		case "||":
			run = s.status != 0
		default:
			run = true
		}
	}
	return s.status
}

// errPrefix is what bash puts before its own error messages.
func (s *Session) errPrefix() string {
	name := "bash"
	if s.d.ash {
		name = "ash"
	}
	switch {
	case !s.lineMode:
		return "-" + name + ": "
	case s.d.lineNo:
		return name + ": line 1: "
	}
	return name + ": "
}

// limitBuf is an output buffer that drops what exceeds maxOutput.
type limitBuf struct{ bytes.Buffer }

func (b *limitBuf) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

func (s *Session) pipeline(ctx context.Context, pl pipeline, stdout, stderr io.Writer) int {
	var in []byte
	status := 0
	for i, c := range pl.cmds {
		out := stdout
		var buf *limitBuf
		if i < len(pl.cmds)-1 {
			buf = &limitBuf{}
			out = buf
		}
		status = s.simple(ctx, c, in, out, stderr)
		if buf != nil {
			in = buf.Bytes()
		}
		if s.exited {
			break
		}
	}
	return status
}

// call is one command invocation.
type call struct {
	s     *Session
	ctx   context.Context
	name  string
	args  []string // without the name
	stdin []byte
	out   io.Writer
	err   io.Writer
	hasIn bool // stdin is a pipe or file, not the terminal
	tty   bool // stdout is the terminal (ls prints columns)
}

func (c *call) printf(format string, a ...any) { fmt.Fprintf(c.out, format, a...) }
func (c *call) errorf(format string, a ...any) { fmt.Fprintf(c.err, format, a...) }

func (s *Session) simple(ctx context.Context, c command, stdin []byte, stdout, stderr io.Writer) int {
	args := []string{}
	for _, w := range c.args {
		args = append(args, s.expand(ctx, w)...)
	}
	if len(args) == 0 {
		for _, a := range c.assigns {
			s.vars[a.name] = s.expandOne(ctx, a.value)
		}
	}
	call := &call{s: s, ctx: ctx, stdin: stdin, out: stdout, err: stderr, hasIn: stdin != nil,
		tty: s.termOut != nil && stdout == s.termOut}
	var writes []*pendingWrite
	for _, r := range c.redirs {
		target := s.expandOne(ctx, r.target)
		if r.op == ">&" {
			if target == "2" && r.fd == 1 {
				call.out = call.err
			} else if target == "1" && r.fd == 2 {
				call.err = call.out
			} else if target == "-" || target == "0" {
				continue
			} else if _, err := strconv.Atoi(target); err != nil {
				r.op = ">"
				r.fd = -2
			} else {
				fmt.Fprintf(stderr, "%s%s: Bad file descriptor\n", s.errPrefix(), target)
				return 1
			}
			if r.op == ">&" {
				continue
			}
		}
		if target == "" {
			fmt.Fprintf(stderr, "%s%s: ambiguous redirect\n", s.errPrefix(), r.target)
			return 1
		}
		p := s.abs(target)
		if r.op == "<" {
			data, err := s.fs.readFile(s.cred, p)
			if err != nil {
				fmt.Fprintf(stderr, "%s%s: %s\n", s.errPrefix(), target, err)
				return 1
			}
			call.stdin, call.hasIn = data, true
			continue
		}
		var w io.Writer
		switch p {
		case "/dev/null", "/dev/zero":
			w = io.Discard
		case "/dev/stdout", "/dev/tty":
			w = stdout
		case "/dev/stderr":
			w = stderr
		default:
			pw := &pendingWrite{path: p, name: target, appendTo: r.op == ">>"}
			// Creating (or truncating) happens before the command runs, as
			// in bash, so errors come first and the file exists even when
			// the command fails.
			if _, _, err := s.fs.writeFile(s.cred, p, nil, pw.appendTo, s.now()); err != nil {
				fmt.Fprintf(stderr, "%s%s: %s\n", s.errPrefix(), target, err)
				return 1
			}
			writes = append(writes, pw)
			w = pw
			if r.fd != 2 {
				call.tty = false
			}
		}
		switch r.fd {
		case 1:
			call.out = w
		case 2:
			call.err = w
		case -2:
			call.out, call.err = w, w
		}
	}
	status := 0
	if len(args) > 0 {
		call.name, call.args = args[0], args[1:]
		status = s.dispatch(call)
	}
	for _, pw := range writes {
		if err := s.flushWrite(pw); err != nil {
			fmt.Fprintf(stderr, "%s: write error: %s\n", call.name, err)
			status = 1
		}
	}
	return status
}

// pendingWrite collects a command's redirected output; it is written to the
// filesystem when the command ends.
type pendingWrite struct {
	path, name string
	appendTo   bool
	buf        limitBuf
}

func (w *pendingWrite) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (s *Session) flushWrite(pw *pendingWrite) error {
	if pw.buf.Len() == 0 {
		return nil
	}
	return s.writeAndReport(pw.path, pw.buf.Bytes(), true)
}

// writeAndReport writes a file and reports and stores its new contents.
func (s *Session) writeAndReport(p string, data []byte, appendTo bool) error {
	return s.writeAndReportAs(s.cred, p, data, appendTo)
}

// writeAndReportAs is writeAndReport with the rights of c, for setuid and
// setgid programs such as crontab.
func (s *Session) writeAndReportAs(c cred, p string, data []byte, appendTo bool) error {
	now := s.now()
	r, content, err := s.fs.writeFile(c, p, data, appendTo, now)
	if err != nil {
		return err
	}
	if len(content) == 0 {
		return nil
	}
	kept := s.fs.art.Keep(r, content, now)
	if s.hooks.File != nil {
		s.hooks.File(FileWrite{Path: r, Kept: kept})
	}
	return nil
}

// dispatch runs a builtin, a known program found on PATH, or a script.
func (s *Session) dispatch(c *call) int {
	if s.depth > maxSubstDeep {
		c.errorf("%smaximum nesting level exceeded\n", s.errPrefix())
		return 1
	}
	if b, ok := builtins[c.name]; ok {
		return b(c)
	}
	if strings.Contains(c.name, "/") {
		return s.runPath(c, s.abs(c.name))
	}
	return s.runFound(c)
}

// runFound runs the program PATH finds for c, or says there is none.
func (s *Session) runFound(c *call) int {
	p, ok := s.lookPath(c.name)
	if !ok {
		if s.d.ash {
			c.errorf("%s%s: not found\n", s.errPrefix(), c.name)
		} else {
			c.errorf("%s%s: command not found\n", s.errPrefix(), c.name)
		}
		return 127
	}
	return s.runPath(c, p)
}

// lookPath finds an executable on $PATH in the fake filesystem.
func (s *Session) lookPath(name string) (string, bool) {
	for _, dir := range strings.Split(s.vars["PATH"], ":") {
		if dir == "" {
			continue
		}
		p := path.Join(s.abs(dir), name)
		if _, n, err := s.fs.stat(p, true); err == nil && !n.Mode.IsDir() && n.Mode&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func (s *Session) runPath(c *call, p string) int {
	r, n, err := s.fs.stat(p, true)
	if err != nil {
		c.errorf("%s%s: %s\n", s.errPrefix(), c.name, err)
		return 127
	}
	if n.Mode.IsDir() {
		c.errorf("%s%s: Is a directory\n", s.errPrefix(), c.name)
		return 126
	}
	if !n.allows(s.cred, 1) {
		c.errorf("%s%s: Permission denied\n", s.errPrefix(), c.name)
		return 126
	}
	if n.VSize > 0 || r == "/bin/busybox" {
		if prog, ok := commands[path.Base(p)]; ok {
			return prog(c)
		}
		if prog, ok := commands[path.Base(r)]; ok {
			return prog(c)
		}
		return 0
	}
	data, err := s.fs.readFile(s.cred, r)
	if err != nil {
		c.errorf("%s%s: %s\n", s.errPrefix(), c.name, err)
		return 126
	}
	return s.runScript(c, data)
}

// runScript runs a text file line by line, or refuses a binary the way a
// foreign-architecture ELF is refused.
func (s *Session) runScript(c *call, data []byte) int {
	if bytes.HasPrefix(data, []byte("\x7fELF")) || bytes.IndexByte(data, 0) >= 0 {
		c.errorf("%s%s: cannot execute binary file: Exec format error\n", s.errPrefix(), c.name)
		return 126
	}
	s.depth++
	defer func() { s.depth-- }()
	status := 0
	for i, line := range strings.Split(string(data), "\n") {
		if i > 500 || c.ctx.Err() != nil || s.exited {
			break
		}
		if i == 0 && strings.HasPrefix(line, "#!") {
			continue
		}
		status = s.Run(c.ctx, line, c.out, c.err)
	}
	return status
}

// abs makes p absolute against the working directory and expands a
// leading ~.
func (s *Session) abs(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = s.vars["HOME"] + p[1:]
	}
	if !path.IsAbs(p) {
		p = path.Join(s.cwd, p)
	}
	return path.Clean(p)
}

// expand turns a word into fields: variables, command substitution, ~ and
// pathname expansion.
func (s *Session) expand(ctx context.Context, w word) []string {
	var b strings.Builder
	glob := false
	var pattern strings.Builder
	for i, pt := range w {
		var text string
		switch pt.kind {
		case litPart:
			text = pt.text
			if i == 0 {
				if text == "~" || strings.HasPrefix(text, "~/") {
					text = s.vars["HOME"] + text[1:]
				} else if strings.HasPrefix(text, "~") {
					name, rest, _ := strings.Cut(text[1:], "/")
					if u, ok := s.fs.userByName(name); ok {
						text = u.home
						if rest != "" || strings.Contains(text[1:], "/") {
							text += "/" + rest
						}
					}
				}
			}
			if strings.ContainsAny(text, "*?[") {
				glob = true
			}
			pattern.WriteString(text)
		case quotedPart:
			text = pt.text
			pattern.WriteString(globEscape(text))
		case varPart:
			text = s.variable(pt.text)
			pattern.WriteString(globEscape(text))
		case subPart:
			text = s.substitute(ctx, pt.text)
			pattern.WriteString(globEscape(text))
		}
		b.WriteString(text)
	}
	if glob {
		if matches := s.glob(pattern.String()); len(matches) > 0 {
			return matches
		}
	}
	if b.Len() == 0 && len(w) > 0 {
		for _, pt := range w {
			if pt.kind == quotedPart || pt.quoted {
				return []string{""}
			}
		}
		return nil
	}
	return []string{b.String()}
}

func (s *Session) expandOne(ctx context.Context, w word) string {
	return strings.Join(s.expand(ctx, w), " ")
}

func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// glob expands a pattern against the filesystem, sorted, hiding dot files
// unless the pattern names them.
func (s *Session) glob(pattern string) []string {
	absolute := path.IsAbs(pattern)
	base := s.cwd
	if absolute {
		base = "/"
	}
	paths := []string{""}
	for _, seg := range strings.Split(strings.Trim(pattern, "/"), "/") {
		var next []string
		for _, pre := range paths {
			dir := path.Join(base, pre)
			if !strings.ContainsAny(seg, "*?[") {
				next = append(next, path.Join(pre, unescape(seg)))
				continue
			}
			_, names, err := s.fs.readDir(s.cred, dir)
			if err != nil {
				continue
			}
			for _, n := range names {
				if strings.HasPrefix(n, ".") && !strings.HasPrefix(seg, ".") {
					continue
				}
				if ok, _ := path.Match(seg, n); ok {
					next = append(next, path.Join(pre, n))
				}
			}
		}
		paths = next
		if len(paths) > 4096 {
			return nil
		}
	}
	var out []string
	for _, p := range paths {
		full := path.Join(base, p)
		if _, _, err := s.fs.stat(full, false); err != nil {
			continue
		}
		if absolute {
			out = append(out, "/"+p)
		} else {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func unescape(s string) string { return strings.ReplaceAll(s, `\`, "") }

func (s *Session) variable(name string) string {
	switch name {
	case "?":
		return strconv.Itoa(s.status)
	case "$":
		return strconv.Itoa(s.pid)
	case "#":
		return "0"
	case "0":
		if s.d.ash {
			return "-ash"
		}
		return "-bash"
	case "-":
		return "himBHs"
	case "RANDOM":
		return strconv.Itoa(hashN(s.now().String(), 32768))
	case "UID":
		return strconv.Itoa(s.cred.uid)
	case "EUID":
		return strconv.Itoa(s.cred.uid)
	case "HOSTNAME":
		return s.sys.Hostname
	case "PPID":
		return strconv.Itoa(s.pid - 1)
	case "BASH_VERSION":
		return s.d.bash
	}
	return s.vars[name]
}

// substitute runs $(...) and returns its output without trailing newlines.
func (s *Session) substitute(ctx context.Context, src string) string {
	if s.depth >= maxSubstDeep {
		return ""
	}
	s.depth++
	defer func() { s.depth-- }()
	var out limitBuf
	s.Run(ctx, src, &out, io.Discard)
	return strings.TrimRight(out.String(), "\n")
}

// credOf returns the credentials of an account from /etc/group.
func (f *FS) credOf(u account) cred {
	c := cred{uid: u.uid, gid: u.gid}
	for _, g := range f.groupsOf(u.name) {
		c.groups = append(c.groups, g.gid)
	}
	return c
}

// userByName reads an account from the fake /etc/passwd, so edits an
// attacker makes there take effect.
func (f *FS) userByName(name string) (account, bool) {
	data, err := f.readFile(cred{}, "/etc/passwd")
	if err != nil {
		return account{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		fl := strings.Split(line, ":")
		if len(fl) < 7 || fl[0] != name {
			continue
		}
		uid, err1 := strconv.Atoi(fl[2])
		gid, err2 := strconv.Atoi(fl[3])
		if err1 != nil || err2 != nil {
			continue
		}
		return account{name: fl[0], uid: uid, gid: gid, gecos: fl[4], home: fl[5], shell: fl[6]}, true
	}
	return account{}, false
}

func (f *FS) userByUID(uid int) (account, bool) {
	data, _ := f.readFile(cred{}, "/etc/passwd")
	for _, line := range strings.Split(string(data), "\n") {
		fl := strings.Split(line, ":")
		if len(fl) >= 7 && fl[2] == strconv.Itoa(uid) {
			return f.userByName(fl[0])
		}
	}
	return account{}, false
}

// groupsOf lists the groups an account belongs to: its primary group first.
func (f *FS) groupsOf(name string) []group {
	u, _ := f.userByName(name)
	data, _ := f.readFile(cred{}, "/etc/group")
	var primary []group
	var rest []group
	for _, line := range strings.Split(string(data), "\n") {
		fl := strings.Split(line, ":")
		if len(fl) < 4 {
			continue
		}
		gid, err := strconv.Atoi(fl[2])
		if err != nil {
			continue
		}
		g := group{name: fl[0], gid: gid, members: fl[3]}
		if gid == u.gid {
			primary = append(primary, g)
			continue
		}
		for _, m := range strings.Split(fl[3], ",") {
			if m == name {
				rest = append(rest, g)
			}
		}
	}
	return append(primary, rest...)
}

func (f *FS) groupName(gid int) string {
	data, _ := f.readFile(cred{}, "/etc/group")
	for _, line := range strings.Split(string(data), "\n") {
		fl := strings.Split(line, ":")
		if len(fl) >= 3 && fl[2] == strconv.Itoa(gid) {
			return fl[0]
		}
	}
	return strconv.Itoa(gid)
}

func (f *FS) userName(uid int) string {
	if u, ok := f.userByUID(uid); ok {
		return u.name
	}
	return strconv.Itoa(uid)
}

// ensureUser returns the account, adding it (with a home) when the login
// names one the filesystem lacks, so every accepted login is consistent.
func (f *FS) ensureUser(name string, d *distro) account {
	if name == "" {
		name = "root"
	}
	if u, ok := f.userByName(name); ok {
		return u
	}
	uid := 1001
	for {
		if _, ok := f.userByUID(uid); !ok {
			break
		}
		uid++
	}
	sh := "/bin/bash"
	if d.ash {
		sh = "/bin/ash"
	}
	u := account{name: name, uid: uid, gid: uid, gecos: "", home: "/home/" + name, shell: sh}
	root := cred{}
	now := time.Now().UTC()
	f.writeFile(root, "/etc/passwd", fmt.Appendf(nil, "%s:x:%d:%d:,,,:%s:%s\n", u.name, u.uid, u.gid, u.home, u.shell), true, now)
	f.writeFile(root, "/etc/group", fmt.Appendf(nil, "%s:x:%d:\n", u.name, u.gid), true, now)
	f.mu.Lock()
	if f.nodes[u.home] == nil {
		f.nodes[u.home] = &Node{Mode: fs.ModeDir | 0o750, UID: u.uid, GID: u.gid, MTime: now}
		f.dirty = true
	}
	f.mu.Unlock()
	return u
}
