package ftp

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// Errors of tree operations. Commands map them all to vsftpd's one
// failure text per command, as vsftpd does with errno.
var (
	errNotExist = errors.New("no such file or directory")
	errPerm     = errors.New("permission denied")
	errNotDir   = errors.New("not a directory")
	errIsDir    = errors.New("is a directory")
	errExist    = errors.New("file exists")
	errNotEmpty = errors.New("directory not empty")
	errLoop     = errors.New("too many levels of symbolic links")
	errNoSpace  = errors.New("no space left on device")
	errInvalid  = errors.New("invalid argument")
)

// Bounds of a decky's tree, so a loop of MKD or STOU cannot grow it
// without end.
const (
	maxNodes   = 4096
	maxNameLen = 255
	maxHops    = 8 // symbolic links followed in one lookup (Linux allows 40)
)

// part is a piece of an uploaded file, kept in the artifact store.
type part struct {
	stored string // name in the artifact directory; "" when not kept
	size   int64
}

// node is one file, directory or symbolic link of the fake tree.
type node struct {
	mode     fs.FileMode
	uid, gid int
	mtime    time.Time
	data     []byte // a bait file's bytes
	parts    []part // uploaded bytes, after data
	target   string // a symbolic link's target
	kids     map[string]*node
}

func (n *node) isDir() bool  { return n.mode.IsDir() }
func (n *node) isLink() bool { return n.mode&fs.ModeSymlink != 0 }
func (n *node) isFile() bool { return n.mode.IsRegular() }

func (n *node) size() int64 {
	switch {
	case n.isDir():
		return 4096
	case n.isLink():
		return int64(len(n.target))
	}
	s := int64(len(n.data))
	for _, p := range n.parts {
		s += p.size
	}
	return s
}

// info is a node's stat as ls shows it, copied under the tree's lock.
type info struct {
	mode     fs.FileMode
	nlink    int
	uid, gid int
	size     int64
	mtime    time.Time
	target   string
}

func (n *node) info() info {
	nlink := 1
	if n.isDir() {
		nlink = 2
		for _, k := range n.kids {
			if k.isDir() {
				nlink++
			}
		}
	}
	return info{mode: n.mode, nlink: nlink, uid: n.uid, gid: n.gid, size: n.size(), mtime: n.mtime, target: n.target}
}

// cred is who asks: the permission bits are checked as the kernel checks
// them for a process with these ids.
type cred struct{ uid, gid int }

// Permission bits, as in access(2).
const (
	permR fs.FileMode = 4
	permW fs.FileMode = 2
	permX fs.FileMode = 1
)

func (c cred) can(n *node, want fs.FileMode) bool {
	switch {
	case c.uid == 0:
		return true
	case n.uid == c.uid:
		return n.mode.Perm()>>6&want == want
	case n.gid == c.gid:
		return n.mode.Perm()>>3&want == want
	}
	return n.mode.Perm()&want == want
}

// tree is one decky's fake filesystem, shared by its sessions, so a file
// one session uploads is in the next one's listing (until a restart).
type tree struct {
	mu    sync.Mutex
	root  *node
	count int
}

func newTree(t time.Time) *tree {
	return &tree{root: &node{mode: fs.ModeDir | 0o755, mtime: t, kids: map[string]*node{}}, count: 1}
}

// view is a session's window on the tree: a chroot (the anonymous root,
// or / for local users) and the session's credentials.
type view struct {
	t      *tree
	chroot string // tree path of the view's /
	c      cred
}

// abs returns the clean absolute view path of p relative to cwd, or ""
// for an empty p, which names nothing (as chdir("") and open("") fail).
func abs(cwd, p string) string {
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean("/" + p)
}

// top returns the view's root node, or an empty directory if the chroot
// is gone: never the tree's root, which the chroot must hide. Callers
// hold t.mu.
func (v view) top() *node {
	n, _, err := v.t.walk(v.t.root, v.chroot, cred{}, true)
	if err != nil || !n.isDir() {
		return &node{mode: fs.ModeDir | 0o755, kids: map[string]*node{}}
	}
	return n
}

