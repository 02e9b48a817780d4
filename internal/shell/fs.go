package shell

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/artifact"
	"decnet/internal/atomicfile"
	"decnet/internal/flock"
)

// Size limits of a decky's filesystem. They are variables so tests can lower
// them; the runtime never changes them.
var (
	MaxFileSize  int64 = 1 << 20  // one file
	MaxTotalSize int64 = 32 << 20 // all file contents together
	MaxNodes           = 20000    // files, directories and links
)

// Errors of filesystem operations. Commands turn them into the message the
// real tool prints (strerror text).
var (
	ErrNotExist   = errors.New("No such file or directory")
	ErrExist      = errors.New("File exists")
	ErrNotDir     = errors.New("Not a directory")
	ErrIsDir      = errors.New("Is a directory")
	ErrPermission = errors.New("Permission denied")
	ErrNoSpace    = errors.New("No space left on device")
	ErrTooBig     = errors.New("File too large")
	ErrNotEmpty   = errors.New("Directory not empty")
	ErrLoop       = errors.New("Too many levels of symbolic links")
)

// Node is one file, directory or symbolic link.
type Node struct {
	Mode   fs.FileMode `json:"mode"` // type bits and permissions, as io/fs
	UID    int         `json:"uid"`
	GID    int         `json:"gid"`
	MTime  time.Time   `json:"mtime"`
	Data   []byte      `json:"data,omitempty"`
	Target string      `json:"target,omitempty"` // symlink target
	// VSize is the size of a seeded binary whose bytes are generated on
	// read rather than stored, so /usr/bin can look full at no cost.
	VSize int64 `json:"vsize,omitempty"`
}

// Size is the size ls shows.
func (n *Node) Size() int64 {
	switch {
	case n.Mode.IsDir():
		return 4096
	case n.Mode&fs.ModeSymlink != 0:
		return int64(len(n.Target))
	case n.VSize > 0:
		return n.VSize
	}
	return int64(len(n.Data))
}

// FS is one decky's filesystem, shared by all its sessions and persisted
// under its directory so an attacker finds their files on the next visit.
//
// Other processes may use the same directory at the same time (the ssh and
// telnet services of a docker decky, each in its container; or two FS
// values in one process). Each keeps the filesystem in memory, rereads the
// snapshot when another saved it (refresh: at login and before each
// command line) and saves under a file lock, merging its own changes into
// the snapshot on disk if that changed since it last read it, so changes
// made at the same time by two processes all survive.
type FS struct {
	dir string
	sys System
	art *artifact.Store

	mu    sync.RWMutex
	nodes map[string]*Node
	total int64
	boot  time.Time
	last  map[string]lastLogin
	wtmp  []wtmpEntry    // terminal logins, oldest first
	live  map[int64]bool // wtmp entries of sessions still open
	dirty bool
	saved time.Time
	// programs is the programsVersion of the installed programs.
	programs int
	// disk is the snapshot file as this process last read or wrote it,
	// and base the nodes it held: where nodes differ from base, this
	// process changed them since.
	disk os.FileInfo
	base map[string]Node

	sessMu   sync.Mutex
	sessions int
	nextPID  int
}

// snapshot is the persisted form of an FS. The boot time is not in it:
// it is recomputed at every Open (see System.Boot), so a snapshot written
// by an older version, which held a random boot time, simply loses it.
type snapshot struct {
	Nodes map[string]*Node     `json:"nodes"`
	Last  map[string]lastLogin `json:"lastlog,omitempty"`
	Wtmp  []wtmpEntry          `json:"wtmp,omitempty"`
	// Programs is the programsVersion of the programs installed (0: a
	// snapshot written before the number existed).
	Programs int `json:"programs,omitempty"`
}

// lastLogin is a user's previous login, for "Last login:".
type lastLogin struct {
	Time time.Time `json:"time"`
	From string    `json:"from"`
}

// DirName is the directory of a decky's filesystem in its shared
// directory (service.Host.SharedDir): one for all its login services.
const DirName = "shell"

