// Package atomicfile replaces files whole: a reader sees the old content
// or the new, never a part, and a crash leaves the old one. Every state
// decnet keeps in files (deployment record, fake filesystems, host keys,
// certificates, bound logins, checkpoints, captured files) is written so.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// TempPrefix starts the names of the temporary files Write makes beside
// the target; a directory scan can skip (or remove) what a crash left.
const TempPrefix = ".tmp-"

// Write replaces path with data, mode perm: the bytes go to a temporary
// file in the same directory, are synced, and the file is renamed over
// path.
func Write(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SameVersion reports whether a and b, two stats of one path, saw the same
// version of a file that only Write replaces: every Write makes a new
// inode, and size and modification time tell a reused inode number apart.
// A nil stat (never read) is no version.
func SameVersion(a, b fs.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
