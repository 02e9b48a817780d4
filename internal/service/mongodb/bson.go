package mongodb

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A bounded BSON reader and writer: the reader takes hostile bytes, so every
// length is checked against what is left before it is used, nesting is
// capped, and unknown element types are errors, as the server's validation
// makes them.

// errBSON is wrapped by every decoding error.
var errBSON = errors.New("invalid BSON")

// maxDepth bounds nesting (the server's BSONDepth default is 200; drivers
// never come close).
const maxDepth = 100

// elem is one key and value of a document, in wire order.
type elem struct {
	Key string
	Val any
}

// doc is a BSON document: its elements in order, as the server writes and
// reads them (field order is part of what a fingerprinter sees).
type doc []elem

// The BSON value types beyond Go's own (float64, string, doc, []any, bool,
// nil, int32, int64).
type (
	binaryVal struct {
		Sub  byte
		Data []byte
	}
	objectID  [12]byte
	dateTime  int64 // milliseconds since the epoch
	timestamp uint64
	regexVal  struct{ Pattern, Options string }
	jsCode    string
	// rawVal keeps an element the server never interprets (decimal128,
	// symbol, DBPointer, code with scope, min/max key, undefined) as its
	// type byte and bytes, so it can be logged.
	rawVal struct {
		Type byte
		Data []byte
	}
)

func (d doc) get(key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Val, true
		}
	}
	return nil, false
}

func (d doc) str(key string) string {
	v, _ := d.get(key)
	s, _ := v.(string)
	return s
}

func (d doc) sub(key string) doc {
	v, _ := d.get(key)
	s, _ := v.(doc)
	return s
}

// truthy is how the server reads a flag such as helloOk or nameOnly.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int32:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return false
}

// number reads a numeric element as the server's numeric coercion does.
func number(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// decodeDoc reads one document that must fill b exactly.
func decodeDoc(b []byte) (doc, error) {
	d, n, err := readDoc(b, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the document", errBSON, len(b)-n)
	}
	return d, nil
}

// readDoc reads the document at the start of b and says how long it was.
func readDoc(b []byte, depth int) (doc, int, error) {
	if depth > maxDepth {
		return nil, 0, fmt.Errorf("%w: nested too deeply", errBSON)
	}
	if len(b) < 5 {
		return nil, 0, fmt.Errorf("%w: document shorter than 5 bytes", errBSON)
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) {
		return nil, 0, fmt.Errorf("%w: document length %d of %d", errBSON, n, len(b))
	}
	if b[n-1] != 0 {
		return nil, 0, fmt.Errorf("%w: document not terminated", errBSON)
	}
	body := b[4 : n-1]
	var d doc
	for len(body) > 0 {
		t := body[0]
		key, rest, err := cstring(body[1:])
		if err != nil {
			return nil, 0, err
		}
		v, used, err := readValue(t, rest, depth)
		if err != nil {
			return nil, 0, fmt.Errorf("%w (field %q)", err, clipKey(key))
		}
		d = append(d, elem{key, v})
		body = rest[used:]
	}
	return d, n, nil
}

func clipKey(k string) string {
	if len(k) > 64 {
		return k[:64]
	}
	return k
}

func cstring(b []byte) (string, []byte, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:], nil
		}
	}
	return "", nil, fmt.Errorf("%w: unterminated C string", errBSON)
}