const (
	snapshotName = "fs.json"
	// lockName is the file lock a process holds from reading the snapshot
	// to replacing it when it saves.
	lockName = "fs.lock"
	// lockWait bounds the wait for another process's save, which holds
	// the lock for milliseconds: past it the save fails.
	lockWait = 10 * time.Second
)

// Open loads the filesystem kept under dir, or seeds a new one for sys when
// there is none. dir is created if needed.
func Open(dir string, sys System) (*FS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	art, err := artifact.Open(filepath.Join(dir, "artifacts"))
	if err != nil {
		return nil, err
	}
	sys = sys.normalize()
	f := &FS{dir: dir, sys: sys, art: art, nodes: map[string]*Node{}, boot: sys.Boot, live: map[int64]bool{}}
	if f.boot.IsZero() {
		f.boot = archetype.Boot(sys.Hostname, time.Now())
	}
	// Under the lock, so that of two processes opening a new directory
	// one seeds it and the other loads that seed.
	unlock, err := f.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	snap, fi, err := f.read()
	switch {
	case err == nil:
		f.merge(snap, fi)
		f.rebooted()
		if f.wtmp == nil {
			f.wtmpFromLastlog()
		}
		if f.programs < programsVersion {
			f.addPrograms()
		}
	case errors.Is(err, os.ErrNotExist):
		seed(f, sys)
		seedLastLogin(f, f.boot.Add(2*time.Hour+17*time.Minute))
		f.wtmpFromLastlog()
		f.dirty = true
		if err := f.save(); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	f.nextPID = 1000 + int(time.Since(f.boot)/(37*time.Second))%28000
	return f, nil
}

// bootMounts are the kernel and tmpfs mounts a boot recreates: their
// directories carry the boot time, as on a real machine.
var bootMounts = []string{"/proc", "/sys", "/dev", "/run"}

// rebooted dates the boot-time mounts of a loaded filesystem at the current
// boot, which is later than the one they were seeded with once the decky has
// gone through a reboot cycle.
func (f *FS) rebooted() {
	paths := append([]string(nil), bootMounts...)
	for _, name := range procFiles {
		paths = append(paths, "/proc/"+name)
	}
	for _, p := range paths {
		if n := f.nodes[p]; n != nil && n.MTime.Before(f.boot) {
			n.MTime = f.boot
			f.dirty = true
		}
	}
}

// System returns the machine the filesystem belongs to.
func (f *FS) System() System { return f.sys }

// Boot returns the machine's boot time, stable across sessions and restarts.
func (f *FS) Boot() time.Time { return f.boot }

// Flush writes the filesystem to disk if it changed, atomically.
func (f *FS) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushLocked()
}

func (f *FS) flushLocked() error {
	if !f.dirty {
		return nil
	}
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return f.save()
}

// maybeFlush saves at most every few seconds, so a stream of uploads does
// not rewrite the snapshot for every file.
func (f *FS) maybeFlush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dirty && time.Since(f.saved) > 3*time.Second {
		f.flushLocked()
	}
}

// refresh takes in what another process saved since this one last read or
// wrote the snapshot, keeping this process's unsaved changes on top. When
// nothing changed it costs one stat.
func (f *FS) refresh() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(f.snapshotPath()); err != nil || atomicfile.SameVersion(fi, f.disk) {
		return
	}
	// A snapshot that cannot be read is left alone: the next save
	// replaces it.
	if snap, fi, err := f.read(); err == nil {
		f.merge(snap, fi)
	}
}

func (f *FS) snapshotPath() string { return filepath.Join(f.dir, snapshotName) }

