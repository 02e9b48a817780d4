package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// obj is a JSON object whose fields keep their order, as the XContent
// builders of Elasticsearch write them.
type obj []field

type field struct {
	k string
	v any
}

// num is a number written as Jackson writes it (a double keeps its ".0").
type num string

// fnum renders a double as Java's Double.toString does for the values the
// APIs print (no exponents).
func fnum(f float64) num {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return num(s)
}

// encode writes v as compact JSON, or as Jackson's pretty printer with the
// indenter Elasticsearch configures ("  " per level, for objects and
// arrays alike, " : " between a name and its value).
func encode(v any, pretty bool) []byte {
	var b bytes.Buffer
	writeValue(&b, v, pretty, 0)
	if pretty {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func indent(b *bytes.Buffer, level int) {
	b.WriteByte('\n')
	for range level {
		b.WriteString("  ")
	}
}

func writeValue(b *bytes.Buffer, v any, pretty bool, level int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(string(fnum(x)))
	case num:
		b.WriteString(string(x))
	case obj:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				indent(b, level+1)
			}
			writeString(b, f.k)
			if pretty {
				b.WriteString(" : ")
			} else {
				b.WriteByte(':')
			}
			writeValue(b, f.v, pretty, level+1)
		}
		closeContainer(b, '}', len(x), pretty, level)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				indent(b, level+1)
			}
			writeValue(b, e, pretty, level+1)
		}
		closeContainer(b, ']', len(x), pretty, level)
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		writeValue(b, l, pretty, level)
	default:
		b.WriteString("null")
	}
}

func closeContainer(b *bytes.Buffer, c byte, n int, pretty bool, level int) {
	if pretty {
		if n > 0 {
			indent(b, level)
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte(c)
}

// writeString quotes s as Jackson does: only '"', '\\' and control
// characters are escaped; '/' and non-ASCII are written as they are.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\ufffd") {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// maxDepth bounds the nesting of a client's document, as Jackson's
// StreamReadConstraints do.
const maxDepth = 100

var errDepth = errors.New("document nested too deeply")

// decodeOrdered parses one JSON value from data keeping the order of
// object fields, so that a client's document is shown back as it was
// sent. Numbers stay as written.
func decodeOrdered(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the document")
	}
	return v, nil
}

func decodeValue(d *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := obj{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				o = append(o, field{k, v})
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			l := []any{}
			for d.More() {
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, errors.New("unexpected delimiter")
	case json.Number:
		return num(x.String()), nil
	default:
		return x, nil // string, bool or nil
	}
}

// lookup returns the value at a dotted path of nested objects.
func (o obj) lookup(path ...string) (any, bool) {
	var cur any = o
	for _, k := range path {
		m, ok := cur.(obj)
		if !ok {
			return nil, false
		}
		found := false
		for _, f := range m {
			if f.k == k {
				cur, found = f.v, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}
