package vnc

import (
	"bytes"
	"strconv"
)

// versionLen is the size of a ProtocolVersion message, "RFB xxx.yyy\n".
const versionLen = 12

// serverVersion is the ProtocolVersion every imitated server sends.
const serverVersion = "RFB 003.008\n"

// scanVersion reads a client's ProtocolVersion as glibc's
// sscanf(msg, "RFB %03d.%03d\n", &major, &minor) == 2 does, which is how
// TigerVNC, RealVNC and LibVNCServer read it: the message ends at a NUL,
// whitespace may precede each number, a number is an optional sign and
// digits, three characters at most, and nothing after the minor number
// matters. So "RFB 003.889\n" is 3.889 and "RFB 3.8\n" is 3.8.
func scanVersion(msg []byte) (major, minor int, ok bool) {
	if i := bytes.IndexByte(msg, 0); i >= 0 {
		msg = msg[:i]
	}
	rest, ok := bytes.CutPrefix(msg, []byte("RFB"))
	if !ok {
		return 0, 0, false
	}
	rest = skipSpace(rest) // the format's space matches any run of white space
	if major, rest, ok = scanInt(rest, 3); !ok {
		return 0, 0, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(".")); !ok {
		return 0, 0, false
	}
	if minor, _, ok = scanInt(rest, 3); !ok {
		return 0, 0, false
	}
	return major, minor, true
}

// scanInt is scanf's %Nd: leading white space skipped, then at most width
// characters of an optional sign and decimal digits, at least one digit.
func scanInt(b []byte, width int) (n int, rest []byte, ok bool) {
	b = skipSpace(b)
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	start := i
	for i < len(b) && i < width && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start {
		return 0, b, false
	}
	n, _ = strconv.Atoi(string(b[:i])) // at most three digits: no overflow
	return n, b[i:], true
}

// skipSpace skips C's isspace characters.
func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r')) {
		b = b[1:]
	}
	return b
}

// strictVersion reads a ProtocolVersion as TightVNC 2.x does
// (RfbInitializer::getProtocolMinorVersion): exactly "RFB ddd.ddd\n".
func strictVersion(msg []byte) (major, minor int, ok bool) {
	if len(msg) != versionLen || string(msg[:4]) != "RFB " || msg[7] != '.' || msg[11] != '\n' {
		return 0, 0, false
	}
	digits := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	major, ok1 := digits(msg[4:7])
	minor, ok2 := digits(msg[8:11])
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return major, minor, true
}

// printable renders client bytes for an event field: the text itself when
// it is printable ASCII, else Go-quoted so that nothing is lost or hidden.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			q := strconv.QuoteToASCII(string(b))
			return q[1 : len(q)-1]
		}
	}
	return string(b)
}
