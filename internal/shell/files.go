package shell

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"
	"time"
)

// File operations as the session's user, with the semantics of the
// system calls behind them (open, mkdir, unlink, rmdir, rename, symlink,
// chmod, utimes), for the file-transfer protocols (sftp, scp) that serve
// the fake filesystem next to the shell. Paths are relative to the
// session's working directory, which is the user's home at login.

// Errors of the system calls that have no shell counterpart. Their texts
// are strerror's.
var (
	ErrInvalid      = errors.New("Invalid argument")
	ErrNotPermitted = errors.New("Operation not permitted")
	ErrNotSupported = errors.New("Operation not supported")
	ErrNameTooLong  = errors.New("File name too long")
)

// DefaultUmask is the umask every login gets (Debian's and RHEL's
// /etc/login.defs): file servers apply it to the modes clients ask for.
const DefaultUmask fs.FileMode = 0o022

// maxPathLen is PATH_MAX: longer paths fail with ErrNameTooLong.
const maxPathLen = 4095

// FileInfo is what stat(2) reports about a node.
type FileInfo struct {
	Name  string      // base name
	Mode  fs.FileMode // type bits and permissions, as io/fs
	UID   int
	GID   int
	Size  int64
	Nlink int
	MTime time.Time
}

// Home returns the user's home directory.
func (s *Session) Home() string { return s.user.home }

// Abs makes p absolute against the working directory, expanding a
// leading ~, and cleans it.
func (s *Session) Abs(p string) string { return s.abs(p) }

// Stat describes the node at p, following symbolic links.
func (s *Session) Stat(p string) (FileInfo, error) { return s.statInfo(p, true) }

// Lstat describes the node at p itself.
func (s *Session) Lstat(p string) (FileInfo, error) { return s.statInfo(p, false) }

func (s *Session) statInfo(p string, follow bool) (FileInfo, error) {
	f := s.fs
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, n, err := f.lookup(s.abs(p), follow)
	if err != nil {
		return FileInfo{}, err
	}
	links := 1
	if n.Mode.IsDir() {
		links = 2 + f.subdirCounts(map[string]bool{r: true})[r]
	}
	return nodeInfo(path.Base(r), n, links), nil
}

func nodeInfo(name string, n *Node, links int) FileInfo {
	return FileInfo{Name: name, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size(), Nlink: links, MTime: n.MTime}
}

// subdirCounts counts the subdirectories of each directory in dirs, in one
// pass over the tree. Callers hold f.mu.
func (f *FS) subdirCounts(dirs map[string]bool) map[string]int {
	out := map[string]int{}
	for p, n := range f.nodes {
		if p != "/" && n.Mode.IsDir() && dirs[path.Dir(p)] {
			out[path.Dir(p)]++
		}
	}
	return out
}

// ReadDir lists the directory at p (following links), sorted by name,
// each entry described as lstat does; "." and ".." are not included.
func (s *Session) ReadDir(p string) ([]FileInfo, error) {
	r, names, err := s.fs.readDir(s.cred, s.abs(p))
	if err != nil {
		return nil, err
	}
	f := s.fs
	f.mu.RLock()
	defer f.mu.RUnlock()
	dirs := map[string]bool{}
	for _, name := range names {
		if n := f.nodes[path.Join(r, name)]; n != nil && n.Mode.IsDir() {
			dirs[path.Join(r, name)] = true
		}
	}
	counts := f.subdirCounts(dirs)
	out := make([]FileInfo, 0, len(names))
	for _, name := range names {
		full := path.Join(r, name)
		n := f.nodes[full]
		if n == nil { // removed since readDir
			continue
		}
		links := 1
		if n.Mode.IsDir() {
			links = 2 + counts[full]
		}
		out = append(out, nodeInfo(name, n, links))
	}
	return out, nil
}

// ReadFile returns the contents of the file at p.
func (s *Session) ReadFile(p string) ([]byte, error) { return s.fs.readFile(s.cred, s.abs(p)) }

// CreateFile is open(2) with O_CREAT for writing: it creates the file at p
// with mode perm when it is missing (ErrExist with excl set when it is
// not), checks that an existing file may be written, and empties it when
// trunc is set. It returns the file's canonical path.
func (s *Session) CreateFile(p string, perm fs.FileMode, excl, trunc bool) (string, error) {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	abs := s.abs(p)
	if len(abs) > maxPathLen {
		return "", ErrNameTooLong
	}
	r, err := f.resolve(abs, true)
	if err != nil {
		return "", err
	}
	if n := f.nodes[r]; n != nil {
		switch {
		case excl:
			return r, ErrExist
		case n.Mode.IsDir():
			return r, ErrIsDir
		case !n.allows(s.cred, 2):
			return r, ErrPermission
		}
		if trunc && n.Size() > 0 {
			f.total -= int64(len(n.Data))
			n.Data, n.VSize, n.MTime = nil, 0, s.now()
			f.dirty = true
		}
		return r, nil
	}
	if err := f.parentWritable(s.cred, r); err != nil {
		return r, err
	}
	if len(f.nodes) >= MaxNodes {
		return r, ErrNoSpace
	}
	f.nodes[r] = &Node{Mode: perm.Perm(), UID: s.cred.uid, GID: s.cred.gid, MTime: s.now()}
	f.dirty = true
	return r, nil
}

