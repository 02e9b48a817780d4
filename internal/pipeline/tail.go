package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
)

// identity tells files apart across rotation (see fileID).
type identity struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// headBytes is how much of a file's start the checkpoint hashes: enough to
// tell a new file from the old one when an inode number is reused or the
// platform has none (the first record's timestamp differs).
const headBytes = 64

// checkpoint is where ingestion stands, stored in the same transaction as
// the rows read before it: the offset of the next unread line in the file
// with this identity and these first bytes.
type checkpoint struct {
	identity
	Offset  int64  `json:"offset"`
	HeadLen int    `json:"head_len"`
	Head    string `json:"head"` // hex SHA-256 of the first HeadLen bytes
}

// tail reads complete lines of one file from a line boundary on.
type tail struct {
	f    *os.File
	id   identity
	head []byte // the file's first bytes, up to headBytes, as last read

	boundary int64  // offset after the last complete line handed out
	buf      []byte // bytes read past boundary, no newline among them yet
	// discard is set inside a line longer than the cap: its bytes are
	// dropped as they come and boundary stays at its start, so a restart
	// finds the line again instead of resuming in its middle.
	discard bool
	dropped int64  // bytes of the over-long line dropped so far
	back    []byte // buf's backing array
}

const readChunk = 64 << 10

// openTail opens path and positions it at cp when cp describes this file
// (same identity, long enough, same first bytes); otherwise at 0. resumed
// reports which.
func openTail(path string, cp checkpoint) (t *tail, resumed bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	t = &tail{f: f, id: fileID(fi)}
	if cp.Offset > 0 && cp.identity == t.id && fi.Size() >= cp.Offset && t.headMatches(cp) {
		if _, err := f.Seek(cp.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, false, err
		}
		t.boundary = cp.Offset
		return t, true, nil
	}
	return t, false, nil
}

func (t *tail) close() { t.f.Close() }

// readHead refreshes the cached first bytes of the file.
func (t *tail) readHead() error {
	b := make([]byte, headBytes)
	n, err := t.f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	t.head = b[:n]
	return nil
}

func (t *tail) headMatches(cp checkpoint) bool {
	if t.readHead() != nil || len(t.head) < cp.HeadLen {
		return false
	}
	sum := sha256.Sum256(t.head[:cp.HeadLen])
	return hex.EncodeToString(sum[:]) == cp.Head
}

// pos is the offset up to which the file has been read.
func (t *tail) pos() int64 { return t.boundary + t.dropped + int64(len(t.buf)) }

// rewritten reports whether the file's first bytes are no longer those
// read before: it was truncated and written again, perhaps past our
// offset already.
func (t *tail) rewritten() bool {
	if len(t.head) == 0 {
		return false
	}
	b := make([]byte, len(t.head))
	n, err := t.f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return !bytes.Equal(b[:n], t.head)
}

// checkpoint describes the current boundary.
func (t *tail) checkpoint() checkpoint {
	n := int(min(t.boundary, headBytes))
	if len(t.head) < n {
		if t.readHead() != nil || len(t.head) < n {
			n = len(t.head)
		}
	}
	sum := sha256.Sum256(t.head[:n])
	return checkpoint{identity: t.id, Offset: t.boundary, HeadLen: n, Head: hex.EncodeToString(sum[:])}
}

// reset restarts reading at the start of the file (it was truncated or
// rewritten under the same identity).
func (t *tail) reset() error {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	t.boundary, t.buf, t.discard, t.dropped, t.head = 0, t.buf[:0], false, 0, nil
	return nil
}

// next returns the next complete line (without its newline), or ok=false
// at the end of what is written so far: a partial last line waits in buf.
// A line longer than maxLine is not returned but reported, once its newline
// arrives, as tooLong with its length; its bytes are not kept meanwhile.
// The returned line is valid until the next call.
func (t *tail) next(maxLine int) (line []byte, tooLong int64, ok bool, err error) {
	for {
		if i := bytes.IndexByte(t.buf, '\n'); i >= 0 {
			line, t.buf = t.buf[:i], t.buf[i+1:]
			if t.discard {
				tooLong = t.dropped + int64(i)
				t.boundary += t.dropped + int64(i) + 1
				t.discard, t.dropped = false, 0
				return nil, tooLong, true, nil
			}
			t.boundary += int64(i) + 1
			if i > maxLine {
				return nil, int64(i), true, nil
			}
			return line, 0, true, nil
		}
		if len(t.buf) > maxLine {
			t.discard = true
		}
		if t.discard {
			t.dropped += int64(len(t.buf))
			t.buf = t.buf[:0]
		}
		// Move the partial line to the front, then read after it.
		n := copy(t.back[:cap(t.back)], t.buf)
		if cap(t.back)-n < readChunk {
			nb := make([]byte, n, n+2*readChunk)
			copy(nb, t.back[:n])
			t.back = nb
		}
		m, err := t.f.Read(t.back[n : n+readChunk])
		t.buf = t.back[:n+m]
		if m == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, 0, false, nil
			}
			return nil, 0, false, err
		}
	}
}
