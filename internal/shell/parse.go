package shell

import (
	"fmt"
	"strings"
)

// Parser limits: attacker input is bounded before it is interpreted.
const (
	maxLineLen   = 64 << 10
	maxWords     = 4096
	maxSubstDeep = 4
)

type partKind uint8

const (
	litPart    partKind = iota // unquoted text: subject to ~ and globbing
	quotedPart                 // text from quotes or a backslash: literal
	varPart                    // $NAME, ${NAME}, $?
	subPart                    // $(...) or `...`: text is the inner source
)

type part struct {
	kind   partKind
	text   string
	quoted bool // inside double quotes
}

// word is a shell word before expansion.
type word []part

// redirect is n>file, n>>file, n<file or n>&m.
type redirect struct {
	fd     int
	op     string // ">", ">>", "<", ">&"
	target word
}

type assignment struct {
	name  string
	value word
}

// command is a simple command.
type command struct {
	assigns []assignment
	args    []word
	redirs  []redirect
}

// pipeline is commands joined by |, and the operator that links it to the
// next pipeline (";", "&&", "||" or "&"; "" for the last).
type pipeline struct {
	cmds []command
	next string
}

// SyntaxError is a command line bash would refuse; Error is bash's text.
type SyntaxError struct{ msg string }

func (e *SyntaxError) Error() string { return e.msg }

func unexpected(tok string) error {
	if tok == "\n" {
		tok = "newline"
	}
	return &SyntaxError{"syntax error near unexpected token `" + tok + "'"}
}

// parse turns a command line into pipelines.
func parse(src string) ([]pipeline, error) {
	if len(src) > maxLineLen {
		return nil, &SyntaxError{"line too long"}
	}
	p := &parser{src: src}
	return p.script()
}

type parser struct {
	src   string
	pos   int
	words int
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) skipBlanks() {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t':
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

// operator returns the control operator at pos, if any.
func (p *parser) operator() string {
	rest := p.src[p.pos:]
	for _, op := range []string{"&&", "||", ";;", ";", "&", "|", "\n", "(", ")"} {
		if strings.HasPrefix(rest, op) {
			if op == "&" && strings.HasPrefix(rest, "&>") {
				return ""
			}
			return op
		}
	}
	return ""
}

func (p *parser) script() ([]pipeline, error) {
	var out []pipeline
	for {
		p.skipBlanks()
		if p.eof() {
			return out, nil
		}
		if op := p.operator(); op != "" {
			if op == "\n" {
				p.pos++
				continue
			}
			return nil, unexpected(op)
		}
		pl, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		p.skipBlanks()
		if !p.eof() {
			op := p.operator()
			switch op {
			case ";", "&", "&&", "||", "\n":
				p.pos += len(op)
				if op == "\n" {
					op = ";"
				}
				pl.next = op
				if op == "&&" || op == "||" {
					for {
						p.skipBlanks()
						if p.eof() || p.src[p.pos] != '\n' {
							break
						}
						p.pos++
					}
					if p.eof() {
						return nil, &SyntaxError{"syntax error: unexpected end of file"}
					}
				}
			default:
				return nil, unexpected(op)
			}
		}
		out = append(out, pl)
	}
}

func (p *parser) pipeline() (pipeline, error) {
	var pl pipeline
	for {
		c, err := p.command()
		if err != nil {
			return pl, err
		}
		pl.cmds = append(pl.cmds, c)
		p.skipBlanks()
		if p.eof() || p.operator() != "|" {
			return pl, nil
		}
		p.pos++
		for {
			p.skipBlanks()
			if p.eof() || p.src[p.pos] != '\n' {
				break
			}
			p.pos++
		}
		if p.eof() {
			return pl, &SyntaxError{"syntax error: unexpected end of file"}
		}
	}
}

func (p *parser) command() (command, error) {
	var c command
	for {
		p.skipBlanks()
		if p.eof() {
			break
		}
		if op := p.operator(); op != "" {
			if op == "(" || op == ")" || (len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0) {
				return c, unexpected(op)
			}
			break
		}
		if r, ok, err := p.redirect(); err != nil {
			return c, err
		} else if ok {
			c.redirs = append(c.redirs, r)
			continue
		}
		start := p.pos
		w, err := p.word()
		if err != nil {
			return c, err
		}
		if p.words++; p.words > maxWords {
			return c, &SyntaxError{"argument list too long"}
		}
		if len(c.args) == 0 {
			if name, ok := assignName(p.src[start:p.pos]); ok {
				c.assigns = append(c.assigns, assignment{name: name, value: trimAssign(w, len(name)+1)})
				continue
			}
		}
		c.args = append(c.args, w)
	}
	if len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0 {
		if p.eof() {
			return c, &SyntaxError{"syntax error: unexpected end of file"}
		}
		return c, unexpected(p.operator())
	}
	return c, nil
}

// assignName recognises NAME= at the start of a raw word.
func assignName(raw string) (string, bool) {
	i := strings.IndexByte(raw, '=')
	if i <= 0 {
		return "", false
	}
	name := raw[:i]
	for j, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && r >= '0' && r <= '9') {
			return "", false
		}
	}
	return name, true
}