// Upload replaces the contents of the file at p with data an attacker sent
// (scp, sftp). The bytes are kept and reported through Hooks.File first,
// so a payload is captured even when the filesystem refuses it (no such
// directory, no permission, no space).
func (s *Session) Upload(p string, data []byte) error {
	now := s.now()
	abs := s.abs(p)
	orig := abs
	s.fs.mu.RLock()
	if r, err := s.fs.resolve(abs, true); err == nil {
		orig = r
	}
	s.fs.mu.RUnlock()
	if len(data) > 0 {
		kept := s.fs.art.Keep(orig, data, now)
		if s.hooks.File != nil {
			s.hooks.File(FileWrite{Path: orig, Kept: kept})
		}
	}
	_, _, err := s.fs.writeFile(s.cred, abs, data, false, now)
	s.fs.maybeFlush()
	return err
}

// Truncate sets the size of the file at p, cutting it or padding it with
// zero bytes.
func (s *Session) Truncate(p string, size int64) error {
	if size < 0 {
		return ErrInvalid
	}
	if size > MaxFileSize {
		return ErrTooBig
	}
	data, err := s.fs.readFile(s.cred, s.abs(p))
	if err != nil {
		return err
	}
	if int64(len(data)) >= size {
		data = data[:size]
	} else {
		data = append(data, make([]byte, size-int64(len(data)))...)
	}
	_, _, err = s.fs.writeFile(s.cred, s.abs(p), data, false, s.now())
	return err
}

// create adds node n at p (not following a final symbolic link), failing
// when something is there already.
func (s *Session) create(p string, n *Node) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	abs := s.abs(p)
	if len(abs) > maxPathLen {
		return ErrNameTooLong
	}
	r, err := f.resolve(abs, false)
	if err != nil {
		return err
	}
	if f.nodes[r] != nil {
		return ErrExist
	}
	if err := f.parentWritable(s.cred, r); err != nil {
		return err
	}
	if len(f.nodes) >= MaxNodes {
		return ErrNoSpace
	}
	f.nodes[r] = n
	f.dirty = true
	return nil
}

// Mkdir creates one directory with mode perm.
func (s *Session) Mkdir(p string, perm fs.FileMode) error {
	return s.create(p, &Node{Mode: fs.ModeDir | perm.Perm(), UID: s.cred.uid, GID: s.cred.gid, MTime: s.now()})
}

// Symlink creates a symbolic link at p that points to target.
func (s *Session) Symlink(target, p string) error {
	if target == "" {
		return ErrNotExist
	}
	return s.create(p, &Node{Mode: fs.ModeSymlink | 0o777, UID: s.cred.uid, GID: s.cred.gid, MTime: s.now(), Target: target})
}

// Readlink returns the target of the symbolic link at p.
func (s *Session) Readlink(p string) (string, error) {
	f := s.fs
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, n, err := f.lookup(s.abs(p), false)
	if err != nil {
		return "", err
	}
	if n.Mode&fs.ModeSymlink == 0 {
		return "", ErrInvalid
	}
	return n.Target, nil
}

// Remove is unlink(2): it removes a file or link, never a directory.
func (s *Session) Remove(p string) error { return s.fs.remove(s.cred, s.abs(p), false) }

// Rmdir removes an empty directory.
func (s *Session) Rmdir(p string) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	r, n, err := f.lookup(s.abs(p), false)
	if err != nil {
		return err
	}
	switch {
	case !n.Mode.IsDir():
		return ErrNotDir
	case r == "/":
		return ErrPermission
	case len(f.children(r)) > 0:
		return ErrNotEmpty
	}
	if err := f.parentWritable(s.cred, r); err != nil {
		return err
	}
	delete(f.nodes, r)
	f.dirty = true
	return nil
}

// Rename is rename(2) when replace is set: the node at from moves to to,
// replacing a file or an empty directory there. Without replace an
// existing target is an error, as with link(2) then unlink(2), which
// OpenSSH's sftp-server uses.
func (s *Session) Rename(from, to string, replace bool) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, sn, err := f.lookup(s.abs(from), false)
	if err != nil {
		return err
	}
	dst := s.abs(to)
	if len(dst) > maxPathLen {
		return ErrNameTooLong
	}
	rd, err := f.resolve(dst, false)
	if err != nil {
		return err
	}
	if rd == rs {
		return nil
	}
	if rs == "/" || strings.HasPrefix(rd, rs+"/") {
		return ErrInvalid
	}
	if err := f.parentWritable(s.cred, rs); err != nil {
		return err
	}
	if err := f.parentWritable(s.cred, rd); err != nil {
		return err
	}
	if dn := f.nodes[rd]; dn != nil {
		switch {
		case !replace:
			return ErrExist
		case sn.Mode.IsDir() && !dn.Mode.IsDir():
			return ErrNotDir
		case !sn.Mode.IsDir() && dn.Mode.IsDir():
			return ErrIsDir
		case dn.Mode.IsDir() && len(f.children(rd)) > 0:
			return ErrNotEmpty
		}
		f.total -= int64(len(dn.Data))
		delete(f.nodes, rd)
	}
	moved := map[string]*Node{}
	for q, m := range f.nodes {
		if q == rs || strings.HasPrefix(q, rs+"/") {
			moved[rd+strings.TrimPrefix(q, rs)] = m
			delete(f.nodes, q)
		}
	}
	for q, m := range moved {
		f.nodes[q] = m
	}
	f.dirty = true
	return nil
}

