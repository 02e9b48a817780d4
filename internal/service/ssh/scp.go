package ssh

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"decnet/internal/shell"
)

// The scp server is the remote end of OpenSSH's legacy scp protocol
// ("scp -O", and every scp before 9.0): "scp -t" receives files, "scp -f"
// sends them, with OpenSSH 9.2's control lines, acknowledgements, error
// texts and exit statuses.

// scpUsage is what scp prints for an option it does not know.
const scpUsage = "usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n" +
	"           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n" +
	"           [-P port] [-S program] [-X sftp_option] source ... target\n"

// scpFlags are scp's option letters; those followed by ':' take a value.
const scpFlags = "12346ABCTdfOpqRrstvD:F:J:M:P:S:c:i:l:o:X:"

// scpMaxLine is the size of scp's control-line buffer.
const scpMaxLine = 2047

// scpOptions is an "scp" command line in server mode.
type scpOptions struct {
	to, from  bool // -t: receive, -f: send
	dir       bool // -d: the target must be a directory
	recursive bool // -r
	preserve  bool // -p: modes and times
	args      []string
}

// parseSCPArgs reads scp's options (argv without "scp") as glibc's
// getopt does, operands and options mixed. bad is the option getopt
// complains about.
func parseSCPArgs(argv []string) (o scpOptions, bad string, ok bool) {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			o.args = append(o.args, argv[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			o.args = append(o.args, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			k := strings.IndexByte(scpFlags, a[j])
			if k < 0 || a[j] == ':' {
				return o, "scp: invalid option -- '" + a[j:j+1] + "'\n", false
			}
			if k+1 < len(scpFlags) && scpFlags[k+1] == ':' {
				if j+1 == len(a) {
					if i+1 == len(argv) {
						return o, "scp: option requires an argument -- '" + a[j:j+1] + "'\n", false
					}
					i++
				}
				break
			}
			switch a[j] {
			case 't':
				o.to = true
			case 'f':
				o.from = true
			case 'd':
				o.dir = true
			case 'r':
				o.recursive = true
			case 'p':
				o.preserve = true
			}
		}
	}
	return o, "", true
}

// scpControl is one control line of the protocol.
type scpControl struct {
	kind byte // 'C' file, 'D' directory, 'T' times
	mode fs.FileMode
	size int64
	name string
	// mtime of a T line; zero when its seconds overflow, which makes scp
	// leave the times alone.
	mtime time.Time
}

// errSCPName is a control line naming something other than a plain file
// name; scp ends the transfer over it.
var errSCPName = errors.New("unexpected filename")

// parseSCPControl parses a C, D or T line without its newline, as scp's
// C code sees it: up to the first NUL byte. Errors are scpProtocolError
// (scp's "protocol error" reason) or errSCPName.
func parseSCPControl(line string) (scpControl, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	c := scpControl{}
	if line == "" {
		return c, scpProtocolError("expected control record")
	}
	c.kind = line[0]
	rest := line[1:]
	switch c.kind {
	case 'T':
		mt, rest, err := scpTimePair(rest, "mtime", ' ')
		if err != nil {
			return c, err
		}
		if _, _, err := scpTimePair(rest, "atime", 0); err != nil {
			return c, err
		}
		c.mtime = mt
		return c, nil
	case 'C', 'D':
	default:
		return c, scpProtocolError("expected control record")
	}
	if len(rest) < 4 {
		return c, scpProtocolError("bad mode")
	}
	for i := 0; i < 4; i++ {
		if rest[i] < '0' || rest[i] > '7' {
			return c, scpProtocolError("bad mode")
		}
		c.mode = c.mode<<3 | fs.FileMode(rest[i]-'0')
	}
	rest = rest[4:]
	if rest == "" || rest[0] != ' ' {
		return c, scpProtocolError("mode not delimited")
	}
	rest = rest[1:]
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if digits == 0 {
		return c, scpProtocolError("size not present")
	}
	if digits == len(rest) || rest[digits] != ' ' {
		return c, scpProtocolError("size not delimited")
	}
	size, err := strconv.ParseUint(rest[:digits], 10, 64)
	if err != nil || size > math.MaxInt64 {
		return c, scpProtocolError("size out of range")
	}
	c.size = int64(size)
	c.name = rest[digits+1:]
	if c.name == "" || strings.Contains(c.name, "/") || c.name == "." || c.name == ".." {
		return c, errSCPName
	}
	return c, nil
}

// scpTimePair parses "<sec> <usec>" and the byte that must follow (a blank
// after mtime, the end of the line after atime), with scp's complaints.
func scpTimePair(s, what string, after byte) (time.Time, string, error) {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits == 0 {
		return time.Time{}, s, scpProtocolError(what + ".sec not present")
	}
	sec, err := strconv.ParseUint(s[:digits], 10, 64)
	s = s[digits:]
	if s == "" || s[0] != ' ' {
		return time.Time{}, s, scpProtocolError(what + ".sec not delimited")
	}
	usec, n := cStrtol(s[1:])
	s = s[1+n:]
	if (s == "" && after != 0) || (s != "" && s[0] != after) || usec < 0 || usec > 999999 {
		return time.Time{}, s, scpProtocolError(what + ".usec not delimited")
	}
	if s != "" {
		s = s[1:]
	}
	if err != nil || sec > math.MaxInt64 {
		return time.Time{}, s, nil
	}
	return time.Unix(int64(sec), usec*1000), s, nil
}

// cStrtol is C's strtol in base 10: blanks, a sign, digits (saturating).
// n is how many bytes it read, 0 when there were no digits.
func cStrtol(s string) (v int64, n int) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v < math.MaxInt64/10 {
			v = v*10 + int64(s[i]-'0')
		} else {
			v = math.MaxInt64
		}
	}
	if i == start {
		return 0, 0
	}
	if neg {
		v = -v
	}
	return v, i
}