// lock takes the file lock of the snapshot.
func (f *FS) lock() (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err = flock.Lock(ctx, filepath.Join(f.dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("shell: lock %s: %w", f.dir, err)
	}
	return unlock, nil
}

// read loads the snapshot with the file it was read from.
func (f *FS) read() (snapshot, os.FileInfo, error) {
	file, err := os.Open(f.snapshotPath())
	if err != nil {
		return snapshot{}, nil, fmt.Errorf("shell: %w", err)
	}
	defer file.Close()
	// The descriptor's stat is of the bytes read, even if a save
	// replaces the name meanwhile.
	fi, err := file.Stat()
	if err != nil {
		return snapshot{}, nil, fmt.Errorf("shell: %w", err)
	}
	var snap snapshot
	if err := json.NewDecoder(file).Decode(&snap); err != nil {
		return snapshot{}, nil, fmt.Errorf("shell: read snapshot: %w", err)
	}
	if snap.Nodes["/"] == nil {
		return snapshot{}, nil, fmt.Errorf("shell: snapshot %s has no root", f.dir)
	}
	return snap, fi, nil
}

// save writes the filesystem, merged first into the snapshot on disk when
// another process saved since this one last read or wrote it. Callers
// hold f.mu and the file lock.
func (f *FS) save() error {
	if fi, err := os.Stat(f.snapshotPath()); err == nil && !atomicfile.SameVersion(fi, f.disk) {
		// One that cannot be read is replaced by this whole filesystem.
		if snap, fi, err := f.read(); err == nil {
			f.merge(snap, fi)
		}
	}
	b, err := json.Marshal(snapshot{Nodes: f.nodes, Last: f.last, Wtmp: f.wtmp, Programs: f.programs})
	if err != nil {
		return fmt.Errorf("shell: snapshot: %w", err)
	}
	if err := atomicfile.Write(f.snapshotPath(), b, 0o600); err != nil {
		return err
	}
	// Nobody else writes while the lock is held: this is our file.
	fi, err := os.Stat(f.snapshotPath())
	if err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	f.disk, f.base = fi, values(f.nodes)
	f.dirty = false
	f.saved = time.Now()
	return nil
}

// merge makes snap, read from the file fi, the filesystem, with this
// process's changes since its last read or write on top: a path changed
// here gets this process's version, except that a file both sides only
// appended to keeps both appends (two logins adding their user to
// /etc/passwd), and what was created here in a directory removed there
// goes with it. Logins are united. Callers hold f.mu.
func (f *FS) merge(snap snapshot, fi os.FileInfo) {
	base := values(snap.Nodes)
	nodes := snap.Nodes
	if f.dirty {
		changed := f.changed()
		for _, p := range changed {
			nodes[p] = mergeNode(f.base[p], f.nodes[p], nodes[p])
			if nodes[p] == nil {
				delete(nodes, p)
			}
		}
		if len(changed) > 0 {
			prune(nodes)
		}
	}
	f.nodes, f.base, f.disk = nodes, base, fi
	f.total = 0
	for _, n := range nodes {
		f.total += int64(len(n.Data))
	}
	f.last = mergeLast(snap.Last, f.last)
	f.wtmp = mergeWtmp(snap.Wtmp, f.wtmp)
	f.programs = max(f.programs, snap.Programs)
}

// addPrograms installs into a filesystem saved with an older program set
// the files of the programs added since, dated like the others. Paths that
// exist are left as they are, an attacker's replacements included; a
// program of the old set the attacker deleted comes back, as a package
// upgrade would bring it back.
func (f *FS) addPrograms() {
	t := f.boot
	for _, p := range []string{"/usr/bin/ls", "/bin/busybox", "/bin/ls"} {
		if n := f.nodes[p]; n != nil && n.Mode.IsRegular() {
			t = n.MTime
			break
		}
	}
	installPrograms(func(p string, n *Node) {
		if _, ok := f.nodes[p]; !ok {
			f.put(p, n)
		}
	}, f.sys.distro(), t)
	f.programs = programsVersion
	f.dirty = true
}

// changed returns the paths whose node this process changed (created,
// modified or removed) since its last read or write. Callers hold f.mu.
func (f *FS) changed() []string {
	var out []string
	for p, n := range f.nodes {
		if b, ok := f.base[p]; !ok || !b.same(n) {
			out = append(out, p)
		}
	}
	for p := range f.base {
		if f.nodes[p] == nil {
			out = append(out, p)
		}
	}
	return out
}

// mergeNode is the node at a path this process changed from base (the
// zero Node when it was not there) to ours (nil: removed) while the
// snapshot on disk has theirs.
func mergeNode(base Node, ours, theirs *Node) *Node {
	if ours == nil || theirs == nil || bytes.Equal(ours.Data, theirs.Data) {
		return ours
	}
	isFile := func(n Node) bool { return n.Mode.IsRegular() && n.VSize == 0 }
	if !isFile(base) || !isFile(*ours) || !isFile(*theirs) ||
		!bytes.HasPrefix(ours.Data, base.Data) || !bytes.HasPrefix(theirs.Data, base.Data) {
		return ours
	}
	data := append(slices.Clip(theirs.Data), ours.Data[len(base.Data):]...)
	if int64(len(data)) > MaxFileSize {
		return ours
	}
	n := *ours
	n.Data = data
	if theirs.MTime.After(n.MTime) {
		n.MTime = theirs.MTime
	}
	return &n
}

// prune removes the nodes whose parent is gone or no directory.
func prune(nodes map[string]*Node) {
	// Sorted, a directory comes before what is in it.
	for _, p := range slices.Sorted(maps.Keys(nodes)) {
		if parent := nodes[path.Dir(p)]; p != "/" && (parent == nil || !parent.Mode.IsDir()) {
			delete(nodes, p)
		}
	}
}

// mergeLast keeps each user's latest login of a and b.
func mergeLast(a, b map[string]lastLogin) map[string]lastLogin {
	out := make(map[string]lastLogin, len(a))
	for _, m := range []map[string]lastLogin{a, b} {
		for u, l := range m {
			if o, ok := out[u]; !ok || l.Time.After(o.Time) {
				out[u] = l
			}
		}
	}
	return out
}

// mergeWtmp unites the logins of a and b, a login closed on either side
// closed, and keeps the latest maxWtmp.
func mergeWtmp(a, b []wtmpEntry) []wtmpEntry {
	byID := map[int64]wtmpEntry{}
	for _, e := range slices.Concat(a, b) {
		if o, ok := byID[e.ID]; !ok || e.Logout.After(o.Logout) {
			byID[e.ID] = e
		}
	}
	out := slices.SortedFunc(maps.Values(byID), func(x, y wtmpEntry) int {
		return cmp.Or(x.Login.Compare(y.Login), cmp.Compare(x.ID, y.ID))
	})
	return out[max(0, len(out)-maxWtmp):]
}

// values copies the nodes of m: the base later changes are found against.
func values(m map[string]*Node) map[string]Node {
	out := make(map[string]Node, len(m))
	for p, n := range m {
		out[p] = *n
	}
	return out
}

// same reports whether n is unchanged from b. Data is replaced by writes,
// never changed in place, so an unchanged file's bytes are the same slice
// and compare at once.
func (b Node) same(n *Node) bool {
	return b.Mode == n.Mode && b.UID == n.UID && b.GID == n.GID && b.MTime.Equal(n.MTime) &&
		b.Target == n.Target && b.VSize == n.VSize && bytes.Equal(b.Data, n.Data)
}

// --- path resolution (callers hold f.mu) ---

// resolve follows symlinks in every component of p (absolute, cleaned) and,
// when follow is set, in the last one too. It returns the canonical path.
func (f *FS) resolve(p string, follow bool) (string, error) {
	return f.resolveDepth(p, follow, 0)
}

func (f *FS) resolveDepth(p string, follow bool, depth int) (string, error) {
	if depth > 40 {
		return "", ErrLoop
	}
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		n := f.nodes[next]
		last := i == len(parts)-1
		if n == nil {
			if last {
				return next, nil // may be created
			}
			return "", ErrNotExist
		}
		if n.Mode&fs.ModeSymlink != 0 && (!last || follow) {
			t := n.Target
			if !path.IsAbs(t) {
				t = path.Join(cur, t)
			}
			r, err := f.resolveDepth(t, true, depth+1)
			if err != nil {
				return "", err
			}
			next = r
			n = f.nodes[next]
		}
		if !last && (n == nil || !n.Mode.IsDir()) {
			if n == nil {
				return "", ErrNotExist
			}
			return "", ErrNotDir
		}
		cur = next
	}
	return cur, nil
}

