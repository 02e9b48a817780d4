package snmp

// The BER codec is written here rather than taken from gosnmp: gosnmp's
// decoder is a manager's (it decrypts and checks a v3 message only with
// the keys of one user configured before decoding, where an agent must
// read the user name first), it gives no offsets into the message (the
// hashcat line needs the message with msgAuthenticationParameters zeroed
// in place), and it normalises what it reads (a malformed value, a wrong
// tag, trailing bytes), where snmpd drops such a datagram as an ASN.1
// parse error. The encoder builds replies whose size is known before they
// are sent, which the tooBig rule needs.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BER tags of SNMP.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
	tagIPAddress   = 0x40
	tagCounter32   = 0x41
	tagGauge32     = 0x42
	tagTimeTicks   = 0x43
	tagOpaque      = 0x44
	tagCounter64   = 0x46
	tagNoSuchObj   = 0x80
	tagNoSuchInst  = 0x81
	tagEndOfMib    = 0x82
)

// maxOIDLen is net-snmp's MAX_OID_LEN: longer OIDs are parse errors.
const maxOIDLen = 128

var errBER = errors.New("asn.1 parse error")

// tlv is one decoded element: its tag, its contents, and where the
// contents start in the whole message.
type tlv struct {
	tag   byte
	val   []byte
	off   int
	start int // where the element's tag is
}

// whole is the element with its tag and length, as it is in msg.
func (t tlv) whole(msg []byte) []byte { return msg[t.start : t.off+len(t.val)] }

// reader walks the elements of one constructed value (or the message).
type reader struct {
	msg      []byte
	pos, end int
}

func newReader(msg []byte) *reader { return &reader{msg: msg, end: len(msg)} }

// sub reads the contents of t.
func (r *reader) sub(t tlv) *reader { return &reader{msg: r.msg, pos: t.off, end: t.off + len(t.val)} }

func (r *reader) more() bool { return r.pos < r.end }

// next decodes the next element (definite lengths only, as net-snmp).
func (r *reader) next() (tlv, error) {
	if r.end-r.pos < 2 {
		return tlv{}, fmt.Errorf("%w: truncated header", errBER)
	}
	start := r.pos
	tag := r.msg[r.pos]
	if tag&0x1f == 0x1f {
		return tlv{}, fmt.Errorf("%w: long tag", errBER)
	}
	p := r.pos + 1
	n := int(r.msg[p])
	p++
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || r.end-p < k {
			return tlv{}, fmt.Errorf("%w: bad length", errBER)
		}
		n = 0
		for _, b := range r.msg[p : p+k] {
			n = n<<8 | int(b)
		}
		p += k
	}
	if n < 0 || n > r.end-p {
		return tlv{}, fmt.Errorf("%w: length %d past the end", errBER, n)
	}
	r.pos = p + n
	return tlv{tag: tag, val: r.msg[p : p+n], off: p, start: start}, nil
}

// expect decodes the next element and checks its tag.
func (r *reader) expect(tag byte) (tlv, error) {
	t, err := r.next()
	if err != nil {
		return t, err
	}
	if t.tag != tag {
		return t, fmt.Errorf("%w: tag %#02x, want %#02x", errBER, t.tag, tag)
	}
	return t, nil
}

// int decodes an INTEGER that fits 32 signed bits.
func (r *reader) int() (int64, error) {
	t, err := r.expect(tagInteger)
	if err != nil {
		return 0, err
	}
	return decodeInt(t.val)
}

func (r *reader) octets() ([]byte, error) {
	t, err := r.expect(tagOctetString)
	return t.val, err
}

func decodeInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 5 {
		return 0, fmt.Errorf("%w: integer of %d bytes", errBER, len(b))
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	if v < -1<<31 || v > 1<<32-1 {
		return 0, fmt.Errorf("%w: integer out of range", errBER)
	}
	return v, nil
}

