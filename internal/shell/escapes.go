package shell

import (
	"io"
	"strconv"
	"strings"
)

// escapes is one dialect of backslash escapes: the commands that decode
// them (echo -e, printf's format and its %b, awk's strings) agree on the
// common ones and differ in the rest.
type escapes struct {
	// octal0: octal needs a leading zero, \0NNN (echo -e); otherwise
	// \NNN, and with zeroLong \0NNN as well (printf's %b).
	octal0, zeroLong bool
	// bash decodes \e, \E and \xHH; stop ends all output at \c (echo -e
	// and %b, not printf's format, which prints \c as it is).
	bash, stop bool
	// literal are the characters a backslash merely escapes.
	literal string
}

var (
	escEcho   = escapes{octal0: true, bash: true, stop: true}
	escFormat = escapes{bash: true, literal: `"'`}
	escArg    = escapes{zeroLong: true, bash: true, stop: true}
	escAwk    = escapes{literal: `"/`}
	escTr     = escapes{}
)

// escapeWriter is what decoded bytes go to: a strings.Builder or a
// bytes.Buffer.
type escapeWriter interface {
	io.ByteWriter
	io.StringWriter
}

// decode writes the escape after a backslash at the start of s (not
// empty) and returns how many bytes of s it used, and whether it was \c.
func (e escapes) decode(out escapeWriter, s string) (n int, stop bool) {
	c := s[0]
	if i := strings.IndexByte("abfnrtv\\", c); i >= 0 {
		out.WriteByte("\a\b\f\n\r\t\v\\"[i])
		return 1, false
	}
	if strings.IndexByte(e.literal, c) >= 0 {
		out.WriteByte(c)
		return 1, false
	}
	octal := func(from, limit int) int {
		j := from
		for j < len(s) && j < limit && s[j] >= '0' && s[j] <= '7' {
			j++
		}
		v, _ := strconv.ParseUint("0"+s[from:j], 8, 16)
		out.WriteByte(byte(v))
		return j
	}
	switch {
	case e.stop && c == 'c':
		return 1, true
	case e.bash && (c == 'e' || c == 'E'):
		out.WriteByte(27)
		return 1, false
	case e.bash && c == 'x':
		j := 1
		for j < len(s) && j < 3 && isHex(s[j]) {
			j++
		}
		if j == 1 {
			out.WriteString(`\x`)
			return 1, false
		}
		v, _ := strconv.ParseUint(s[1:j], 16, 8)
		out.WriteByte(byte(v))
		return j, false
	case c == '0' && (e.octal0 || e.zeroLong):
		return octal(1, 4), false
	case c >= '0' && c <= '7' && !e.octal0:
		return octal(0, 3), false
	}
	out.WriteByte('\\')
	out.WriteByte(c)
	return 1, false
}

// decodeAll decodes every escape of s; stop is true when \c cut it short.
func (e escapes) decodeAll(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		n, stop := e.decode(&b, s[i+1:])
		if stop {
			return b.String(), true
		}
		i += n
	}
	return b.String(), false
}