// lookup returns the node at p, following symlinks when follow is set.
func (f *FS) lookup(p string, follow bool) (string, *Node, error) {
	r, err := f.resolve(p, follow)
	if err != nil {
		return "", nil, err
	}
	n := f.nodes[r]
	if n == nil {
		return r, nil, ErrNotExist
	}
	return r, n, nil
}

// children lists the names in directory d, sorted.
func (f *FS) children(d string) []string {
	prefix := d
	if d != "/" {
		prefix += "/"
	}
	var out []string
	for p := range f.nodes {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, p[len(prefix):])
		}
	}
	sort.Strings(out)
	return out
}

// --- permission checks ---

func (n *Node) allows(c cred, bit fs.FileMode) bool {
	if c.uid == 0 {
		return bit != 1 || n.Mode&0o111 != 0 || n.Mode.IsDir()
	}
	switch {
	case n.UID == c.uid:
		return n.Mode&(bit<<6) != 0
	case c.inGroup(n.GID):
		return n.Mode&(bit<<3) != 0
	}
	return n.Mode&bit != 0
}

// cred is who performs an operation.
type cred struct {
	uid, gid int
	groups   []int
}

func (c cred) inGroup(g int) bool {
	if c.gid == g {
		return true
	}
	for _, x := range c.groups {
		if x == g {
			return true
		}
	}
	return false
}

