package imap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// kind is the kind of a command argument.
type kind uint8

// The kinds of argument.
const (
	atom kind = iota // an atom, NIL, a number, a sequence set, BODY[...]<...>
	str              // a quoted string or a literal
	list             // a parenthesized list
)

// arg is one parsed command argument.
type arg struct {
	kind kind
	s    string // atom or string value
	list []arg
}

// command is one command line, with its literals.
type command struct {
	tag  string
	name string // upper case
	args []arg
	// err is a syntax error in the arguments: the command gets BAD.
	err error
}

// limits bound what one command may take. Dovecot's login process reads
// through a 1 KiB buffer (a longer atom ends the connection: "Input
// buffer full") and takes literals below 8 KiB; the mail process takes
// literals below 64 KiB in commands.
type limits struct {
	token   int // longest atom or quoted string; 0 means line
	line    int // longest line
	literal int // the first literal size refused
	command int // all the bytes of one command
}

var (
	preLoginLimits  = limits{token: 1022, line: 64 << 10, literal: 8192, command: 64 << 10}
	postLoginLimits = limits{line: 256 << 10, literal: 64 << 10, command: 1 << 20}
)

// wireError is an error whose text Dovecot sends the client, as it
// spells it.
type wireError string

func (e wireError) Error() string { return string(e) }

// fatal is a reader error that ends the connection after an untagged BYE
// with its text.
type fatal string

func (f fatal) Error() string { return string(f) }

// The fatal errors, with Dovecot's texts.
const (
	errInputFull      fatal = "Input buffer full, aborting"
	errLiteralTooLong fatal = "Literal size too large"
)

// errInvalidTag is an empty line or a bad tag.
var errInvalidTag = wireError("Invalid tag")

// errNoName is a tag without a command name.
var errNoName = wireError("Invalid command name")

// reader reads commands from a client.
type reader struct {
	r   *bufio.Reader
	lim limits
	// cont asks a synchronizing literal's bytes ("+ OK").
	cont func() error
}

