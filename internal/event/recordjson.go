package event

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast decodes the JSON records our emitter writes: one flat object
// with the known keys spelled exactly, string values, an integer severity
// and a fields object of strings. It reports false on anything else
// (other keys, other value types, invalid UTF-8, malformed JSON), for the
// caller to fall back on encoding/json, so it never needs to produce an
// error and never disagrees with the general decoder (FuzzRecordJSON).
func decodeFast(b []byte, w *wireRecord) bool {
	d := fastDecoder{b: b}
	d.ws()
	ok := d.object(func(key string) bool {
		var dst *string
		switch key {
		case "timestamp":
			dst = &w.Timestamp
		case "decky":
			dst = &w.Decky
		case "service":
			dst = &w.Service
		case "event_type":
			dst = &w.EventType
		case "attacker_ip":
			dst = &w.AttackerIP
		case "msg":
			dst = &w.Msg
		case "raw_line":
			dst = &w.RawLine
		case "severity":
			n, ok := d.int()
			w.Severity = &n
			return ok
		case "fields":
			return d.fields(w)
		default:
			return false
		}
		var ok bool
		*dst, ok = d.str()
		return ok
	})
	return ok && d.end()
}

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) end() bool {
	d.ws()
	return d.i == len(d.b)
}

// object decodes an object whose keys are strings, calling value to
// decode the value of each key.
func (d *fastDecoder) object(value func(key string) bool) bool {
	if !d.byte('{') {
		return false
	}
	d.ws()
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		d.ws()
		if !d.byte(':') {
			return false
		}
		d.ws()
		if !value(key) {
			return false
		}
		d.ws()
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
		d.ws()
	}
}

// fields decodes null or an object of strings into w.Fields; like
// encoding/json, null clears the map and an object merges into it.
func (d *fastDecoder) fields(w *wireRecord) bool {
	if d.literal("null") {
		w.Fields = nil
		return true
	}
	if w.Fields == nil {
		w.Fields = make(map[string]string, 8)
	}
	return d.object(func(key string) bool {
		v, ok := d.str()
		w.Fields[key] = v
		return ok
	})
}

func (d *fastDecoder) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// int decodes a JSON integer that fits an int.
func (d *fastDecoder) int() (int, bool) {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || (d.b[digits] == '0' && d.i-digits > 1) {
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	n, err := strconv.Atoi(string(d.b[start:d.i]))
	return n, err == nil
}

// str decodes a JSON string of valid UTF-8.
func (d *fastDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		default:
			d.i++
		}
	}
	return "", false
}

// escaped finishes a string that has escapes, from its start.
func (d *fastDecoder) escaped(start int) (string, bool) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			return "", false
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// A lone or mismatched surrogate is U+FFFD for
				// encoding/json; leave such rare cases to it.
				if !d.literal(`\u`) {
					return "", false
				}
				r2, ok := d.hex4()
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (d *fastDecoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(n), true
}