// --- operations (exported through Session commands) ---

// stat returns a copy of the node at p.
func (f *FS) stat(p string, follow bool) (string, Node, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, n, err := f.lookup(p, follow)
	if err != nil {
		return r, Node{}, err
	}
	return r, *n, nil
}

// readFile returns the contents of the file at p as c.
func (f *FS) readFile(c cred, p string) ([]byte, error) {
	f.mu.RLock()
	r, n, err := f.lookup(p, true)
	if err != nil {
		f.mu.RUnlock()
		return nil, err
	}
	if n.Mode.IsDir() {
		f.mu.RUnlock()
		return nil, ErrIsDir
	}
	if !n.allows(c, 4) {
		f.mu.RUnlock()
		return nil, ErrPermission
	}
	data, vsize := n.Data, n.VSize
	f.mu.RUnlock()
	if gen := virtualFile(f, r); gen != nil {
		return gen, nil
	}
	if vsize > 0 {
		return binaryBytes(r, vsize), nil
	}
	return append([]byte(nil), data...), nil
}

// readDir lists the directory at p (following links) as c.
func (f *FS) readDir(c cred, p string) (string, []string, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, n, err := f.lookup(p, true)
	if err != nil {
		return "", nil, err
	}
	if !n.Mode.IsDir() {
		return r, nil, ErrNotDir
	}
	if !n.allows(c, 4) {
		return r, nil, ErrPermission
	}
	return r, f.children(r), nil
}

// parentWritable checks that the directory holding r exists and c may
// create entries in it.
func (f *FS) parentWritable(c cred, r string) error {
	pn := f.nodes[path.Dir(r)]
	if pn == nil {
		return ErrNotExist
	}
	if !pn.Mode.IsDir() {
		return ErrNotDir
	}
	if !pn.allows(c, 2) {
		return ErrPermission
	}
	return nil
}

// writeFile creates or replaces (or appends to) the file at p as c and
// returns the file's new contents and canonical path.
func (f *FS) writeFile(c cred, p string, data []byte, appendTo bool, now time.Time) (string, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(p, true)
	if err != nil {
		return "", nil, err
	}
	n := f.nodes[r]
	if n != nil {
		if n.Mode.IsDir() {
			return r, nil, ErrIsDir
		}
		if !n.allows(c, 2) {
			return r, nil, ErrPermission
		}
	} else {
		if err := f.parentWritable(c, r); err != nil {
			return r, nil, err
		}
		if len(f.nodes) >= MaxNodes {
			return r, nil, ErrNoSpace
		}
	}
	var old []byte
	if n != nil {
		old = n.Data
	}
	nd := data
	if appendTo {
		nd = append(append([]byte(nil), old...), data...)
	}
	if int64(len(nd)) > MaxFileSize {
		return r, nil, ErrTooBig
	}
	if f.total-int64(len(old))+int64(len(nd)) > MaxTotalSize {
		return r, nil, ErrNoSpace
	}
	if n == nil {
		n = &Node{Mode: 0o644, UID: c.uid, GID: c.gid}
		f.nodes[r] = n
	}
	f.total += int64(len(nd)) - int64(len(old))
	n.Data = append([]byte(nil), nd...)
	n.VSize = 0
	n.MTime = now
	f.dirty = true
	return r, n.Data, nil
}