// walk looks up p (absolute, clean) from root as path resolution does:
// search permission on every directory crossed, symbolic links followed
// (a final one only with follow), absolute targets from root. It returns
// the node and its path with links resolved. Callers hold t.mu.
func (t *tree) walk(root *node, p string, c cred, follow bool) (*node, string, error) {
	if p == "" {
		return nil, "", errNotExist
	}
	comps := splitPath(p)
	cur, curPath := root, "/"
	for i, hops := 0, 0; i < len(comps); i++ {
		if !cur.isDir() {
			return nil, "", errNotDir
		}
		if !c.can(cur, permX) {
			return nil, "", errPerm
		}
		kid := cur.kids[comps[i]]
		if kid == nil {
			return nil, "", errNotExist
		}
		if kid.isLink() && (i < len(comps)-1 || follow) {
			if hops++; hops > maxHops {
				return nil, "", errLoop
			}
			rest := strings.Join(comps[i+1:], "/")
			next := kid.target + "/" + rest
			if !strings.HasPrefix(kid.target, "/") {
				next = curPath + "/" + next
			}
			comps, cur, curPath, i = splitPath(path.Clean("/"+next)), root, "/", -1
			continue
		}
		cur, curPath = kid, path.Join(curPath, comps[i])
	}
	return cur, curPath, nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookup resolves the view path p. Callers hold t.mu.
func (v view) lookup(p string, follow bool) (*node, string, error) {
	return v.t.walk(v.top(), p, v.c, follow)
}

// parent resolves the directory that holds p and checks the caller may
// change it. It returns the directory, its path with links resolved and
// the entry's name. Callers hold t.mu.
func (v view) parent(p string) (*node, string, string, error) {
	name := path.Base(p)
	if p == "" {
		return nil, "", "", errNotExist
	}
	if p == "/" || len(name) > maxNameLen {
		return nil, "", "", errInvalid
	}
	dir, real, err := v.lookup(path.Dir(p), true)
	switch {
	case err != nil:
		return nil, "", "", err
	case !dir.isDir():
		return nil, "", "", errNotDir
	case !v.c.can(dir, permW|permX):
		return nil, "", "", errPerm
	}
	return dir, real, name, nil
}

// stat returns the info of p, links followed.
func (v view) stat(p string) (info, error) {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, _, err := v.lookup(p, true)
	if err != nil {
		return info{}, err
	}
	return n.info(), nil
}

// chdir returns the directory p names, links resolved as getcwd would
// show it, if the caller may search it.
func (v view) chdir(p string) (string, error) {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, real, err := v.lookup(p, true)
	switch {
	case err != nil:
		return "", err
	case !n.isDir():
		return "", errNotDir
	case !v.c.can(n, permX):
		return "", errPerm
	}
	return real, nil
}

// entry is one name of a directory listing.
type entry struct {
	name string
	info info
}

// readDir lists the directory p with "." and "..", as readdir returns
// them, or fails as opendir would.
func (v view) readDir(p string) ([]entry, error) {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, real, err := v.lookup(p, true)
	switch {
	case err != nil:
		return nil, err
	case !n.isDir():
		return nil, errNotDir
	case !v.c.can(n, permR):
		return nil, errPerm
	}
	up, _, err := v.lookup(path.Dir(real), true)
	if err != nil {
		up = n
	}
	out := make([]entry, 0, len(n.kids)+2)
	out = append(out, entry{".", n.info()}, entry{"..", up.info()})
	for name, k := range n.kids {
		out = append(out, entry{name, k.info()})
	}
	return out, nil
}

// open returns what a reader of the regular file p gets.
func (v view) open(p string) (content, error) {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, _, err := v.lookup(p, true)
	switch {
	case err != nil:
		return content{}, err
	case !n.isFile():
		return content{}, errIsDir
	case !v.c.can(n, permR):
		return content{}, errPerm
	}
	return content{data: n.data, parts: append([]part(nil), n.parts...), size: n.size(), mode: n.mode}, nil
}

// content is a file's bytes at one moment: bait bytes in memory or the
// stored parts of an upload.
type content struct {
	data  []byte
	parts []part
	size  int64
	mode  fs.FileMode
}

// add inserts a new node under its parent. Callers hold t.mu.
func (v view) add(p string, n *node) error {
	dir, _, name, err := v.parent(p)
	if err != nil {
		return err
	}
	if dir.kids[name] != nil {
		return errExist
	}
	if v.t.count >= maxNodes {
		return errNoSpace
	}
	dir.kids[name] = n
	dir.mtime = n.mtime
	v.t.count++
	return nil
}

// mkdir makes the directory p with mode perm.
func (v view) mkdir(p string, perm fs.FileMode, now time.Time) error {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	return v.add(p, &node{mode: fs.ModeDir | perm, uid: v.c.uid, gid: v.c.gid, mtime: now, kids: map[string]*node{}})
}

// mayRemove is the sticky-directory rule: only the owner of the entry or
// of the directory may remove it.
func (v view) mayRemove(dir, n *node) bool {
	return dir.mode&fs.ModeSticky == 0 || v.c.uid == 0 || v.c.uid == n.uid || v.c.uid == dir.uid
}

// remove removes p: a directory when dir, else anything but one.
func (v view) remove(p string, dir bool, now time.Time) error {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	parent, _, name, err := v.parent(p)
	if err != nil {
		return err
	}
	n := parent.kids[name]
	switch {
	case n == nil:
		return errNotExist
	case dir && !n.isDir():
		return errNotDir
	case !dir && n.isDir():
		return errIsDir
	case dir && len(n.kids) > 0:
		return errNotEmpty
	case !v.mayRemove(parent, n):
		return errPerm
	}
	delete(parent.kids, name)
	parent.mtime = now
	v.t.count--
	return nil
}

// exists reports whether p names anything (a dangling link included).
func (v view) exists(p string) bool {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	_, _, err := v.lookup(p, false)
	return err == nil
}

// rename moves from to to as rename(2) does, replacing a file or an
// empty directory there.
func (v view) rename(from, to string, now time.Time) error {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	fdir, freal, fname, err := v.parent(from)
	if err != nil {
		return err
	}
	tdir, treal, tname, err := v.parent(to)
	if err != nil {
		return err
	}
	n := fdir.kids[fname]
	if n == nil {
		return errNotExist
	}
	if !v.mayRemove(fdir, n) {
		return errPerm
	}
	// A directory cannot move into itself, whatever links the paths take.
	if src := path.Join(freal, fname); n.isDir() && (treal == src || strings.HasPrefix(treal, src+"/")) {
		return errInvalid
	}
	if old := tdir.kids[tname]; old != nil && old != n {
		switch {
		case old.isDir() && !n.isDir():
			return errIsDir
		case !old.isDir() && n.isDir():
			return errNotDir
		case old.isDir() && len(old.kids) > 0:
			return errNotEmpty
		case !v.mayRemove(tdir, old):
			return errPerm
		}
		v.t.count--
	}
	delete(fdir.kids, fname)
	tdir.kids[tname] = n
	fdir.mtime, tdir.mtime = now, now
	return nil
}

// create opens p for writing as open(O_CREAT) does: a new file with mode
// perm, or with excl an error if p exists; an existing file must be
// writable. truncate empties it. It returns the node the upload fills.
func (v view) create(p string, perm fs.FileMode, excl, truncate bool, now time.Time) (*node, error) {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	if n, _, err := v.lookup(p, true); err == nil {
		switch {
		case excl:
			return nil, errExist
		case n.isDir():
			return nil, errIsDir
		case !v.c.can(n, permW):
			return nil, errPerm
		}
		if truncate {
			n.data, n.parts, n.mtime = nil, nil, now
		}
		return n, nil
	}
	n := &node{mode: perm, uid: v.c.uid, gid: v.c.gid, mtime: now}
	if err := v.add(p, n); err != nil {
		return nil, err
	}
	return n, nil
}

// write records an upload's bytes in n: at the end of what it holds, or
// instead of it.
func (t *tree) write(n *node, p part, appendTo bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !appendTo {
		n.data, n.parts = nil, nil
	}
	n.parts = append(n.parts, p)
	n.mtime = now
}

// chmod sets p's permission bits; only the owner may.
func (v view) chmod(p string, perm fs.FileMode) error {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, _, err := v.lookup(p, true)
	if err != nil {
		return err
	}
	if v.c.uid != 0 && v.c.uid != n.uid {
		return errPerm
	}
	n.mode = n.mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | perm
	return nil
}

// touch sets the regular file p's modification time; the owner or a
// writer may, as with utime(2).
func (v view) touch(p string, t time.Time) error {
	v.t.mu.Lock()
	defer v.t.mu.Unlock()
	n, _, err := v.lookup(p, true)
	switch {
	case err != nil:
		return err
	case !n.isFile():
		return errIsDir
	case v.c.uid != n.uid && !v.c.can(n, permW):
		return errPerm
	}
	n.mtime = t
	return nil
}
