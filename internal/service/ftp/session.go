package ftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"decnet/internal/pause"

	"decnet/internal/event"
)

// session is one control connection.
type session struct {
	srv    *Server
	conn   net.Conn
	r      *bufio.Reader
	fields map[string]string
	local  net.IP // the decky's address the client reached
	peer   net.IP // the client's address: the only active-mode target
	dead   bool   // the control connection failed or must close

	user     string // USER's argument, until a login fails
	loggedIn bool
	anon     bool
	name     string // who is logged in, as STAT shows it
	fails    int
	clients  int64 // sessions open when this one started

	view    view
	home    string
	cwd     string
	umask   fs.FileMode
	ascii   bool
	restart int64
	rnfr    string
	epsvAll bool

	pasvLn   *net.TCPListener
	portAddr *net.TCPAddr
	// dataTimeout is set when a data connection made no progress for the
	// data timeout: vsftpd then ends the session after the reply.
	dataTimeout bool
	lastCode    int
}

func (s *Server) newSession(c net.Conn, fields map[string]string, local, peer net.IP) *session {
	return &session{srv: s, conn: c, r: newLineReader(c), fields: fields, local: local, peer: peer, ascii: true,
		clients: s.clients.Add(1)}
}

// run serves the session until QUIT, a fatal error or ctx's end.
func (ss *session) run(ctx context.Context) {
	defer ss.srv.clients.Add(-1)
	defer ss.closeData()
	banner := "(vsFTPd " + ss.srv.version + ")"
	if ss.srv.p.Banner != "" {
		banner = ss.srv.p.Banner
	}
	ss.send(220, banner)
	for !ss.dead && ctx.Err() == nil {
		line, err := readCommand(ss.r)
		switch {
		case errors.Is(err, errLineTooLong):
			ss.send(500, "Input line too long.")
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			ss.send(421, "Timeout.")
			return
		case err != nil:
			return
		}
		cmd, arg := splitCommand(line)
		if cmd == "" && arg == "" {
			continue // as vsftpd, for the NAT devices that send empty lines
		}
		ss.lastCode = 0
		var quit bool
		if ss.loggedIn {
			quit = ss.postLogin(ctx, cmd, arg)
		} else {
			quit = ss.preLogin(ctx, cmd, arg)
		}
		ss.emitCommand(line, cmd)
		if quit {
			return
		}
		if ss.dataTimeout {
			ss.send(421, "Data timeout. Reconnect. Sorry.")
			return
		}
	}
}

// send writes one reply line.
func (ss *session) send(code int, text string) { ss.write(reply(code, ' ', text), code) }

// sendHyphen writes the first line of a multi-line reply.
func (ss *session) sendHyphen(code int, text string) { ss.write(reply(code, '-', text), code) }

func (ss *session) write(b []byte, code int) {
	if ss.dead {
		return
	}
	if code != 0 {
		ss.lastCode = code
	}
	if _, err := ss.conn.Write(b); err != nil {
		ss.dead = true
	}
}

// raw writes lines as they are, as vsftpd's vsf_cmdio_write_raw.
func (ss *session) raw(s string) { ss.write([]byte(s), 0) }

func (ss *session) emitCommand(line, cmd string) {
	if cmd == "PASS" {
		line = "PASS" // the password is in the auth event only
	}
	f := map[string]string{event.FieldCommand: truncate(line, 1024), "cmd": truncate(cmd, 64)}
	if ss.lastCode != 0 {
		f["reply"] = strconv.Itoa(ss.lastCode)
	}
	if u := ss.who(); u != "" {
		f[event.FieldUsername] = truncate(u, 256)
	}
	ss.srv.emit(event.TypeCommand, event.Notice, ss.fields, f)
}

