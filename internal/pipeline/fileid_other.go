//go:build !unix

package pipeline

import "os"

// fileID has no device and inode to offer here; the checkpoint's hash of
// the file's first bytes is then what tells a new file from the old one.
func fileID(os.FileInfo) identity { return identity{} }