// scpProtocolError is scp's SCREWUP reason.
type scpProtocolError string

func (e scpProtocolError) Error() string { return "protocol error: " + string(e) }

// scpExit ends the scp process with a status.
type scpExit int

func (e scpExit) Error() string { return "exit " + strconv.Itoa(int(e)) }

// scpServer is one scp process in server mode.
type scpServer struct {
	sess   *shell.Session
	in     *bufio.Reader
	out    io.Writer
	opts   scpOptions
	budget *budget
	log    func(op string, f map[string]string)
	errs   int
}

// serveSCP runs "scp -t" or "scp -f" on a channel and returns scp's exit
// status.
func serveSCP(sess *shell.Session, o scpOptions, rw io.ReadWriter, b *budget, log func(string, map[string]string)) int {
	s := &scpServer{sess: sess, in: bufio.NewReaderSize(rw, 4096), out: rw, opts: o, budget: b, log: log}
	var err error
	if o.from {
		err = s.source()
	} else {
		if len(o.args) != 1 {
			s.runErr("ambiguous target")
			return 1
		}
		err = s.sink(o.args[0], s.opts.dir)
	}
	var ex scpExit
	if errors.As(err, &ex) {
		return int(ex)
	}
	if s.errs > 0 {
		return 1
	}
	return 0
}

// runErr sends an error line to the client (scp's run_err).
func (s *scpServer) runErr(format string, a ...any) {
	s.errs++
	fmt.Fprintf(s.out, "\x01scp: "+format+"\n", a...)
}

func (s *scpServer) ack() { s.out.Write([]byte{0}) }

// response reads the client's answer: 0, or an error line; a fatal one
// ends scp.
func (s *scpServer) response() (bool, error) {
	c, err := s.in.ReadByte()
	if err != nil {
		return false, scpExit(1) // lost connection
	}
	if c == 0 {
		return true, nil
	}
	if _, err := s.readRest(); err != nil {
		return false, scpExit(1)
	}
	s.errs++
	if c == 2 {
		return false, scpExit(1)
	}
	return false, nil
}

