package ldap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errBER is wrapped by every decoding error: the peer sent bytes that are
// not the BER subset LDAP allows (RFC 4511 §5.1).
var errBER = errors.New("malformed BER")

// BER identifier classes.
const (
	classUniversal   = 0x00
	classApplication = 0x40
	classContext     = 0x80
	constructed      = 0x20
)

// Universal tags LDAP uses.
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31
)

// element is one decoded TLV. id is the whole identifier octet (class,
// constructed bit and tag number below 31: LDAP never needs the
// high-tag-number form, and refusing it keeps the reader simple).
type element struct {
	id   byte
	body []byte
}

func (e element) constructed() bool { return e.id&constructed != 0 }

// class is the identifier's class bits.
func (e element) class() byte { return e.id & 0xc0 }

// maxDepth bounds the nesting the filter decoder follows, so a hostile
// message cannot exhaust the stack (each level costs at least 2 bytes of
// input, and messages are bounded, but recursion is bounded on its own).
const maxDepth = 32

// parseElement reads one TLV from b: a definite length in the short form
// or the long form of at most 4 octets (liblber's limit), never past b.
func parseElement(b []byte) (element, []byte, error) {
	if len(b) < 2 {
		return element{}, nil, fmt.Errorf("%w: truncated header", errBER)
	}
	id := b[0]
	if id&0x1f == 0x1f {
		return element{}, nil, fmt.Errorf("%w: high tag number", errBER)
	}
	n, hdr, err := parseLength(b[1:])
	if err != nil {
		return element{}, nil, err
	}
	rest := b[1+hdr:]
	if n > uint64(len(rest)) {
		return element{}, nil, fmt.Errorf("%w: length %d past the end", errBER, n)
	}
	return element{id: id, body: rest[:n]}, rest[n:], nil
}

// parseLength decodes a length octet sequence, returning the length and
// how many octets it took.
func parseLength(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: missing length", errBER)
	}
	first := b[0]
	if first < 0x80 {
		return uint64(first), 1, nil
	}
	k := int(first & 0x7f)
	if k == 0 {
		return 0, 0, fmt.Errorf("%w: indefinite length", errBER)
	}
	if k > 4 || len(b) < 1+k {
		return 0, 0, fmt.Errorf("%w: bad long length", errBER)
	}
	var n uint64
	for _, c := range b[1 : 1+k] {
		n = n<<8 | uint64(c)
	}
	return n, 1 + k, nil
}

// children decodes the whole body of a constructed element.
func children(e element) ([]element, error) {
	if !e.constructed() {
		return nil, fmt.Errorf("%w: 0x%02x is not constructed", errBER, e.id)
	}
	var out []element
	for rest := e.body; len(rest) > 0; {
		c, r, err := parseElement(rest)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = r
	}
	return out, nil
}

// parseInt decodes an INTEGER or ENUMERATED body as a signed 32-bit
// value (every LDAP integer is 0..maxInt, RFC 4511 §4.1.1).
func parseInt(body []byte) (int64, error) {
	if len(body) == 0 || len(body) > 5 || (len(body) == 5 && body[0] != 0 && body[0] != 0xff) {
		return 0, fmt.Errorf("%w: integer of %d octets", errBER, len(body))
	}
	n := int64(int8(body[0]))
	for _, c := range body[1:] {
		n = n<<8 | int64(c)
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, fmt.Errorf("%w: integer out of range", errBER)
	}
	return n, nil
}

// expect checks an element's identifier.
func expect(e element, id byte, what string) error {
	if e.id != id {
		return fmt.Errorf("%w: %s: tag 0x%02x, want 0x%02x", errBER, what, e.id, id)
	}
	return nil
}

// readFrame reads one BER element, header included, from r, refusing one
// longer than max before reading its body. Like liblber it frames any
// tag and checks for an LDAPMessage only afterwards, so garbage such as
// an HTTP request is waited on until its "length" has arrived, as slapd
// waits on it (real-products.md §5).
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	hdr := make([]byte, 2, 6)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	if hdr[0]&0x1f == 0x1f {
		return nil, fmt.Errorf("%w: high tag number", errBER)
	}
	if hdr[1] > 0x80 && hdr[1] <= 0x84 {
		ext := make([]byte, hdr[1]&0x7f)
		if _, err := io.ReadFull(r, ext); err != nil {
			return nil, err
		}
		hdr = append(hdr, ext...)
	}
	n, _, err := parseLength(hdr[1:])
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: message of %d bytes", errBER, n)
	}
	buf := make([]byte, len(hdr)+int(n))
	copy(buf, hdr)
	if _, err := io.ReadFull(r, buf[len(hdr):]); err != nil {
		return nil, err
	}
	return buf, nil
}

// encoder writes BER the way a product does: slapd (liblber) uses the
// shortest length form everywhere; Active Directory writes every
// constructed element's length in the 4-octet long form (0x84), which is
// what scanners' signatures for it match.
type encoder struct {
	longConstructed bool
}

// tlv encodes one element.
func (e encoder) tlv(id byte, body ...[]byte) []byte {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	out := make([]byte, 0, n+6)
	out = append(out, id)
	switch {
	case id&constructed != 0 && e.longConstructed:
		out = append(out, 0x84)
		out = binary.BigEndian.AppendUint32(out, uint32(n))
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84)
		out = binary.BigEndian.AppendUint32(out, uint32(n))
	}
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

// str encodes an OCTET STRING (or an implicitly tagged one).
func (e encoder) str(id byte, s string) []byte { return e.tlv(id, []byte(s)) }

// integer encodes an INTEGER or ENUMERATED in the fewest octets.
func (e encoder) integer(id byte, n int64) []byte {
	var b []byte
	for {
		b = append([]byte{byte(n)}, b...)
		if (n < 0x80 && n >= -0x80) || len(b) == 8 {
			break
		}
		n >>= 8
	}
	return e.tlv(id, b)
}