// trimAssign drops the NAME= prefix (n bytes of literal text) from a word.
func trimAssign(w word, n int) word {
	out := word{}
	for _, pt := range w {
		if n > 0 {
			if len(pt.text) <= n {
				n -= len(pt.text)
				continue
			}
			pt.text = pt.text[n:]
			n = 0
		}
		out = append(out, pt)
	}
	return out
}

// redirect parses [n]>word, [n]>>word, [n]<word, [n]>&m, &>word.
func (p *parser) redirect() (redirect, bool, error) {
	i := p.pos
	fd := -1
	for i < len(p.src) && p.src[i] >= '0' && p.src[i] <= '9' && i-p.pos < 3 {
		i++
	}
	if i > p.pos {
		if i >= len(p.src) || (p.src[i] != '>' && p.src[i] != '<') {
			return redirect{}, false, nil
		}
		fd = 0
		for _, c := range p.src[p.pos:i] {
			fd = fd*10 + int(c-'0')
		}
	}
	rest := p.src[i:]
	var r redirect
	switch {
	case fd < 0 && strings.HasPrefix(rest, "&>>"):
		r, i = redirect{fd: -2, op: ">>"}, i+3
	case fd < 0 && strings.HasPrefix(rest, "&>"):
		r, i = redirect{fd: -2, op: ">"}, i+2
	case strings.HasPrefix(rest, ">>"):
		r, i = redirect{fd: 1, op: ">>"}, i+2
	case strings.HasPrefix(rest, ">&"):
		r, i = redirect{fd: 1, op: ">&"}, i+2
	case strings.HasPrefix(rest, ">|"):
		r, i = redirect{fd: 1, op: ">"}, i+2
	case strings.HasPrefix(rest, ">"):
		r, i = redirect{fd: 1, op: ">"}, i+1
	case strings.HasPrefix(rest, "<<"):
		return redirect{}, false, &SyntaxError{"here-documents are not supported"}
	case strings.HasPrefix(rest, "<"):
		r, i = redirect{fd: 0, op: "<"}, i+1
	default:
		return redirect{}, false, nil
	}
	if fd >= 0 {
		r.fd = fd
	}
	p.pos = i
	p.skipBlanks()
	if p.eof() {
		return r, false, unexpected("\n")
	}
	if op := p.operator(); op != "" || p.src[p.pos] == '<' || p.src[p.pos] == '>' {
		if op == "" {
			op = p.src[p.pos : p.pos+1]
		}
		return r, false, unexpected(op)
	}
	w, err := p.word()
	if err != nil {
		return r, false, err
	}
	r.target = w
	return r, true, nil
}

func isWordEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

// word reads one word with its quoting.
func (p *parser) word() (word, error) {
	var w word
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w = append(w, part{kind: litPart, text: lit.String()})
			lit.Reset()
		}
	}
	for !p.eof() {
		c := p.src[p.pos]
		if isWordEnd(c) {
			break
		}
		switch c {
		case '\\':
			p.pos++
			if p.eof() {
				lit.WriteByte('\\')
				break
			}
			if p.src[p.pos] == '\n' {
				p.pos++
				continue
			}
			flush()
			w = append(w, part{kind: quotedPart, text: p.src[p.pos : p.pos+1]})
			p.pos++
		case '\'':
			end := strings.IndexByte(p.src[p.pos+1:], '\'')
			if end < 0 {
				return nil, &SyntaxError{"unexpected EOF while looking for matching `''"}
			}
			flush()
			w = append(w, part{kind: quotedPart, text: p.src[p.pos+1 : p.pos+1+end]})
			p.pos += end + 2
		case '"':
			flush()
			parts, err := p.doubleQuoted()
			if err != nil {
				return nil, err
			}
			if len(parts) == 0 {
				parts = []part{{kind: quotedPart}}
			}
			w = append(w, parts...)
		case '$', '`':
			pt, ok, err := p.dollar(false)
			if err != nil {
				return nil, err
			}
			if ok {
				flush()
				w = append(w, pt)
			} else {
				lit.WriteByte(c)
				p.pos++
			}
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	return w, nil
}

func (p *parser) doubleQuoted() ([]part, error) {
	p.pos++ // opening quote
	var parts []part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, part{kind: quotedPart, text: lit.String()})
			lit.Reset()
		}
	}
	for {
		if p.eof() {
			return nil, &SyntaxError{"unexpected EOF while looking for matching `\"'"}
		}
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			flush()
			return parts, nil
		case '\\':
			if p.pos+1 < len(p.src) && strings.IndexByte("$`\"\\\n", p.src[p.pos+1]) >= 0 {
				if p.src[p.pos+1] != '\n' {
					lit.WriteByte(p.src[p.pos+1])
				}
				p.pos += 2
				continue
			}
			lit.WriteByte(c)
			p.pos++
		case '$', '`':
			pt, ok, err := p.dollar(true)
			if err != nil {
				return nil, err
			}
			if ok {
				flush()
				parts = append(parts, pt)
			} else {
				lit.WriteByte(c)
				p.pos++
			}
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
}

