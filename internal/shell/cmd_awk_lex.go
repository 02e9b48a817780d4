package shell

import (
	"strconv"
	"strings"
)

// This file and awk_parse.go, awk_run.go are a small awk: the language
// bots use in their recon one-liners, with the syntax errors of the awk a
// distribution ships (mawk on Debian and Ubuntu, gawk on Red Hat, Fedora and
// Arch, BusyBox awk on Alpine). The program text is hostile, so the lexer
// and parser bound their work and every failure is an *awkError.

// awkKind is a token class.
type awkKind uint8

const (
	akEOF awkKind = iota
	akNewline
	akNumber
	akString
	akRegex
	akName    // variable or array
	akBuiltin // builtin function name (length, substr, ...)
	akKeyword // BEGIN, END, if, print, ...
	akPunct   // operators and brackets
)

type awkToken struct {
	kind awkKind
	text string // source text (for a string or regex: its decoded value)
	num  float64
	pos  int // byte offset in the program
}

var awkKeywords = map[string]bool{"BEGIN": true, "END": true, "if": true, "else": true, "while": true, "for": true,
	"do": true, "in": true, "print": true, "printf": true, "next": true, "exit": true, "delete": true, "break": true,
	"continue": true, "getline": true, "function": true, "func": true, "return": true, "nextfile": true}

var awkBuiltinFuncs = map[string]bool{"length": true, "substr": true, "index": true, "split": true, "sub": true,
	"gsub": true, "match": true, "sprintf": true, "tolower": true, "toupper": true, "int": true, "sqrt": true,
	"exp": true, "log": true, "sin": true, "cos": true, "atan2": true, "rand": true, "srand": true, "system": true}

// awkPuncts are the operators, longest first.
var awkPuncts = []string{"**=", "&&", "||", "==", "!=", "<=", ">=", "!~", "++", "--", "+=", "-=", "*=", "/=", "%=",
	"^=", ">>", "**", "{", "}", "(", ")", "[", "]", ";", ",", "+", "-", "*", "/", "%", "^", "!", ">", "<", "|",
	"?", ":", "~", "$", "="}

// awkLexer turns the program into tokens on demand: whether / starts a
// regex depends on the token before it.
type awkLexer struct {
	src   string
	pos   int
	prev  awkToken
	noPow bool // ** is two multiplication signs (mawk)
}

func (l *awkLexer) next() (awkToken, error) {
	// Blanks, comments and escaped newlines separate tokens.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
			continue
		case c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n':
			l.pos += 2
			continue
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		break
	}
	t, err := l.scan()
	if err == nil {
		l.prev = t
	}
	return t, err
}

// divides reports whether a / after the previous token is division.
func (l *awkLexer) divides() bool {
	switch l.prev.kind {
	case akNumber, akString, akRegex, akName, akBuiltin:
		return true
	case akPunct:
		return l.prev.text == ")" || l.prev.text == "]" || l.prev.text == "$" || l.prev.text == "++" || l.prev.text == "--"
	case akKeyword:
		return l.prev.text == "getline"
	}
	return false
}

func (l *awkLexer) scan() (awkToken, error) {
	start := l.pos
	if l.pos >= len(l.src) {
		return awkToken{kind: akEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '\n':
		l.pos++
		return awkToken{kind: akNewline, text: "\n", pos: start}, nil
	case c == '"':
		s, ok := l.quoted('"')
		if !ok {
			return awkToken{}, &awkError{kind: aeRunawayString, pos: start, text: l.src[start+1:]}
		}
		return awkToken{kind: akString, text: s, pos: start}, nil
	case c == '/' && !l.divides():
		s, ok := l.quoted('/')
		if !ok {
			return awkToken{}, &awkError{kind: aeRunawayRegex, pos: start, text: l.src[start+1:]}
		}
		return awkToken{kind: akRegex, text: s, pos: start}, nil
	case c >= '0' && c <= '9' || c == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9':
		n := awkNumPrefix(l.src[l.pos:])
		v, _ := strconv.ParseFloat(l.src[l.pos:l.pos+n], 64)
		l.pos += n
		return awkToken{kind: akNumber, text: l.src[start:l.pos], num: v, pos: start}, nil
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for l.pos < len(l.src) && isAwkNameChar(l.src[l.pos]) {
			l.pos++
		}
		name := l.src[start:l.pos]
		switch {
		case awkKeywords[name]:
			return awkToken{kind: akKeyword, text: name, pos: start}, nil
		case awkBuiltinFuncs[name]:
			return awkToken{kind: akBuiltin, text: name, pos: start}, nil
		}
		return awkToken{kind: akName, text: name, pos: start}, nil
	}
	for _, p := range awkPuncts {
		if strings.HasPrefix(l.src[l.pos:], p) {
			if p == "/=" && !l.divides() || l.noPow && strings.HasPrefix(p, "**") {
				continue
			}
			l.pos += len(p)
			return awkToken{kind: akPunct, text: p, pos: start}, nil
		}
	}
	return awkToken{}, &awkError{kind: aeBadChar, pos: start, text: string(c)}
}

func isAwkNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// quoted reads a string or regex literal after its opening delimiter,
// decoding escapes (a regex keeps them, for the regex compiler).
func (l *awkLexer) quoted(delim byte) (string, bool) {
	var b strings.Builder
	class := false // inside a regex bracket expression, / is literal
	for i := l.pos + 1; i < len(l.src); i++ {
		c := l.src[i]
		switch {
		case c == '\n':
			return "", false
		case delim == '/' && !class && c == '[':
			class = true
			b.WriteByte(c)
			if i+1 < len(l.src) && l.src[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(l.src) && l.src[i+1] == ']' {
				i++
				b.WriteByte(']')
			}
		case class && c == ']':
			class = false
			b.WriteByte(c)
		case c == delim && !class:
			l.pos = i + 1
			return b.String(), true
		case c == '\\' && i+1 < len(l.src):
			i++
			if delim == '/' {
				if l.src[i] != '/' {
					b.WriteByte('\\')
				}
				b.WriteByte(l.src[i])
				continue
			}
			n, _ := escAwk.decode(&b, l.src[i:])
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// awkNumPrefix is the length of the decimal number at the start of s, as
// strtod reads it (no hex, no inf/nan).
func awkNumPrefix(s string) int {
	i := 0
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	return i
}
