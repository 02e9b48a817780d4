package pop3

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// cstr is s up to its first NUL: Dovecot keeps lines as C strings.
func cstr(s []byte) []byte {
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// trimEOL drops a line's LF and the CR before it, as i_stream_next_line.
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// maxLoginName is pop3-login's CLIENT_MAX_CMD_LEN: a longer name is cut
// there and the rest read as its arguments.
const maxLoginName = 8

// splitLogin splits a line (with its LF) as pop3-login reads it: the name,
// upper-cased, ends at a space, LF, NUL or its eighth byte, CRs in it are
// skipped, and one space after it is dropped; the arguments are the rest
// of the line. Not finding any of those (a line without LF) gives ok false.
func splitLogin(line []byte) (name string, rest []byte, ok bool) {
	var b []byte
	for i, c := range line {
		if c == '\r' {
			continue
		}
		if c == ' ' || c == '\n' || c == 0 || i >= maxLoginName {
			if c == ' ' {
				i++
			}
			return upperASCII(b), line[i:], true
		}
		b = append(b, c)
	}
	return "", nil, false
}

// loginArgs is the argument string of a pre-login command from the rest
// of its line.
func loginArgs(rest []byte) string { return string(cstr(trimEOL(rest))) }

// splitCommand splits a post-login line (without its line end) as pop3
// does: the name before the first space, upper-cased, and the arguments
// after it with leading spaces skipped.
func splitCommand(line []byte) (name, args string) {
	line = cstr(line)
	n, a, _ := bytes.Cut(line, []byte(" "))
	return upperASCII(n), string(bytes.TrimLeft(a, " "))
}

// upperASCII upper-cases ASCII letters only, as Dovecot's i_toupper: other
// bytes, valid UTF-8 or not, stay as sent.
func upperASCII(b []byte) string {
	out := []byte(string(b))
	for i, c := range out {
		if 'a' <= c && c <= 'z' {
			out[i] = c - ('a' - 'A')
		}
	}
	return string(out)
}

// parseUint reads the leading digits of s as Dovecot's str_parse_uint*
// do: ok false when they overflow bits. rest is what follows the digits,
// or all of s when they do not even fit 64 bits (str_parse_uintmax then
// leaves its end pointer alone).
func parseUint(s string, bits int) (n uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, s, false
	}
	return n, s[i:], bits == 64 || n>>bits == 0
}

// msgArg parses a message number as get_msgnum does, for a maildrop of
// count messages of which deleted are marked. thenSpace asks for more
// arguments after it (TOP). It returns the message's index and the
// arguments after it, or the error reply.
func msgArg(args string, count int, deleted func(int) bool, thenSpace bool) (idx int, rest, errReply string) {
	if args == "" || args[0] < '0' || args[0] > '9' {
		return 0, "", "-ERR Invalid message number: " + args
	}
	n, tail, ok := parseUint(args, 32)
	if !ok {
		return 0, "", "-ERR Message number too large: " + tail
	}
	if (thenSpace && (tail == "" || tail[0] != ' ')) || (!thenSpace && tail != "") {
		return 0, "", "-ERR Noise after message number: " + tail
	}
	if n == 0 || n > uint64(count) {
		return 0, "", fmt.Sprintf("-ERR There's no message %d.", n)
	}
	if deleted(int(n - 1)) {
		return 0, "", "-ERR Message is deleted."
	}
	return int(n - 1), trimSpaces(tail), ""
}

// sizeArg parses TOP's line count as get_size does.
func sizeArg(args string) (n uint64, errReply string) {
	if args == "" || args[0] < '0' || args[0] > '9' {
		return 0, "-ERR Invalid size: " + args
	}
	n, tail, ok := parseUint(args, 64)
	if !ok {
		return 0, "-ERR Size too large: " + tail
	}
	if tail != "" {
		return 0, "-ERR Noise after size: " + tail
	}
	return n, ""
}

func trimSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// allLines is TOP's line count for RETR: the whole body.
const allLines = math.MaxUint64
