package smb

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// ndrReader reads NDR 2.0 little-endian data (C706 chapter 14) from a
// request's stub. The first failure sticks: later reads return zero
// values and err tells what went wrong.
type ndrReader struct {
	b   []byte
	off int
	err error
}

func (r *ndrReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("NDR %s at %d: %w", what, r.off, errMalformed)
	}
}

func (r *ndrReader) align(n int) {
	if pad := (n - r.off%n) % n; r.off+pad <= len(r.b) {
		r.off += pad
	} else {
		r.fail("padding")
	}
}

func (r *ndrReader) u32() uint32 {
	r.align(4)
	if r.err != nil || len(r.b)-r.off < 4 {
		r.fail("uint32")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

// maxNDRString bounds the strings read (UTF-16 units); server and share
// names are far shorter.
const maxNDRString = 1024

// str reads a conformant varying string of UTF-16 units (MaxCount,
// Offset, ActualCount, units), dropping its terminating NUL.
func (r *ndrReader) str() string {
	maxCount, offset, actual := r.u32(), r.u32(), r.u32()
	if r.err != nil {
		return ""
	}
	if offset != 0 || actual > maxCount || actual > maxNDRString || int(actual)*2 > len(r.b)-r.off {
		r.fail("string")
		return ""
	}
	s := decodeUTF16(r.b[r.off : r.off+2*int(actual)])
	r.off += 2 * int(actual)
	if n := len(s); n > 0 && s[n-1] == 0 {
		s = s[:n-1]
	}
	return s
}

// ndrWriter builds NDR 2.0 little-endian data. Referent ids of embedded
// pointers count from 0x00020000 in steps of 4, as Windows and Samba
// number them.
type ndrWriter struct {
	b   []byte
	ref uint32
}

func (w *ndrWriter) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *ndrWriter) u32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

// ptr writes a non-null unique pointer's referent id.
func (w *ndrWriter) ptr() {
	w.u32(0x00020000 + w.ref)
	w.ref += 4
}

// str writes a conformant varying string with its terminating NUL.
func (w *ndrWriter) str(s string) {
	units := append(utf16.Encode([]rune(s)), 0)
	w.u32(uint32(len(units)))
	w.u32(0)
	w.u32(uint32(len(units)))
	for _, u := range units {
		w.b = binary.LittleEndian.AppendUint16(w.b, u)
	}
}

// decodeUTF16 decodes UTF-16LE, replacing what is invalid; an odd last
// byte is dropped.
func decodeUTF16(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}