func decodeUint(b []byte, bits int) (uint64, error) {
	if len(b) == 0 || len(b) > bits/8+1 || len(b) == bits/8+1 && b[0] != 0 {
		return 0, fmt.Errorf("%w: unsigned of %d bytes", errBER, len(b))
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// oid is an object identifier's sub-identifiers.
type oid []uint32

func decodeOID(b []byte) (oid, error) {
	if len(b) == 0 {
		// net-snmp reads an empty OID as .0.0.
		return oid{0, 0}, nil
	}
	out := make(oid, 0, 16)
	var v uint64
	for i, c := range b {
		if v == 0 && c == 0x80 {
			return nil, fmt.Errorf("%w: OID padding", errBER)
		}
		v = v<<7 | uint64(c&0x7f)
		if v > 1<<32-1 {
			return nil, fmt.Errorf("%w: OID sub-identifier too large", errBER)
		}
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return nil, fmt.Errorf("%w: truncated OID", errBER)
			}
			continue
		}
		if len(out) == 0 {
			first := min(v/40, 2)
			out = append(out, uint32(first), uint32(v-first*40))
		} else {
			out = append(out, uint32(v))
		}
		if len(out) > maxOIDLen {
			return nil, fmt.Errorf("%w: OID over %d sub-identifiers", errBER, maxOIDLen)
		}
		v = 0
	}
	return out, nil
}

// parseOID reads a dotted OID (a leading dot allowed).
func parseOID(s string) (oid, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errors.New("empty OID")
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > maxOIDLen {
		return nil, fmt.Errorf("OID %q: want 2 to %d sub-identifiers", s, maxOIDLen)
	}
	out := make(oid, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("OID %q: %w", s, err)
		}
		out[i] = uint32(n)
	}
	if out[0] > 2 || out[0] < 2 && out[1] > 39 {
		return nil, fmt.Errorf("OID %q: bad first sub-identifiers", s)
	}
	return out, nil
}

func (o oid) String() string {
	var b strings.Builder
	for i, n := range o {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	return b.String()
}

// compare orders OIDs lexicographically, as the MIB is walked.
func (o oid) compare(p oid) int {
	for i := 0; i < len(o) && i < len(p); i++ {
		if o[i] != p[i] {
			if o[i] < p[i] {
				return -1
			}
			return 1
		}
	}
	return len(o) - len(p)
}

// hasPrefix reports whether p is a prefix of o.
func (o oid) hasPrefix(p oid) bool {
	return len(o) >= len(p) && o[:len(p)].compare(p) == 0
}

// Encoding: elements are built inside out, each appended to its parent.

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// appendTLV appends one element with contents parts.
func appendTLV(b []byte, tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b = appendLen(append(b, tag), n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// intBytes is the minimal two's complement form of v.
func intBytes(v int64) []byte {
	n := 1
	for ; n < 9; n++ {
		if v >= -1<<(8*n-1) && v < 1<<(8*n-1) {
			break
		}
	}
	out := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = byte(v)
		v >>= 8
	}
	return out
}

// uintBytes is an unsigned value's form: a leading zero when the top bit
// is set.
func uintBytes(v uint64) []byte {
	var tmp [9]byte
	i := 9
	for {
		i--
		tmp[i] = byte(v)
		v >>= 8
		if v == 0 {
			break
		}
	}
	if tmp[i]&0x80 != 0 {
		i--
		tmp[i] = 0
	}
	return append([]byte(nil), tmp[i:]...)
}

func appendInt(b []byte, v int64) []byte { return appendTLV(b, tagInteger, intBytes(v)) }

func oidBytes(o oid) []byte {
	if len(o) < 2 {
		o = oid{0, 0}
	}
	out := appendSubID(nil, uint64(o[0])*40+uint64(o[1]))
	for _, n := range o[2:] {
		out = appendSubID(out, uint64(n))
	}
	return out
}

func appendSubID(b []byte, v uint64) []byte {
	var tmp [10]byte
	i := 9
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}
