package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// readLine reads one command line without its line end. A line longer
// than lineLimit is cut there and its rest read and thrown away, as
// Postfix's smtp_get does. A line ended by the connection is an error.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line) < lineLimit {
			line = append(line, frag[:min(len(frag), lineLimit-len(line))]...)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

// message is the bytes of one message as the server holds them.
type message struct {
	raw  []byte // the first keep bytes, dot-unstuffed
	size int64  // every byte of the message, kept or not
}

func (m *message) add(b []byte, keep int) {
	m.size += int64(len(b))
	if room := keep - len(m.raw); room > 0 {
		m.raw = append(m.raw, b[:min(len(b), room)]...)
	}
}

// truncated reports whether bytes of the message were not kept.
func (m *message) truncated() bool { return m.size > int64(len(m.raw)) }

// readData reads a DATA body up to its "." line, undoing dot-stuffing:
// a line's leading dot is dropped, and a line of one dot ends the
// message (with CRLF or, as Postfix 3.7 takes it, a bare LF). Only the
// first keep bytes are held; size counts them all.
func readData(r *bufio.Reader, keep int) (message, error) {
	var m message
	start := true // at the start of a line
	for {
		frag, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return m, err
		}
		full := err == nil
		if start && len(frag) > 0 && frag[0] == '.' {
			if full && (string(frag) == ".\r\n" || string(frag) == ".\n") {
				return m, nil
			}
			frag = frag[1:]
		}
		m.add(frag, keep)
		start = full
	}
}

// readChunk reads a BDAT chunk of n bytes, holding what fits in keep.
func readChunk(r io.Reader, n int64, m *message, keep int) error {
	buf := make([]byte, 32<<10)
	for n > 0 {
		k, err := r.Read(buf[:min(int64(len(buf)), n)])
		m.add(buf[:k], keep)
		n -= int64(k)
		if err != nil && n > 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
