package redis

import (
	"errors"
	"fmt"
	"strconv"
)

// kind is the RESP type of a reply. One reply model serves both protocol
// versions: the encoder picks the RESP2 or RESP3 form, as Redis does.
type kind uint8

const (
	kSimple   kind = iota // +OK
	kError                // -ERR ...
	kInt                  // :1
	kBulk                 // $3 foo
	kNull                 // RESP2 $-1, RESP3 _
	kArray                // *n
	kMap                  // RESP3 %n, RESP2 a flat *2n array
	kSet                  // RESP3 ~n, RESP2 *n
	kVerbatim             // RESP3 =n txt:..., RESP2 a bulk string
)

// value is one reply.
type value struct {
	k     kind
	s     string
	n     int64
	elems []value // array and set elements; map keys and values alternate
}

func simple(s string) value   { return value{k: kSimple, s: s} }
func errReply(s string) value { return value{k: kError, s: s} }
func integer(n int64) value   { return value{k: kInt, n: n} }
func bulk(s string) value     { return value{k: kBulk, s: s} }
func array(v ...value) value  { return value{k: kArray, elems: v} }
func mapOf(kv ...value) value { return value{k: kMap, elems: kv} }

var (
	null = value{k: kNull}
	ok   = simple("OK")
)

// bulks makes an array of bulk strings.
func bulks(ss ...string) value {
	v := make([]value, len(ss))
	for i, s := range ss {
		v[i] = bulk(s)
	}
	return array(v...)
}

// appendTo encodes v as protocol version proto (2 or 3).
func (v value) appendTo(b []byte, proto int) []byte {
	switch v.k {
	case kSimple:
		return append(append(append(b, '+'), v.s...), '\r', '\n')
	case kError:
		return append(append(append(b, '-'), v.s...), '\r', '\n')
	case kInt:
		return append(strconv.AppendInt(append(b, ':'), v.n, 10), '\r', '\n')
	case kBulk:
		return appendBulk(b, '$', "", v.s)
	case kVerbatim:
		if proto >= 3 {
			return appendBulk(b, '=', "txt:", v.s)
		}
		return appendBulk(b, '$', "", v.s)
	case kNull:
		if proto >= 3 {
			return append(b, "_\r\n"...)
		}
		return append(b, "$-1\r\n"...)
	case kMap:
		if proto >= 3 {
			b = appendHeader(b, '%', len(v.elems)/2)
		} else {
			b = appendHeader(b, '*', len(v.elems))
		}
	case kSet:
		if proto >= 3 {
			b = appendHeader(b, '~', len(v.elems))
		} else {
			b = appendHeader(b, '*', len(v.elems))
		}
	default: // kArray
		b = appendHeader(b, '*', len(v.elems))
	}
	for _, e := range v.elems {
		b = e.appendTo(b, proto)
	}
	return b
}

func appendHeader(b []byte, c byte, n int) []byte {
	return append(strconv.AppendInt(append(b, c), int64(n), 10), '\r', '\n')
}

func appendBulk(b []byte, c byte, prefix, s string) []byte {
	b = appendHeader(b, c, len(prefix)+len(s))
	return append(append(append(b, prefix...), s...), '\r', '\n')
}

// errBadRESP reports malformed data given to decodeValue.
var errBadRESP = errors.New("malformed RESP")

// decodeValue reads one RESP value from b, returning it and the bytes
// after it. It decodes the reference replies embedded in the package and,
// in tests, our own replies, so it takes only the types those hold.
func decodeValue(b []byte) (value, []byte, error) {
	line, rest, err := cutLine(b)
	if err != nil {
		return value{}, nil, err
	}
	if len(line) == 0 {
		return value{}, nil, errBadRESP
	}
	body := string(line[1:])
	switch line[0] {
	case '+':
		return simple(body), rest, nil
	case '-':
		return errReply(body), rest, nil
	case '_':
		return null, rest, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return value{}, nil, fmt.Errorf("%w: integer %q", errBadRESP, body)
		}
		return integer(n), rest, nil
	case '$', '=':
		if body == "-1" {
			return null, rest, nil
		}
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 || len(rest) < n+2 {
			return value{}, nil, fmt.Errorf("%w: bulk length %q", errBadRESP, body)
		}
		s := string(rest[:n])
		if line[0] == '=' {
			if len(s) < 4 {
				return value{}, nil, errBadRESP
			}
			return value{k: kVerbatim, s: s[4:]}, rest[n+2:], nil
		}
		return bulk(s), rest[n+2:], nil
	case '*', '%', '~':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 || n > len(rest) {
			return value{}, nil, fmt.Errorf("%w: aggregate length %q", errBadRESP, body)
		}
		k, count := kArray, n
		switch line[0] {
		case '%':
			k, count = kMap, 2*n
		case '~':
			k = kSet
		}
		v := value{k: k, elems: make([]value, count)}
		for i := range v.elems {
			if v.elems[i], rest, err = decodeValue(rest); err != nil {
				return value{}, nil, err
			}
		}
		return v, rest, nil
	}
	return value{}, nil, fmt.Errorf("%w: type %q", errBadRESP, line[0])
}

func cutLine(b []byte) (line, rest []byte, err error) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: no line end", errBadRESP)
}
