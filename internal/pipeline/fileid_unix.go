//go:build unix

package pipeline

import (
	"os"
	"syscall"
)

// fileID is the identity of a file: device and inode. A rotated log keeps
// its identity under a new name; a new file at the old name gets a new one.
func fileID(fi os.FileInfo) identity {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return identity{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
	}
	return identity{}
}