// touch creates an empty file or updates a node's time.
func (f *FS) touch(c cred, p string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(p, true)
	if err != nil {
		return err
	}
	if n := f.nodes[r]; n != nil {
		if !n.allows(c, 2) && c.uid != n.UID {
			return ErrPermission
		}
		n.MTime = now
		f.dirty = true
		return nil
	}
	if err := f.parentWritable(c, r); err != nil {
		return err
	}
	if len(f.nodes) >= MaxNodes {
		return ErrNoSpace
	}
	f.nodes[r] = &Node{Mode: 0o644, UID: c.uid, GID: c.gid, MTime: now}
	f.dirty = true
	return nil
}

// mkdir creates one directory.
func (f *FS) mkdir(c cred, p string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(p, false)
	if err != nil {
		return err
	}
	if f.nodes[r] != nil {
		return ErrExist
	}
	if err := f.parentWritable(c, r); err != nil {
		return err
	}
	if len(f.nodes) >= MaxNodes {
		return ErrNoSpace
	}
	f.nodes[r] = &Node{Mode: fs.ModeDir | 0o755, UID: c.uid, GID: c.gid, MTime: now}
	f.dirty = true
	return nil
}

// remove deletes the node at p (not following a final symlink); with
// recursive set a directory goes with everything below it.
func (f *FS) remove(c cred, p string, recursive bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, n, err := f.lookup(p, false)
	if err != nil {
		return err
	}
	if r == "/" {
		return ErrPermission
	}
	if n.Mode.IsDir() {
		if !recursive {
			return ErrIsDir
		}
		if c.uid != 0 && len(f.children(r)) > 0 && !n.allows(c, 2) {
			return ErrPermission
		}
	}
	if err := f.parentWritable(c, r); err != nil {
		return err
	}
	prefix := r + "/"
	for q, m := range f.nodes {
		if q == r || strings.HasPrefix(q, prefix) {
			f.total -= int64(len(m.Data))
			delete(f.nodes, q)
		}
	}
	f.dirty = true
	return nil
}

// rename moves a node (and what is below it) from src to dst.
func (f *FS) rename(c cred, src, dst string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, _, err := f.lookup(src, false)
	if err != nil {
		return err
	}
	rd, err := f.resolve(dst, true)
	if err != nil {
		return err
	}
	if dn := f.nodes[rd]; dn != nil && dn.Mode.IsDir() {
		rd = path.Join(rd, path.Base(rs))
	}
	if rd == rs {
		return nil
	}
	if strings.HasPrefix(rd, rs+"/") || rs == "/" {
		return errors.New("Invalid argument")
	}
	if err := f.parentWritable(c, rs); err != nil {
		return err
	}
	if err := f.parentWritable(c, rd); err != nil {
		return err
	}
	if dn := f.nodes[rd]; dn != nil {
		if dn.Mode.IsDir() {
			return ErrIsDir
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
	f.nodes[rd].MTime = now
	f.dirty = true
	return nil
}

// chmod sets a node's permission bits.
func (f *FS) chmod(c cred, p string, mode func(fs.FileMode) fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, n, err := f.lookup(p, true)
	if err != nil {
		return err
	}
	if c.uid != 0 && c.uid != n.UID {
		return errors.New("Operation not permitted")
	}
	n.Mode = n.Mode.Type() | mode(n.Mode.Perm())&fs.ModePerm
	f.dirty = true
	return nil
}

// put installs a node as the seed does, without checks.
func (f *FS) put(p string, n *Node) {
	f.nodes[p] = n
	f.total += int64(len(n.Data))
}