// readRest reads up to and including the end of the current line, at most
// scp's buffer.
func (s *scpServer) readRest() (string, error) {
	var b strings.Builder
	for b.Len() < scpMaxLine-1 {
		c, err := s.in.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}

// sink receives files into targ ("scp -t").
func (s *scpServer) sink(targ string, mustBeDir bool) error {
	if mustBeDir {
		fi, err := s.sess.Stat(targ)
		if err == nil && !fi.Mode.IsDir() {
			err = shell.ErrNotDir
		}
		if err != nil {
			s.runErr("%s: %s", targ, err.Error())
			return scpExit(1)
		}
	}
	s.ack()
	fi, err := s.sess.Stat(targ)
	targIsDir := err == nil && fi.Mode.IsDir()
	var times *scpControl
	for first := true; ; first = false {
		c, err := s.in.ReadByte()
		if err != nil {
			return nil // the client is done
		}
		if c == '\n' {
			return s.screwup("unexpected <newline>")
		}
		rest, err := s.readRest()
		if err != nil {
			return s.screwup("lost connection")
		}
		line := string(c) + rest
		switch c {
		case 1, 2:
			if c == 2 {
				return scpExit(1)
			}
			s.errs++
			continue
		case 'E':
			s.ack()
			return nil
		}
		line = strings.TrimSuffix(line, "\n")
		if i := strings.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		ctl, err := parseSCPControl(line)
		var pe scpProtocolError
		switch {
		case errors.Is(err, errSCPName):
			s.runErr("error: unexpected filename: %s", ctl.name)
			return scpExit(1)
		case errors.As(err, &pe) && pe == "expected control record" && first:
			s.runErr("%s", line)
			return scpExit(1)
		case err != nil:
			return s.screwup(string(pe))
		}
		if ctl.kind == 'T' {
			times = &ctl
			s.ack()
			continue
		}
		mode := ctl.mode
		if !s.opts.preserve {
			mode &^= shell.DefaultUmask
		}
		np := targ
		switch {
		case targIsDir && targ == "/":
			np = "/" + ctl.name
		case targIsDir:
			np = targ + "/" + ctl.name
		}
		if ctl.kind == 'D' {
			if !s.opts.recursive {
				return s.screwup("received directory without -r")
			}
			if err := s.sinkDir(np, mode, times); err != nil {
				return err
			}
		} else if err := s.sinkFile(np, ctl, mode, times); err != nil {
			return err
		}
		times = nil
	}
}

func (s *scpServer) screwup(why string) error {
	s.runErr("protocol error: %s", why)
	return scpExit(1)
}

// sinkDir receives a directory (a D line) and what is in it.
func (s *scpServer) sinkDir(np string, mode fs.FileMode, times *scpControl) error {
	fi, err := s.sess.Stat(np)
	created := false
	switch {
	case err == nil && !fi.Mode.IsDir():
		s.runErr("%s: %s", np, shell.ErrNotDir.Error())
		return nil
	case err == nil:
		if s.opts.preserve {
			s.sess.Chmod(np, mode, true)
		}
	default:
		if err := s.sess.Mkdir(np, mode|0o700); err != nil {
			s.log("mkdir", map[string]string{"path": np, "error": err.Error()})
			s.runErr("%s: %s", np, err.Error())
			return nil
		}
		created = true
		s.log("mkdir", map[string]string{"path": np, "mode": fmt.Sprintf("%04o", mode)})
	}
	if err := s.sink(np, false); err != nil {
		return err
	}
	if times != nil && !times.mtime.IsZero() {
		s.sess.Chtimes(np, times.mtime, true)
	}
	if created || s.opts.preserve {
		s.sess.Chmod(np, mode, true)
	}
	return nil
}

// sinkFile receives one file (a C line and its bytes). mode is what the
// line asked for, less the umask unless -p.
func (s *scpServer) sinkFile(np string, ctl scpControl, mode fs.FileMode, times *scpControl) error {
	_, statErr := s.sess.Stat(np)
	exists := statErr == nil
	f := map[string]string{"path": np, "size": strconv.FormatInt(ctl.size, 10), "mode": fmt.Sprintf("%04o", ctl.mode)}
	// scp opens the file writable for itself, then sets the mode asked for.
	wmode := mode | 0o200
	if _, err := s.sess.CreateFile(np, wmode, false, false); err != nil {
		f["error"] = err.Error()
		s.log("upload", f)
		s.runErr("%s: %s", np, err.Error())
		return nil
	}
	s.ack()
	var data []byte
	var noted error
	held := int64(0)
	defer func() { s.budget.give(held) }()
	buf := make([]byte, min(ctl.size, 32<<10))
	for left := ctl.size; left > 0; {
		n, err := io.ReadFull(s.in, buf[:min(left, int64(len(buf)))])
		left -= int64(n)
		if noted == nil {
			if int64(len(data)+n) > maxUpload || !s.budget.take(int64(n)) {
				noted = shell.ErrNoSpace // the bytes past the cap are read and dropped
			} else {
				held += int64(n)
				data = append(data, buf[:n]...)
			}
		}
		if err != nil {
			f["error"] = "dropped connection"
			s.upload(np, data, f)
			s.runErr("Broken pipe")
			return scpExit(1)
		}
	}
	if err := s.upload(np, data, f); err != nil && noted == nil {
		noted = err
	}
	if s.opts.preserve && (exists || mode != wmode) || !s.opts.preserve && !exists && mode != wmode {
		s.sess.Chmod(np, mode, true)
	}
	if _, err := s.response(); err != nil {
		return err
	}
	if times != nil && !times.mtime.IsZero() && noted == nil {
		s.sess.Chtimes(np, times.mtime, true)
	}
	if noted != nil {
		s.runErr("%s: %s", np, noted.Error())
		return nil
	}
	s.ack()
	return nil
}

// upload stores what an scp sent and records it.
func (s *scpServer) upload(np string, data []byte, f map[string]string) error {
	err := uploadError(s.sess.Upload(np, data))
	if err != nil && f["error"] == "" {
		f["error"] = err.Error()
	}
	f["received"] = strconv.Itoa(len(data))
	s.log("upload", f)
	return err
}

// source sends files ("scp -f").
func (s *scpServer) source() error {
	if _, err := s.response(); err != nil {
		return err
	}
	for _, name := range s.opts.args {
		if err := s.sendOne(name); err != nil {
			return err
		}
	}
	return nil
}

// sendOne sends one operand: a file, or with -r a directory tree.
func (s *scpServer) sendOne(name string) error {
	for len(name) > 1 && strings.HasSuffix(name, "/") {
		name = name[:len(name)-1]
	}
	shown := strings.ReplaceAll(name, "\n", `\n`)
	fi, err := s.sess.Stat(name)
	if err != nil {
		s.runErr("%s: %s", shown, err.Error())
		return nil
	}
	if fi.Mode.IsDir() {
		if s.opts.recursive {
			return s.sendDir(name, fi)
		}
		s.runErr("%s: not a regular file", shown)
		return nil
	}
	data, err := s.sess.ReadFile(name)
	if err != nil {
		s.runErr("%s: %s", shown, err.Error())
		return nil
	}
	if s.opts.preserve {
		if ok, err := s.times(fi); !ok || err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "C%04o %d %s\n", unixMode(fi.Mode)&0o6777, len(data), path.Base(shown))
	ok, err := s.response()
	if err != nil || !ok {
		return err
	}
	s.log("download", map[string]string{"path": name, "size": strconv.Itoa(len(data))})
	s.out.Write(data)
	s.ack()
	_, err = s.response()
	return err
}

// times sends a T line before a file or directory (-p).
func (s *scpServer) times(fi shell.FileInfo) (bool, error) {
	t := max(fi.MTime.Unix(), 0)
	fmt.Fprintf(s.out, "T%d 0 %d 0\n", t, t)
	return s.response()
}

// sendDir sends a directory with -r: D, its entries, E.
func (s *scpServer) sendDir(name string, fi shell.FileInfo) error {
	entries, err := s.sess.ReadDir(name)
	if err != nil {
		s.runErr("%s: %s", name, err.Error())
		return nil
	}
	if s.opts.preserve {
		if ok, err := s.times(fi); !ok || err != nil {
			return err
		}
	}
	base := path.Base(name)
	if len(base) > 1024 {
		base = base[:1024]
	}
	fmt.Fprintf(s.out, "D%04o %d %s\n", unixMode(fi.Mode)&0o6777, 0, base)
	if ok, err := s.response(); err != nil || !ok {
		return err
	}
	for _, e := range entries {
		p := name + "/" + e.Name
		if len(p) >= 4096-1 {
			s.runErr("%s/%s: name too long", name, e.Name)
			continue
		}
		if err := s.sendOne(p); err != nil {
			return err
		}
	}
	s.out.Write([]byte("E\n"))
	_, err = s.response()
	return err
}