// owned returns the node at p for a change only its owner (or root) may
// make.
func (s *Session) owned(p string, follow bool) (*Node, error) {
	_, n, err := s.fs.lookup(s.abs(p), follow)
	if err != nil {
		return nil, err
	}
	if s.cred.uid != 0 && s.cred.uid != n.UID {
		return nil, ErrNotPermitted
	}
	return n, nil
}

// Chmod sets the permission bits of the node at p; with follow unset a
// symbolic link itself is meant, which Linux refuses.
func (s *Session) Chmod(p string, perm fs.FileMode, follow bool) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := s.owned(p, follow)
	if err != nil {
		return err
	}
	if n.Mode&fs.ModeSymlink != 0 {
		return ErrNotSupported
	}
	n.Mode = n.Mode.Type() | perm.Perm()
	f.dirty = true
	return nil
}

// Chtimes sets the modification time of the node at p.
func (s *Session) Chtimes(p string, mtime time.Time, follow bool) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := s.owned(p, follow)
	if err != nil {
		return err
	}
	n.MTime = mtime.UTC()
	f.dirty = true
	return nil
}

// Chown sets the owner and group of the node at p: root may give anything
// away, others may only pick one of their groups for their own files.
func (s *Session) Chown(p string, uid, gid int, follow bool) error {
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	_, n, err := f.lookup(s.abs(p), follow)
	if err != nil {
		return err
	}
	if s.cred.uid != 0 && (uid != n.UID || n.UID != s.cred.uid || !s.cred.inGroup(gid)) {
		return ErrNotPermitted
	}
	n.UID, n.GID = uid, gid
	f.dirty = true
	return nil
}

// RealPath resolves p to a canonical absolute path, following every
// symbolic link; the last component need not exist.
func (s *Session) RealPath(p string) (string, error) {
	f := s.fs
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.resolve(s.abs(p), true)
}

// UserName is the account name of uid, or the number when there is none.
func (s *Session) UserName(uid int) string { return s.fs.userName(uid) }

// GroupName is the group name of gid, or the number when there is none.
func (s *Session) GroupName(gid int) string { return s.fs.groupName(gid) }

// LookupUser returns the home directory of an account, false when there
// is no such account.
func (s *Session) LookupUser(name string) (home string, ok bool) {
	u, ok := s.fs.userByName(name)
	return u.home, ok
}

// DiskUsage is the size and use of the root filesystem in KiB, as df
// shows them.
func (s *Session) DiskUsage() (sizeKB, usedKB int64) {
	m := s.sys.machine()
	s.fs.mu.RLock()
	defer s.fs.mu.RUnlock()
	return m.diskKB, m.baseUse + s.fs.total/1024
}

// Words expands line as bash would expand a simple command (variables,
// quotes, ~, command substitution and globs) and returns its words. ok is
// false for anything but one simple command without redirections or
// assignments.
func (s *Session) Words(ctx context.Context, line string) (words []string, ok bool) {
	script, err := parse(line)
	if err != nil || len(script) != 1 || len(script[0].cmds) != 1 || script[0].next != "" {
		return nil, false
	}
	c := script[0].cmds[0]
	if len(c.redirs) > 0 || len(c.assigns) > 0 {
		return nil, false
	}
	for _, w := range c.args {
		words = append(words, s.expand(ctx, w)...)
	}
	return words, len(words) > 0
}

// Link is link(2): a second name for the file at old. Directories cannot
// be linked.
func (s *Session) Link(old, p string) error {
	f := s.fs
	f.mu.RLock()
	_, n, err := f.lookup(s.abs(old), false)
	var cp Node
	if err == nil {
		cp = *n
	}
	f.mu.RUnlock()
	if err != nil {
		return err
	}
	if cp.Mode.IsDir() {
		return ErrNotPermitted
	}
	// The node is copied, not shared: the filesystem has no inodes. Its
	// bytes are shared until either name is written, as writes replace
	// them.
	if err := s.create(p, &cp); err != nil {
		return err
	}
	f.mu.Lock()
	f.total += int64(len(cp.Data))
	f.mu.Unlock()
	return nil
}

// ModeString is ls's mode column for m, e.g. drwxr-xr-x.
func ModeString(m fs.FileMode) string { return modeString(m) }

// PID is the process id of the session's login shell; sshd's processes
// for the session are the two below it.
func (s *Session) PID() int { return s.pid }

// SetEnv exports a variable into the session, as sshd does for
// SSH_AUTH_SOCK and DISPLAY before the shell starts.
func (s *Session) SetEnv(name, value string) {
	if validName(name) {
		s.setExport(name, value)
	}
}