// bstring reads a length-prefixed string and says how many bytes it took.
func bstring(b []byte) (string, int, error) {
	if len(b) < 4 {
		return "", 0, fmt.Errorf("%w: truncated string", errBSON)
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 1 || n > len(b)-4 || b[3+n] != 0 {
		return "", 0, fmt.Errorf("%w: bad string length %d", errBSON, n)
	}
	return string(b[4 : 3+n]), 4 + n, nil
}

func need(b []byte, n int) error {
	if len(b) < n {
		return fmt.Errorf("%w: truncated value", errBSON)
	}
	return nil
}

func readValue(t byte, b []byte, depth int) (any, int, error) {
	switch t {
	case 0x01:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case 0x02:
		return bstring(b)
	case 0x0D:
		s, n, err := bstring(b)
		return jsCode(s), n, err
	case 0x0E:
		_, n, err := bstring(b)
		return rawVal{t, b[:n]}, n, err
	case 0x03:
		return readDoc(b, depth+1)
	case 0x04:
		d, n, err := readDoc(b, depth+1)
		if err != nil {
			return nil, 0, err
		}
		arr := make([]any, len(d))
		for i, e := range d {
			arr[i] = e.Val
		}
		return arr, n, nil
	case 0x05:
		if err := need(b, 5); err != nil {
			return nil, 0, err
		}
		n := int(int32(binary.LittleEndian.Uint32(b)))
		if n < 0 || n > len(b)-5 {
			return nil, 0, fmt.Errorf("%w: bad binary length %d", errBSON, n)
		}
		return binaryVal{b[4], b[5 : 5+n]}, 5 + n, nil
	case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, max key, min key
		if t == 0x0A {
			return nil, 0, nil
		}
		return rawVal{t, nil}, 0, nil
	case 0x07:
		if err := need(b, 12); err != nil {
			return nil, 0, err
		}
		var o objectID
		copy(o[:], b)
		return o, 12, nil
	case 0x08:
		if err := need(b, 1); err != nil {
			return nil, 0, err
		}
		if b[0] > 1 {
			return nil, 0, fmt.Errorf("%w: bad boolean %d", errBSON, b[0])
		}
		return b[0] == 1, 1, nil
	case 0x09:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		return dateTime(int64(binary.LittleEndian.Uint64(b))), 8, nil
	case 0x0B:
		p, rest, err := cstring(b)
		if err != nil {
			return nil, 0, err
		}
		o, rest2, err := cstring(rest)
		if err != nil {
			return nil, 0, err
		}
		return regexVal{p, o}, len(b) - len(rest2), nil
	case 0x0C: // DBPointer: string + 12-byte id
		_, n, err := bstring(b)
		if err != nil {
			return nil, 0, err
		}
		if err := need(b, n+12); err != nil {
			return nil, 0, err
		}
		return rawVal{t, b[:n+12]}, n + 12, nil
	case 0x0F: // code with scope: int32 total, string, document
		if err := need(b, 4); err != nil {
			return nil, 0, err
		}
		n := int(int32(binary.LittleEndian.Uint32(b)))
		if n < 14 || n > len(b) {
			return nil, 0, fmt.Errorf("%w: bad code-with-scope length %d", errBSON, n)
		}
		_, sn, err := bstring(b[4:n])
		if err != nil {
			return nil, 0, err
		}
		if _, dn, err := readDoc(b[4+sn:n], depth+1); err != nil || 4+sn+dn != n {
			return nil, 0, fmt.Errorf("%w: bad code-with-scope", errBSON)
		}
		return rawVal{t, b[:n]}, n, nil
	case 0x10:
		if err := need(b, 4); err != nil {
			return nil, 0, err
		}
		return int32(binary.LittleEndian.Uint32(b)), 4, nil
	case 0x11:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		return timestamp(binary.LittleEndian.Uint64(b)), 8, nil
	case 0x12:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		return int64(binary.LittleEndian.Uint64(b)), 8, nil
	case 0x13:
		if err := need(b, 16); err != nil {
			return nil, 0, err
		}
		return rawVal{t, b[:16]}, 16, nil
	}
	return nil, 0, fmt.Errorf("%w: unknown element type 0x%02x", errBSON, t)
}

// appendDoc appends d's encoding to b. It encodes only the types the
// server writes; anything else is a programming error.
func appendDoc(b []byte, d doc) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for _, e := range d {
		b = appendElem(b, e.Key, e.Val)
	}
	b = append(b, 0)
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

func appendElem(b []byte, key string, v any) []byte {
	head := func(t byte) []byte {
		b = append(b, t)
		b = append(b, key...)
		return append(b, 0)
	}
	switch x := v.(type) {
	case float64:
		b = head(0x01)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	case string:
		b = head(0x02)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(x)+1))
		b = append(b, x...)
		return append(b, 0)
	case doc:
		return appendDoc(head(0x03), x)
	case []any:
		a := make(doc, len(x))
		for i, v := range x {
			a[i] = elem{strconv.Itoa(i), v}
		}
		return appendDoc(head(0x04), a)
	case []string:
		a := make(doc, len(x))
		for i, v := range x {
			a[i] = elem{strconv.Itoa(i), v}
		}
		return appendDoc(head(0x04), a)
	case binaryVal:
		b = head(0x05)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(x.Data)))
		b = append(b, x.Sub)
		return append(b, x.Data...)
	case objectID:
		return append(head(0x07), x[:]...)
	case bool:
		if x {
			return append(head(0x08), 1)
		}
		return append(head(0x08), 0)
	case dateTime:
		return binary.LittleEndian.AppendUint64(head(0x09), uint64(x))
	case nil:
		return head(0x0A)
	case int32:
		return binary.LittleEndian.AppendUint32(head(0x10), uint32(x))
	case timestamp:
		return binary.LittleEndian.AppendUint64(head(0x11), uint64(x))
	case int64:
		return binary.LittleEndian.AppendUint64(head(0x12), uint64(x))
	case rawVal:
		return append(head(x.Type), x.Data...)
	case regexVal:
		b = head(0x0B)
		b = append(append(b, x.Pattern...), 0)
		return append(append(b, x.Options...), 0)
	case jsCode:
		b = head(0x0D)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(x)+1))
		return append(append(b, x...), 0)
	}
	panic(fmt.Sprintf("mongodb: cannot encode %T", v))
}