// dollar parses $NAME, ${NAME}, $?, $(...) or `...` at pos.
func (p *parser) dollar(quoted bool) (part, bool, error) {
	rest := p.src[p.pos:]
	if rest[0] == '`' {
		end := strings.IndexByte(rest[1:], '`')
		if end < 0 {
			return part{}, false, &SyntaxError{"unexpected EOF while looking for matching ``'"}
		}
		p.pos += end + 2
		return part{kind: subPart, text: rest[1 : end+1], quoted: quoted}, true, nil
	}
	if len(rest) < 2 {
		return part{}, false, nil
	}
	switch c := rest[1]; {
	case c == '(':
		end, err := matchParen(rest[2:])
		if err != nil {
			return part{}, false, err
		}
		p.pos += end + 3
		return part{kind: subPart, text: rest[2 : end+2], quoted: quoted}, true, nil
	case c == '{':
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return part{}, false, &SyntaxError{"unexpected EOF while looking for matching `}'"}
		}
		name := rest[2:end]
		if !validName(name) && !(len(name) == 1 && strings.IndexByte("?$#!@*-0123456789", name[0]) >= 0) {
			return part{}, false, &SyntaxError{rest[:end+1] + ": bad substitution"}
		}
		p.pos += end + 1
		return part{kind: varPart, text: name, quoted: quoted}, true, nil
	case strings.IndexByte("?$#!@*-0123456789", c) >= 0:
		p.pos += 2
		return part{kind: varPart, text: string(c), quoted: quoted}, true, nil
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		n := 2
		for n < len(rest) && (rest[n] == '_' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9') {
			n++
		}
		p.pos += n
		return part{kind: varPart, text: rest[1:n], quoted: quoted}, true, nil
	}
	return part{}, false, nil
}

// matchParen finds the ) closing a $( whose body starts s, skipping quoted
// text and nested parentheses.
func matchParen(s string) (int, error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return 0, &SyntaxError{"unexpected EOF while looking for matching `''"}
			}
			i += j + 1
		case '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return 0, &SyntaxError{"unexpected EOF while looking for matching `\"'"}
			}
			i = j
		case '(':
			depth++
			if depth > 64 {
				return 0, &SyntaxError{"expression recursion level exceeded"}
			}
		case ')':
			if depth == 0 {
				return i, nil
			}
			depth--
		}
	}
	return 0, &SyntaxError{"unexpected EOF while looking for matching `)'"}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// String renders a parsed line back in a canonical form; the fuzz target
// uses it to check that parsing is stable.
func (pl pipeline) String() string {
	var b strings.Builder
	for i, c := range pl.cmds {
		if i > 0 {
			b.WriteString(" | ")
		}
		for j, a := range c.assigns {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", a.name, a.value)
		}
		for j, a := range c.args {
			if j > 0 || len(c.assigns) > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a.String())
		}
		for _, r := range c.redirs {
			fmt.Fprintf(&b, " %d%s%s", r.fd, r.op, r.target)
		}
	}
	if pl.next != "" {
		b.WriteString(" " + pl.next)
	}
	return b.String()
}

func (w word) String() string {
	var b strings.Builder
	for _, pt := range w {
		switch pt.kind {
		case litPart:
			b.WriteString(pt.text)
		case quotedPart:
			b.WriteString("'" + strings.ReplaceAll(pt.text, "'", `'\''`) + "'")
		case varPart:
			b.WriteString("${" + pt.text + "}")
		case subPart:
			b.WriteString("$(" + pt.text + ")")
		}
	}
	return b.String()
}