// who is the user the session speaks for: the logged-in one or the one
// USER named.
func (ss *session) who() string {
	if ss.loggedIn {
		return ss.name
	}
	return ss.user
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// preLogin handles a command before login, as vsftpd's
// parse_username_password. It reports whether the session ends.
func (ss *session) preLogin(ctx context.Context, cmd, arg string) bool {
	switch cmd {
	case "USER":
		ss.user = arg
		ss.send(331, "Please specify the password.")
	case "PASS":
		return ss.pass(ctx, arg)
	case "QUIT":
		ss.send(221, "Goodbye.")
		return true
	case "FEAT":
		ss.feat()
	case "OPTS":
		ss.opts(arg)
	default:
		ss.send(530, "Please login with USER and PASS.")
	}
	return false
}

func (ss *session) feat() {
	ss.sendHyphen(211, "Features:")
	f := " EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n"
	if ss.srv.legacy {
		f += " UTF8\r\n" // 3.0.3 lists it only with utf8_filesystem
	}
	ss.raw(f)
	ss.send(211, "End")
}

func (ss *session) opts(arg string) {
	if upperASCII(arg) == "UTF8 ON" {
		ss.send(200, "Always in UTF8 mode.")
		return
	}
	ss.send(501, "Option not understood.")
}

// Limits of vsftpd's handle_login, checked before PAM is asked.
const (
	maxUsername = 128
	maxPassword = 128
)

// pass handles PASS before login: it checks the credentials as vsftpd
// and PAM would, and after max_login_fails failures closes the session.
func (ss *session) pass(ctx context.Context, pw string) bool {
	if ss.user == "" {
		ss.send(503, "Login with USER first.")
		return false
	}
	user := ss.user
	ok, anon, pam := ss.srv.check(user, pw)
	f := map[string]string{event.FieldUsername: user, event.FieldPassword: pw, event.FieldSuccess: strconv.FormatBool(ok)}
	if anon {
		f["anonymous"] = "true"
	}
	sev := event.Notice
	if ok {
		sev = event.Warning
	}
	ss.srv.emit(event.TypeAuth, sev, ss.fields, f)
	if ok {
		return ss.login(user, anon)
	}
	if !pause.For(ctx, ss.srv.failDelay(pam)) {
		return true
	}
	ss.send(530, "Login incorrect.")
	ss.user = ""
	ss.fails++
	// vsftpd's check_login_fails: the connection closes with no word.
	return ss.fails >= ss.srv.p.MaxLoginFails
}

// check is vsftpd's handle_login with PAM behind it. pam tells whether
// PAM was asked (and so delays a failure).
func (s *Server) check(user, pw string) (ok, anon, pam bool) {
	if len(user) == 0 || len(user) > maxUsername || len(pw) > maxPassword {
		return false, false, false
	}
	if c := user[0]; !isAlnum(c) && c != '_' && c != '.' {
		return false, false, false
	}
	for i := range len(user) {
		// vsf_sysutil_isprint, with its decimal 177 where DEL was meant.
		if c := user[i]; c <= ' ' || c == 177 || c >= 128 && c <= 159 {
			return false, false, false
		}
	}
	if u := upperASCII(user); s.p.AnonymousEnable && (u == "FTP" || u == "ANONYMOUS") {
		return true, true, false
	}
	if a, found := s.accounts[user]; found {
		for _, p := range a.passwords {
			if p == pw {
				return true, false, true
			}
		}
	}
	return false, false, true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// login starts a logged-in session: local users in their home on the
// whole tree, anonymous users chrooted to the anonymous root.
func (ss *session) login(user string, anon bool) bool {
	s := ss.srv
	if anon {
		ss.view = view{t: s.tree, chroot: s.layout.anonRoot, c: cred{s.layout.ftpUID, s.layout.ftpGID}}
		ss.home, ss.name, ss.umask = "/", "ftp", 0o077
	} else {
		a := s.accounts[user]
		ss.view = view{t: s.tree, chroot: "/", c: cred{a.uid, a.uid}}
		ss.home, ss.name, ss.umask = "/home/"+user, user, 0o022
	}
	cwd, err := ss.view.chdir(ss.home)
	if err != nil {
		// A home removed or renamed by an earlier session: vsftpd dies so.
		ss.send(500, "OOPS: cannot change directory:"+ss.home)
		return true
	}
	ss.cwd, ss.anon, ss.loggedIn = cwd, anon, true
	ss.send(230, "Login successful.")
	return false
}

// permDenied reports the commands vsftpd answers "550 Permission
// denied." when the configuration disables them.
func permDenied(cmd string) bool {
	switch cmd {
	case "PASV", "PORT", "STOR", "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO", "SITE", "APPE", "EPSV", "EPRT",
		"RETR", "LIST", "NLST", "STOU", "ALLO", "REIN", "ACCT", "SMNT", "FEAT", "OPTS", "STAT", "PBSZ", "PROT":
		return true
	}
	return false
}

// postLogin handles a command after login in the order of vsftpd's
// process_post_login, whose configuration gates decide between the
// command and "550 Permission denied.". It reports whether the session
// ends.
func (ss *session) postLogin(ctx context.Context, cmd, arg string) bool {
	p := ss.srv.p
	w := p.WriteEnable
	upload := w && (p.AnonUploadEnable || !ss.anon)
	mkdir := w && (p.AnonMkdirWriteEnable || !ss.anon)
	other := w && (p.AnonOtherWriteEnable || !ss.anon)
	switch {
	case cmd == "QUIT":
		ss.send(221, "Goodbye.")
		return true
	case cmd == "PWD" || cmd == "XPWD":
		ss.pwd()
	case cmd == "CWD" || cmd == "XCWD":
		ss.chdir(arg)
	case cmd == "CDUP" || cmd == "XCUP":
		ss.chdir("..")
	case (cmd == "PASV" || cmd == "P@SW") && !ss.epsvAll:
		ss.pasv(false, arg)
	case cmd == "EPSV":
		ss.pasv(true, arg)
	case cmd == "RETR":
		ss.retr(ctx, arg)
	case cmd == "NOOP":
		ss.send(200, "NOOP ok.")
	case cmd == "SYST":
		ss.send(215, "UNIX Type: L8")
	case cmd == "HELP":
		ss.help()
	case cmd == "LIST":
		ss.list(ctx, arg, true, false)
	case cmd == "TYPE":
		ss.setType(arg)
	case cmd == "PORT" && !ss.epsvAll:
		ss.port(arg)
	case cmd == "STOR" && upload:
		ss.upload(ctx, cmd, arg)
	case (cmd == "MKD" || cmd == "XMKD") && mkdir:
		ss.mkd(arg)
	case (cmd == "RMD" || cmd == "XRMD") && other:
		ss.remove(arg, true)
	case cmd == "DELE" && other:
		ss.remove(arg, false)
	case cmd == "REST":
		ss.rest(arg)
	case cmd == "RNFR" && other:
		ss.renameFrom(arg)
	case cmd == "RNTO" && other:
		ss.renameTo(arg)
	case cmd == "NLST":
		ss.list(ctx, arg, false, false)
	case cmd == "SIZE":
		ss.size(arg)
	case cmd == "SITE" && !ss.anon:
		ss.site(arg)
	case cmd == "ABOR" || cmd == "\xff\xf4\xff\xf2ABOR":
		ss.send(225, "No transfer to ABOR.")
	case cmd == "APPE" && other:
		ss.upload(ctx, cmd, arg)
	case cmd == "MDTM":
		ss.mdtm(arg, other)
	case cmd == "EPRT":
		ss.eprt(arg)
	case cmd == "STRU":
		ss.onlyValue(arg, "F", 200, "Structure set to F.", 504, "Bad STRU command.")
	case cmd == "MODE":
		ss.onlyValue(arg, "S", 200, "Mode set to S.", 504, "Bad MODE command.")
	case cmd == "STOU" && upload:
		ss.upload(ctx, cmd, arg)
	case cmd == "ALLO":
		ss.send(202, "ALLO command ignored.")
	case cmd == "REIN" || cmd == "ACCT" || cmd == "SMNT":
		ss.send(502, cmd+" not implemented.")
	case cmd == "FEAT":
		ss.feat()
	case cmd == "OPTS":
		ss.opts(arg)
	case cmd == "STAT" && arg == "":
		ss.stat()
	case cmd == "STAT":
		ss.list(ctx, arg, true, true)
	case cmd == "USER":
		ss.userAgain(arg)
	case cmd == "PASS":
		ss.send(230, "Already logged in.")
	case permDenied(cmd):
		ss.send(550, "Permission denied.")
	default:
		ss.send(500, "Unknown command.")
	}
	return false
}

func (ss *session) onlyValue(arg, want string, okCode int, okText string, badCode int, badText string) {
	if upperASCII(arg) == want {
		ss.send(okCode, okText)
		return
	}
	ss.send(badCode, badText)
}

func (ss *session) userAgain(arg string) {
	switch {
	case ss.anon:
		ss.send(530, "Can't change from guest user.")
	case arg == ss.name:
		ss.send(331, "Any password will do.")
	default:
		ss.send(530, "Can't change to another user.")
	}
}

// tilde is vsftpd's resolve_tilde: "~" and "~/..." start at the home
// (tilde_user_enable is off, so "~user" stays as it is).
func (ss *session) tilde(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		return ss.home + p[1:]
	}
	return p
}

// path returns the view path an argument names.
func (ss *session) path(arg string) string { return abs(ss.cwd, ss.tilde(arg)) }

// shown is vsftpd's prepend_path_to_filename: the working directory put
// before a relative name, with no cleaning.
func (ss *session) shown(arg string) string {
	if strings.HasPrefix(arg, "/") {
		return arg
	}
	if strings.HasSuffix(ss.cwd, "/") {
		return ss.cwd + arg
	}
	return ss.cwd + "/" + arg
}

func quote(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }

func (ss *session) pwd() {
	if ss.srv.legacy {
		ss.send(257, quote(ss.cwd))
		return
	}
	ss.send(257, quote(ss.cwd)+" is the current directory")
}

func (ss *session) chdir(arg string) {
	cwd, err := ss.view.chdir(ss.path(arg))
	if err != nil {
		ss.send(550, "Failed to change directory.")
		return
	}
	ss.cwd = cwd
	ss.send(250, "Directory successfully changed.")
}

func (ss *session) help() {
	ss.sendHyphen(214, "The following commands are recognized.")
	ss.raw(" ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n" +
		" MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n" +
		" RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n" +
		" XPWD XRMD\r\n")
	ss.send(214, "Help OK.")
}

func (ss *session) setType(arg string) {
	switch upperASCII(arg) {
	case "I", "L8", "L 8":
		ss.ascii = false
		ss.send(200, "Switching to Binary mode.")
	case "A", "A N":
		ss.ascii = true
		ss.send(200, "Switching to ASCII mode.")
	default:
		ss.send(500, "Unrecognised TYPE command.")
	}
}

// rest is vsftpd's REST: up to 15 digits, anything else is 0.
func (ss *session) rest(arg string) {
	var v int64
	if len(arg) <= 15 {
		for i := range len(arg) {
			if arg[i] < '0' || arg[i] > '9' {
				v = 0
				break
			}
			v = v*10 + int64(arg[i]-'0')
		}
	}
	ss.restart = v
	ss.send(350, fmt.Sprintf("Restart position accepted (%d).", v))
}

func (ss *session) mkd(arg string) {
	if err := ss.view.mkdir(ss.path(arg), 0o777&^ss.umask, ss.srv.now()); err != nil {
		ss.send(550, "Create directory operation failed.")
		return
	}
	ss.send(257, quote(ss.shown(arg))+" created")
}

func (ss *session) remove(arg string, dir bool) {
	err := ss.view.remove(ss.path(arg), dir, ss.srv.now())
	switch {
	case dir && err != nil:
		ss.send(550, "Remove directory operation failed.")
	case dir:
		ss.send(250, "Remove directory operation successful.")
	case err != nil:
		ss.send(550, "Delete operation failed.")
	default:
		ss.send(250, "Delete operation successful.")
	}
}

func (ss *session) renameFrom(arg string) {
	ss.rnfr = ""
	p := ss.path(arg)
	if !ss.view.exists(p) {
		ss.send(550, "RNFR command failed.")
		return
	}
	ss.rnfr = p
	ss.send(350, "Ready for RNTO.")
}

func (ss *session) renameTo(arg string) {
	if ss.rnfr == "" {
		ss.send(503, "RNFR required first.")
		return
	}
	from := ss.rnfr
	ss.rnfr = ""
	if err := ss.view.rename(from, ss.path(arg), ss.srv.now()); err != nil {
		ss.send(550, "Rename failed.")
		return
	}
	ss.send(250, "Rename successful.")
}

func (ss *session) size(arg string) {
	in, err := ss.view.stat(ss.path(arg))
	if err != nil || !in.mode.IsRegular() {
		ss.send(550, "Could not get file size.")
		return
	}
	ss.send(213, strconv.FormatInt(in.size, 10))
}

// mdtm is vsftpd's MDTM, with mdtm_write's "MDTM YYYYMMDDHHMMSS file"
// form that sets the time.
func (ss *session) mdtm(arg string, mayWrite bool) {
	_, statErr := ss.view.stat(ss.path(arg))
	var set time.Time
	doWrite := false
	if i := strings.IndexByte(arg, ' '); statErr != nil && i >= 0 && arg[0] >= '0' && arg[0] <= '9' {
		if i == 8 || i == 14 || (i > 15 && arg[14] == '.') {
			doWrite = true
			set = parseMDTM(arg[:i])
			arg = arg[i+1:]
		}
	}
	p := ss.path(arg)
	if doWrite && mayWrite {
		if err := ss.view.touch(p, set); err != nil {
			ss.send(550, "Could not set file modification time.")
			return
		}
		ss.send(213, "File modification time set.")
		return
	}
	in, err := ss.view.stat(p)
	if err != nil || !in.mode.IsRegular() {
		ss.send(550, "Could not get file modification time.")
		return
	}
	ss.send(213, in.mtime.UTC().Format("20060102150405"))
}

// parseMDTM is vsf_sysutil_parse_time: fields read with atoi from fixed
// places, normalised as mktime does.
func parseMDTM(s string) time.Time {
	field := func(from, to int) int {
		if len(s) < to {
			return 0
		}
		return atoi(s[from:to])
	}
	if len(s) < 8 {
		return time.Unix(0, 0).UTC()
	}
	return time.Date(field(0, 4), time.Month(field(4, 6)), field(6, 8), field(8, 10), field(10, 12), field(12, 14), 0, time.UTC)
}

// site is vsftpd's SITE: CHMOD (with write_enable), UMASK and HELP.
func (ss *session) site(arg string) {
	sub, rest, _ := strings.Cut(arg, " ")
	w := ss.srv.p.WriteEnable
	switch upperASCII(sub) {
	case "CHMOD":
		if !w {
			ss.send(500, "Unknown SITE command.")
			return
		}
		mode, file, _ := strings.Cut(rest, " ")
		if rest == "" || file == "" {
			ss.send(500, "SITE CHMOD needs 2 arguments.")
			return
		}
		if err := ss.view.chmod(ss.path(file), fs.FileMode(octal(mode)&0o777)); err != nil {
			ss.send(550, "SITE CHMOD command failed.")
			return
		}
		ss.send(200, "SITE CHMOD command ok.")
	case "UMASK":
		if rest == "" {
			ss.send(200, "Your current UMASK is "+octalString(uint32(ss.umask)))
			return
		}
		ss.umask = fs.FileMode(octal(rest) & 0o777)
		ss.send(200, "UMASK set to "+octalString(uint32(ss.umask)))
	case "HELP":
		if w {
			ss.send(214, "CHMOD UMASK HELP")
		} else {
			ss.send(214, "UMASK HELP")
		}
	default:
		ss.send(500, "Unknown SITE command.")
	}
}

// octal is vsf_sysutil_octal_to_uint: octal digits up to the first other
// character, in 32 bits.
func octal(s string) uint32 {
	var v uint32
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '7'; i++ {
		v = v<<3 + uint32(s[i]-'0')
	}
	return v
}

// octalString is vsf_sysutil_uint_to_octal.
func octalString(v uint32) string {
	if v == 0 {
		return "0"
	}
	return "0" + strconv.FormatUint(uint64(v), 8)
}

// stat is STAT without an argument: the server status as vsftpd
// words it.
func (ss *session) stat() {
	typ := "BINARY"
	if ss.ascii {
		typ = "ASCII"
	}
	ss.sendHyphen(211, "FTP server status:")
	ss.raw(fmt.Sprintf("     Connected to %s\r\n     Logged in as %s\r\n     TYPE: %s\r\n     No session bandwidth limit\r\n"+
		"     Session timeout in seconds is %d\r\n     Control connection is plain text\r\n     Data connections will be plain text\r\n"+
		"     At session startup, client count was %d\r\n     vsFTPd %s - secure, fast, stable\r\n",
		ss.peer, ss.name, typ, ss.srv.p.IdleSessionTimeout, ss.clients, ss.srv.version))
	ss.send(211, "End of status")
}