// toJSON renders a value as MongoDB's relaxed Extended JSON, for events.
func toJSON(v any) string {
	var sb strings.Builder
	writeJSON(&sb, v)
	return sb.String()
}

func writeJSON(sb *strings.Builder, v any) {
	q := func(s string) {
		j, _ := json.Marshal(s)
		sb.Write(j)
	}
	switch x := v.(type) {
	case doc:
		sb.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			q(e.Key)
			sb.WriteByte(':')
			writeJSON(sb, e.Val)
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSON(sb, e)
		}
		sb.WriteByte(']')
	case string:
		q(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			fmt.Fprintf(sb, `{"$numberDouble":"%v"}`, x)
		} else {
			sb.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case int32:
		sb.WriteString(strconv.Itoa(int(x)))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case nil:
		sb.WriteString("null")
	case binaryVal:
		fmt.Fprintf(sb, `{"$binary":{"base64":"%s","subType":"%02x"}}`, base64.StdEncoding.EncodeToString(x.Data), x.Sub)
	case objectID:
		fmt.Fprintf(sb, `{"$oid":"%s"}`, hex.EncodeToString(x[:]))
	case dateTime:
		fmt.Fprintf(sb, `{"$date":"%s"}`, time.UnixMilli(int64(x)).UTC().Format("2006-01-02T15:04:05.000Z"))
	case timestamp:
		fmt.Fprintf(sb, `{"$timestamp":{"t":%d,"i":%d}}`, uint64(x)>>32, uint32(x))
	case regexVal:
		sb.WriteString(`{"$regularExpression":{"pattern":`)
		q(x.Pattern)
		sb.WriteString(`,"options":`)
		q(x.Options)
		sb.WriteString("}}")
	case jsCode:
		sb.WriteString(`{"$code":`)
		q(string(x))
		sb.WriteByte('}')
	case rawVal:
		fmt.Fprintf(sb, `{"$bsonType":"%02x","hex":"%s"}`, x.Type, hex.EncodeToString(x.Data))
	default:
		q(fmt.Sprint(x))
	}
}