// readLine reads one line without its CRLF (a bare LF also ends a line,
// as Dovecot takes it).
func (rd *reader) readLine(max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := rd.r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errInputFull
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			return bytes.TrimSuffix(line, []byte("\r")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// read reads one command. An error is an I/O or fatal error; a syntax
// error is the command's err, after the whole command was read.
func (rd *reader) read() (*command, error) {
	line, err := rd.readLine(rd.lim.line)
	if err != nil {
		return nil, err
	}
	cmd := &command{}
	tag, rest, _ := bytes.Cut(line, []byte(" "))
	if !validTag(tag) {
		cmd.tag, cmd.err = "*", errInvalidTag
		return cmd, nil
	}
	cmd.tag = string(tag)
	name, rest, _ := bytes.Cut(rest, []byte(" "))
	if !validName(name) {
		cmd.err = errNoName
		return cmd, nil
	}
	cmd.name = strings.ToUpper(string(name))
	p := &parser{lim: rd.lim.token, stack: [][]arg{nil}}
	total := len(line)
	for {
		n, sync, err := p.feed(rest)
		if f := fatal(""); errors.As(err, &f) {
			return nil, err
		}
		if err != nil {
			cmd.err = err
			return cmd, nil
		}
		if n < 0 {
			break
		}
		if n >= rd.lim.literal || total+n > rd.lim.command {
			return nil, errLiteralTooLong
		}
		if sync {
			if err := rd.cont(); err != nil {
				return nil, err
			}
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(rd.r, lit); err != nil {
			return nil, err
		}
		p.push(arg{kind: str, s: string(lit)})
		if rest, err = rd.readLine(rd.lim.line); err != nil {
			return nil, err
		}
		if total += n + len(rest); total > rd.lim.command {
			return nil, errInputFull
		}
	}
	if len(p.stack) > 1 {
		cmd.err = wireError("Missing ')'")
		return cmd, nil
	}
	cmd.args = p.stack[0]
	return cmd, nil
}

// validTag: a tag is one or more atom characters other than '+'.
func validTag(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	for _, c := range t {
		if !atomChar(c) || c == '+' || c == '\\' {
			return false
		}
	}
	return true
}

func validName(n []byte) bool {
	if len(n) == 0 {
		return false
	}
	for _, c := range n {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// atomChar: any CHAR but atom-specials (RFC 3501 §9: ( ) { SP CTL % * "
// \ ]); '%' and '*' are let through, as list wildcards and sequence sets
// need them, and a backslash as flags (\Seen) need it.
func atomChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`(){"]`, rune(c))
}

// parser parses arguments line by line, a literal between lines.
type parser struct {
	lim   int
	stack [][]arg // stack[0] the top level, then the open lists
}

func (p *parser) push(a arg) {
	top := len(p.stack) - 1
	p.stack[top] = append(p.stack[top], a)
}

// maxDepth bounds list nesting.
const maxDepth = 32

// feed parses one line's arguments. It returns the size of the literal
// that ends the line and whether it is synchronizing, or -1.
func (p *parser) feed(line []byte) (int, bool, error) {
	i := 0
	for i < len(line) {
		switch c := line[i]; {
		case c == ' ':
			i++
		case c == '(':
			if len(p.stack) > maxDepth {
				return -1, false, wireError("Too deep nesting")
			}
			p.stack = append(p.stack, []arg{})
			i++
		case c == ')':
			if len(p.stack) == 1 {
				return -1, false, wireError("Unexpected ')'")
			}
			l := p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			p.push(arg{kind: list, list: l})
			i++
		case c == '"':
			s, n, err := quoted(line[i:], p.lim)
			if err != nil {
				return -1, false, err
			}
			p.push(arg{kind: str, s: s})
			i += n
		case c == '{':
			end := bytes.IndexByte(line[i:], '}')
			if end < 0 || i+end != len(line)-1 {
				return -1, false, wireError("Expected CR/LF after literal")
			}
			spec := line[i+1 : i+end]
			sync := true
			if bytes.HasSuffix(spec, []byte("+")) {
				spec, sync = spec[:len(spec)-1], false
			}
			n, err := strconv.ParseUint(string(spec), 10, 31)
			if err != nil || len(spec) == 0 || spec[0] == '+' {
				return -1, false, wireError("Invalid literal size")
			}
			return int(n), sync, nil
		default:
			n, err := atomLen(line[i:], p.lim)
			if err != nil {
				return -1, false, err
			}
			p.push(arg{kind: atom, s: string(line[i : i+n])})
			i += n
		}
	}
	return -1, false, nil
}

// quoted reads a quoted string at the start of b, returning it and the
// bytes it took.
func quoted(b []byte, lim int) (string, int, error) {
	var out []byte
	for i := 1; i < len(b); i++ {
		if lim > 0 && i > lim {
			return "", 0, errInputFull
		}
		switch c := b[i]; c {
		case '"':
			return string(out), i + 1, nil
		case '\\':
			if i+1 >= len(b) || (b[i+1] != '"' && b[i+1] != '\\') {
				return "", 0, wireError("Invalid escape in quoted string")
			}
			i++
			out = append(out, b[i])
		case 0, '\r', '\n':
			return "", 0, wireError("Invalid characters in quoted string")
		default:
			out = append(out, c)
		}
	}
	return "", 0, wireError("Missing '\"'")
}

// atomLen measures the atom at the start of b. A '[' opens a section
// (BODY[HEADER.FIELDS (FROM TO)]) that runs to its ']' whatever it holds,
// as fetch attributes need.
func atomLen(b []byte, lim int) (int, error) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '[' {
			end := bytes.IndexByte(b[i:], ']')
			if end < 0 {
				return 0, wireError("Missing ']'")
			}
			i += end + 1
			continue
		}
		if c == ' ' || c == '(' || c == ')' {
			break
		}
		if !atomChar(c) {
			return 0, wireError("Invalid characters in atom")
		}
		i++
	}
	if lim > 0 && i > lim {
		return 0, errInputFull
	}
	return i, nil
}
