package tftp

import (
	"path"
	"slices"
	"strings"
	"sync"
)

// Linux's limits on what open(2) takes: a path shorter than PATH_MAX and
// components of at most NAME_MAX bytes; past them it fails with
// ENAMETOOLONG.
const (
	pathMax = 4096
	nameMax = 255
)

// dirSize is the size stat(2) gives a small directory on ext4, which
// tftp-hpa reports as its tsize.
const dirSize = 4096

// kind is what a path names in the root.
type kind int

const (
	missing kind = iota
	regular
	directory
)

// lookup is where a request's file name leads, walked as the kernel walks
// it inside tftpd's chroot (--secure): "/" and ".." stop at the root, and
// every component but the last must be a directory.
type lookup struct {
	path string // the clean path from the root, "" for the root itself
	kind kind
	// slash is set when the name ends in a slash after its last component.
	slash bool
	// err is the open(2) error the walk met on the way (ENOENT, ENOTDIR,
	// ENAMETOOLONG), as tftp-hpa answers it; nil when the walk ended.
	err *tftpError
}

// tree is the TFTP root: the bait files, read-only (owned by root), and the
// files clients uploaded, which they may read back and overwrite. Uploads
// live in memory within a byte budget shared with the uploads under way;
// the oldest give way to new ones. It is safe for concurrent use.
type tree struct {
	bait map[string][]byte // clean path -> content
	dirs map[string]bool   // every directory, "" for the root

	mu      sync.Mutex
	budget  int64
	used    int64               // bytes of uploads, kept and under way
	uploads map[string][]byte   // clean path -> content
	order   []string            // uploads, oldest first
	writing map[string]struct{} // paths an upload is writing
}

// newTree holds the bait files (clean relative paths) and keeps at most
// budget bytes of uploads.
func newTree(bait map[string][]byte, budget int64) *tree {
	t := &tree{bait: bait, dirs: map[string]bool{"": true}, budget: budget,
		uploads: map[string][]byte{}, writing: map[string]struct{}{}}
	for p := range bait {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			t.dirs[d] = true
		}
	}
	return t
}

// resolve walks name from the root.
func (t *tree) resolve(name string) lookup {
	if len(name) >= pathMax {
		return lookup{err: &tftpError{errUndef, msgNameTooLong}}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := lookup{kind: directory}
	comps := strings.Split(name, "/")
	for i, c := range comps {
		if c == "" {
			l.slash = i == len(comps)-1 && i > 0
			continue
		}
		if l.kind != directory {
			// A file, or a name that does not exist, with more after it.
			return lookup{err: &tftpError{errNotFound, msgNotFound}}
		}
		if len(c) > nameMax {
			return lookup{err: &tftpError{errUndef, msgNameTooLong}}
		}
		switch c {
		case ".":
		case "..":
			if l.path != "" {
				l.path = path.Dir(l.path)
				if l.path == "." {
					l.path = ""
				}
			}
		default:
			l.path = path.Join(l.path, c)
			l.kind = t.kindLocked(l.path)
		}
	}
	if l.slash && l.kind == regular {
		l.err = &tftpError{errNotFound, msgNotFound} // ENOTDIR
	}
	return l
}

func (t *tree) kindLocked(p string) kind {
	if t.dirs[p] {
		return directory
	}
	if _, ok := t.bait[p]; ok {
		return regular
	}
	if _, ok := t.uploads[p]; ok {
		return regular
	}
	if _, ok := t.writing[p]; ok {
		return regular // created by the upload under way
	}
	return missing
}

// read returns the content of a regular file.
func (t *tree) read(p string) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.uploads[p]; ok {
		return b, true
	}
	b, ok := t.bait[p]
	return b, ok
}

// isBait reports whether p is one of the bait files, which uploads may not
// overwrite.
func (t *tree) isBait(p string) bool {
	_, ok := t.bait[p]
	return ok
}

// lock marks p as being written, false when an upload to it is under way
// (tftp-hpa's lock_file fails, and the duplicate request goes unanswered).
func (t *tree) lock(p string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, busy := t.writing[p]; busy {
		return false
	}
	t.writing[p] = struct{}{}
	return true
}

// unlock ends a write to p that never began.
func (t *tree) unlock(p string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.writing, p)
}

// locked reports whether an upload is writing p.
func (t *tree) locked(p string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, busy := t.writing[p]
	return busy
}

// reserve takes n bytes of the budget for an upload under way, evicting
// the oldest kept uploads if need be; false when even that leaves too
// little.
func (t *tree) reserve(n int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.used+n > t.budget && len(t.order) > 0 {
		old := t.order[0]
		t.order = t.order[1:]
		t.used -= int64(len(t.uploads[old]))
		delete(t.uploads, old)
	}
	if t.used+n > t.budget {
		return false
	}
	t.used += n
	return true
}

// finish ends the upload to p that reserved reserved bytes: data becomes
// the file's content (the old content's bytes are given back), and p is
// unlocked.
func (t *tree) finish(p string, data []byte, reserved int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.writing, p)
	t.used -= reserved
	if old, ok := t.uploads[p]; ok {
		t.used -= int64(len(old))
		t.order = slices.DeleteFunc(t.order, func(s string) bool { return s == p })
	}
	t.uploads[p] = data
	t.order = append(t.order, p)
	t.used += int64(len(data))
}
