package redis

import (
	"bytes"
	"errors"
)

// Limits of the request parser. The first three are Redis 7.0's own
// (PROTO_INLINE_MAX_SIZE, proto-max-bulk-len, the unauthenticated limits
// of processMultibulkBuffer). The last two are ours: Redis would buffer up
// to client-query-buffer-limit (1 GB) and then drop the client without a
// word, which is what we do at a far lower mark.
const (
	inlineMax      = 64 * 1024
	protoMaxBulk   = 512 * 1024 * 1024
	unauthMaxArgs  = 10
	unauthMaxBulk  = 16384
	maxArgBytes    = 1 << 20
	maxRequestSize = 4 << 20
	argOverhead    = 16 // what an argument costs beyond its bytes, so a flood of empty ones is bounded too
)

// protocolError is a malformed request. Redis replies "-ERR " and the text,
// then closes the connection.
type protocolError string

func (e protocolError) Error() string { return string(e) }

// errQueryLimit is a request over our memory caps: the connection is closed
// with no reply, as Redis does when a client passes its query buffer limit.
var errQueryLimit = errors.New("query buffer limit reached")

// parser splits a client's byte stream into requests the way Redis 7.0's
// processInlineBuffer and processMultibulkBuffer do, including their
// leniencies (the two bytes after a bulk argument are skipped unchecked)
// and their C-string quirks (a NUL hides the line end that follows it).
type parser struct {
	buf     []byte
	mbLeft  int // bulk arguments still to read; 0 when no multibulk request is open
	bulkLen int // length of the bulk being read, -1 while its $ line is awaited
	args    [][]byte
	size    int
}

// feed appends bytes read from the client.
func (p *parser) feed(b []byte) { p.buf = append(p.buf, b...) }

// next returns the next complete request. It returns nil and no error when
// more bytes are needed. Empty requests (blank inline lines, *0, *-1) are
// skipped. authRequired applies Redis's tighter limits to clients that
// have not authenticated yet.
func (p *parser) next(authRequired bool) ([][]byte, error) {
	for {
		var args [][]byte
		var err error
		if p.mbLeft == 0 && len(p.buf) > 0 && p.buf[0] != '*' {
			args, err = p.inline()
		} else {
			args, err = p.multibulk(authRequired)
		}
		if err != nil || args == nil {
			return nil, err
		}
		if len(args) > 0 {
			return args, nil
		}
	}
}

// inline parses a line of space separated words. It returns a non-nil empty
// slice for a blank line, nil when the line is incomplete.
func (p *parser) inline() ([][]byte, error) {
	nl := cIndex(p.buf, '\n')
	if nl < 0 {
		if len(p.buf) > inlineMax {
			return nil, protocolError("Protocol error: too big inline request")
		}
		return nil, nil
	}
	end := nl
	if end > 0 && p.buf[end-1] == '\r' {
		end--
	}
	args, ok := splitArgs(p.buf[:end])
	p.consume(nl + 1)
	if !ok {
		return nil, protocolError("Protocol error: unbalanced quotes in request")
	}
	if args == nil {
		args = [][]byte{}
	}
	return args, nil
}

func (p *parser) multibulk(authRequired bool) ([][]byte, error) {
	if p.mbLeft == 0 {
		n, done, err := p.countLine('*', authRequired)
		if !done || err != nil {
			return nil, err
		}
		if n <= 0 {
			return [][]byte{}, nil
		}
		p.mbLeft, p.bulkLen = int(n), -1
		p.args, p.size = make([][]byte, 0, min(n, 64)), 0
	}
	for p.mbLeft > 0 {
		if p.bulkLen < 0 {
			n, done, err := p.countLine('$', authRequired)
			if !done || err != nil {
				return nil, err
			}
			if n > maxArgBytes || p.size+int(n)+argOverhead > maxRequestSize {
				return nil, errQueryLimit
			}
			p.bulkLen = int(n)
		}
		if len(p.buf) < p.bulkLen+2 {
			return nil, nil
		}
		p.args = append(p.args, bytes.Clone(p.buf[:p.bulkLen]))
		p.size += p.bulkLen + argOverhead
		p.consume(p.bulkLen + 2)
		p.bulkLen = -1
		p.mbLeft--
	}
	args := p.args
	p.args = nil
	return args, nil
}

// countLine reads a "*<n>\r\n" or "$<n>\r\n" line. done is false when the
// line is not complete yet.
func (p *parser) countLine(c byte, authRequired bool) (n int64, done bool, err error) {
	what := "mbulk"
	if c == '$' {
		what = "bulk"
	}
	cr := cIndex(p.buf, '\r')
	if cr < 0 {
		if len(p.buf) > inlineMax {
			return 0, false, protocolError("Protocol error: too big " + what + " count string")
		}
		return 0, false, nil
	}
	if cr > len(p.buf)-2 { // the byte after \r has not arrived; Redis never checks it is \n
		return 0, false, nil
	}
	if p.buf[0] != c {
		return 0, false, protocolError("Protocol error: expected '$', got '" + cChar(p.buf[0]))
	}
	n, ok := string2ll(p.buf[1:cr])
	switch {
	case c == '*' && (!ok || n > 1<<31-1):
		return 0, false, protocolError("Protocol error: invalid multibulk length")
	case c == '*' && n > unauthMaxArgs && authRequired:
		return 0, false, protocolError("Protocol error: unauthenticated multibulk length")
	case c == '$' && (!ok || n < 0 || n > protoMaxBulk):
		return 0, false, protocolError("Protocol error: invalid bulk length")
	case c == '$' && n > unauthMaxBulk && authRequired:
		return 0, false, protocolError("Protocol error: unauthenticated bulk length")
	}
	p.consume(cr + 2)
	return n, true, nil
}

// cChar renders the byte Redis formats with %c in "expected '$', got '%c'"
// with its closing quote; line ends in error texts become spaces. (A NUL
// cannot get here: it hides the line end from cIndex.)
func cChar(b byte) string {
	if b == '\r' || b == '\n' {
		b = ' '
	}
	return string([]byte{b, '\''})
}

func (p *parser) consume(n int) {
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = p.buf[:0:0]
	}
}

// cIndex is strchr on a NUL-terminated buffer: the index of c, or -1 when
// it is absent or a NUL comes first.
func cIndex(b []byte, c byte) int {
	for i, x := range b {
		switch x {
		case c:
			return i
		case 0:
			return -1
		}
	}
	return -1
}

// string2ll parses a decimal integer exactly as Redis's string2ll: no sign
// but '-', no leading zeros, no spaces, within int64.
func string2ll(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v-1) - 1, true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// splitArgs is Redis's sdssplitargs: words split on spaces, "double quoted"
// words with C escapes and \xHH, 'single quoted' words with only \'. A
// closing quote must be followed by a space or the end. ok is false for
// unbalanced quotes. The line is a C string: a NUL ends it.
func splitArgs(line []byte) (args [][]byte, ok bool) {
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	i := 0
	for {
		for at(i) != 0 && isSpace(at(i)) {
			i++
		}
		if at(i) == 0 {
			return args, true
		}
		var cur []byte
		inq, insq := false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inq:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					cur = append(cur, hexVal(at(i+2))<<4|hexVal(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					switch e := at(i); e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if at(i+1) != 0 && !isSpace(at(i+1)) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if at(i+1) != 0 && !isSpace(at(i+1)) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if at(i) != 0 {
				i++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}
