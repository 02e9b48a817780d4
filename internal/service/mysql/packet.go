package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxPayload bounds one client packet. Real servers take up to
// max_allowed_packet (16 MiB in MariaDB); a honeypot needs far less, and a
// client that sends more is cut off.
const maxPayload = 1 << 20

// errTooBig is returned for a packet over maxPayload.
var errTooBig = errors.New("packet too big")

// readPacket reads one packet: a 3-byte little-endian length, a sequence
// number and the payload. A payload of exactly 0xffffff bytes would be
// continued in the next packet; maxPayload makes that an error.
func readPacket(r io.Reader) (seq byte, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > maxPayload {
		return hdr[3], nil, fmt.Errorf("%w: %d bytes", errTooBig, n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return hdr[3], nil, err
	}
	return hdr[3], payload, nil
}

// appendPacket frames payload (shorter than 16 MiB) with sequence seq.
func appendPacket(out []byte, seq byte, payload []byte) []byte {
	n := len(payload)
	out = append(out, byte(n), byte(n>>8), byte(n>>16), seq)
	return append(out, payload...)
}

// appendLenenc appends a length-encoded integer.
func appendLenenc(b []byte, n uint64) []byte {
	switch {
	case n < 0xfb:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n <= 0xffffff:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
	}
}

// appendLenencStr appends a length-encoded string.
func appendLenencStr(b []byte, s string) []byte {
	return append(appendLenenc(b, uint64(len(s))), s...)
}

// errShort is returned when a field runs past the end of a packet.
var errShort = errors.New("packet truncated")

// reader takes fields off a packet payload, never past its end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// nulStr reads a NUL-terminated string; a string that runs to the end of
// the packet without a NUL is taken whole, as the servers do.
func (r *reader) nulStr() string {
	if r.err != nil {
		return ""
	}
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	s := string(r.b)
	r.b = nil
	return s
}

// lenenc reads a length-encoded integer.
func (r *reader) lenenc() uint64 {
	switch c := r.u8(); {
	case r.err != nil:
		return 0
	case c < 0xfb:
		return uint64(c)
	case c == 0xfc:
		b := r.take(2)
		if b == nil {
			return 0
		}
		return uint64(binary.LittleEndian.Uint16(b))
	case c == 0xfd:
		b := r.take(3)
		if b == nil {
			return 0
		}
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16
	case c == 0xfe:
		b := r.take(8)
		if b == nil {
			return 0
		}
		return binary.LittleEndian.Uint64(b)
	default: // 0xfb (NULL) and 0xff are not lengths
		r.err = fmt.Errorf("bad length byte %#x", c)
		return 0
	}
}

// lenencBytes reads a length-encoded string, bounded by what is left.
func (r *reader) lenencBytes() []byte {
	n := r.lenenc()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	return r.take(int(n))
}

// errPacket is an ERR packet's payload: with the #SQLSTATE marker when
// state is set (every error after the greeting), without it otherwise.
func errPacket(code uint16, state, msg string) []byte {
	b := []byte{0xff, byte(code), byte(code >> 8)}
	if state != "" {
		b = append(append(b, '#'), state...)
	}
	return append(b, msg...)
}
