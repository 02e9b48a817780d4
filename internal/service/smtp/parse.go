package smtp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// lineLimit is Postfix's line_length_limit: a longer command line is cut
// there and the rest of it thrown away.
const lineLimit = 2048

// splitCommand splits a command line into its verb, upper-cased, and the
// rest, trimmed: Postfix's smtpd splits on white space and compares
// verbs without case.
func splitCommand(line string) (verb, arg string) {
	line = strings.TrimLeft(line, " \t")
	verb, arg, _ = strings.Cut(line, " ")
	if v, a, ok := strings.Cut(verb, "\t"); ok {
		verb, arg = v, a+" "+arg
	}
	return strings.ToUpper(verb), strings.Trim(arg, " \t")
}

// isHeader reports whether a line starts like a mail header ("Name:"):
// Postfix hangs up on a client that sends its message without DATA.
func isHeader(line string) bool {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range []byte(line[:i]) {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// forbidden are Postfix's smtpd_forbid_cmds: a proxy or HTTP request.
var forbidden = []string{"CONNECT", "GET", "POST"}

// errPathSyntax is a MAIL or RCPT argument that does not start with
// FROM: or TO:.
var errPathSyntax = errors.New("path syntax")

// errAddrSyntax is an address Postfix refuses (unbalanced <>, white
// space outside quotes).
var errAddrSyntax = errors.New("address syntax")

// path is the argument of MAIL FROM or RCPT TO.
type path struct {
	addr   string   // without the angle brackets and source route
	params []string // ESMTP parameters, as sent
}

// parsePath reads "FROM:<addr> params" (prefix "FROM:") or "TO:<addr>".
// A space after the colon and an address without <> are accepted, as
// Postfix accepts them by default.
func parsePath(arg, prefix string) (path, error) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return path{}, errPathSyntax
	}
	rest := strings.TrimLeft(arg[len(prefix):], " \t")
	var raw string
	if strings.HasPrefix(rest, "<") {
		end := closing(rest)
		if end < 0 {
			return path{}, errAddrSyntax
		}
		raw, rest = rest[1:end], rest[end+1:]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			return path{}, errAddrSyntax
		}
	} else {
		raw, rest, _ = strings.Cut(rest, " ")
		if strings.ContainsAny(raw, "<>") {
			return path{}, errAddrSyntax
		}
	}
	// A source route (@a,@b:user@c) is ignored, as RFC 5321 says.
	if strings.HasPrefix(raw, "@") {
		if _, after, ok := strings.Cut(raw, ":"); ok {
			raw = after
		}
	}
	return path{addr: unquote(raw), params: strings.Fields(rest)}, nil
}

// closing is the index of the '>' that closes the '<' at s[0], skipping
// quoted strings, or -1.
func closing(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '>' && !quoted:
			return i
		case (c == ' ' || c == '\t' || c == '<') && !quoted:
			return -1
		}
	}
	return -1
}

// unquote removes the quotes of a quoted local part, as Postfix shows
// addresses in its replies ("x y"@vm becomes x y@vm).
func unquote(addr string) string {
	if !strings.HasPrefix(addr, `"`) {
		return addr
	}
	i := strings.LastIndex(addr, `"@`)
	if i <= 0 {
		return addr
	}
	return strings.ReplaceAll(strings.ReplaceAll(addr[1:i], `\"`, `"`), `\\`, `\`) + addr[i+1:]
}

// domainOf is an address's domain, "" when it has none.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// param splits an ESMTP parameter into its upper-cased keyword and value.
func param(p string) (key, value string) {
	key, value, _ = strings.Cut(p, "=")
	return strings.ToUpper(key), value
}

// parseBDAT reads "count [LAST]".
func parseBDAT(arg string) (n int64, last, ok bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 {
		return 0, false, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 || f[0][0] == '+' {
		return 0, false, false
	}
	if len(f) == 2 {
		if !strings.EqualFold(f[1], "LAST") {
			return 0, false, false
		}
		last = true
	}
	return n, last, true
}

// printable replaces control bytes, for event fields.
func printable(b []byte) string {
	return string(bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, b))
}
