package rdp

import (
	"encoding/binary"
	"fmt"
	"io"
)

// BER, as far as CredSSP's TSRequest and T.125's Connect-Initial need it:
// definite lengths of up to 4 bytes (non-minimal forms are read, as
// Windows's decoder reads them), tags of one byte or APPLICATION tags of
// the two-byte high form (0x7f 0x65 for Connect-Initial).

// Universal and context tags used here.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagSequence    = 0x30
	// tagContext0 is [0] constructed; [n] is tagContext0+n.
	tagContext0 = 0xa0
	// tagConnectInitial is T.125's APPLICATION 101 in the high tag form.
	tagConnectInitial = 0x7f65
)

// readTLV splits the first TLV off b.
func readTLV(b []byte) (tag uint16, value, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("BER: %d bytes: %w", len(b), ErrMalformed)
	}
	tag, i := uint16(b[0]), 1
	if b[0]&0x1f == 0x1f {
		// High tag form: one more byte, tag numbers up to 127.
		if b[1]&0x80 != 0 {
			return 0, nil, nil, fmt.Errorf("BER: tag number over 127: %w", ErrMalformed)
		}
		tag, i = tag<<8|uint16(b[1]), 2
	}
	n, hdr, err := berLength(b[i:])
	if err != nil {
		return 0, nil, nil, err
	}
	i += hdr
	if n > len(b)-i {
		return 0, nil, nil, fmt.Errorf("BER: length %d past the %d bytes left: %w", n, len(b)-i, ErrMalformed)
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// berLength reads a definite length; hdr is how many bytes it took.
func berLength(b []byte) (n, hdr int, err error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("BER: no length: %w", ErrMalformed)
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	k := int(b[0] & 0x7f)
	if k == 0 || k > 4 {
		return 0, 0, fmt.Errorf("BER: length form 0x%02x: %w", b[0], ErrMalformed)
	}
	if len(b) < 1+k {
		return 0, 0, fmt.Errorf("BER: short length: %w", ErrMalformed)
	}
	var v uint64
	for _, c := range b[1 : 1+k] {
		v = v<<8 | uint64(c)
	}
	if v > 1<<31-1 {
		return 0, 0, fmt.Errorf("BER: length %d: %w", v, ErrMalformed)
	}
	return int(v), 1 + k, nil
}

// readBERFrame reads one TLV with a one-byte tag from a stream, at most
// limit bytes of value: a TSRequest on the TLS channel, which has no
// framing of its own. got is what was read when it fails.
func readBERFrame(r io.Reader, wantTag byte, limit int) (frame, got []byte, err error) {
	hdr := make([]byte, 2, 6)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return nil, hdr[:n], err
	}
	if hdr[0] != wantTag {
		return nil, hdr, fmt.Errorf("BER: tag 0x%02x, want 0x%02x: %w", hdr[0], wantTag, ErrMalformed)
	}
	if k := int(hdr[1] & 0x7f); hdr[1] >= 0x80 && k >= 1 && k <= 4 {
		hdr = hdr[:2+k]
		if n, err := io.ReadFull(r, hdr[2:]); err != nil {
			return nil, hdr[:2+n], err
		}
	}
	n, _, err := berLength(hdr[1:])
	if err != nil {
		return nil, hdr, err
	}
	if n > limit {
		return nil, hdr, fmt.Errorf("BER: %d-byte value over the %d-byte limit: %w", n, limit, ErrMalformed)
	}
	frame = append(hdr, make([]byte, n)...)
	if m, err := io.ReadFull(r, frame[len(hdr):]); err != nil {
		return nil, frame[:len(hdr)+m], err
	}
	return frame, nil, nil
}

// berInt reads an INTEGER's content octets (at most 8) as a signed value.
func berInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, fmt.Errorf("BER: %d-byte INTEGER: %w", len(v), ErrMalformed)
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// tlv encodes a TLV with a one-byte tag and a minimal DER length.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, 6+n)
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xff:
		b = append(b, 0x81, byte(n))
	case n <= 0xffff:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x84)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// derInt encodes an INTEGER in the fewest two's-complement octets.
func derInt(n int64) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(n))
	for len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
		b = b[1:]
	}
	return tlv(tagInteger, b)
}
