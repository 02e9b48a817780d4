package redis

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

// commandsRESP holds the RESP3 replies of Redis 7.0.15 to COMMAND and to
// COMMAND DOCS, captured from the real server. They are served as they are,
// and they define which commands exist and their arities, so that argument
// count errors and unknown-command errors match real Redis for all 240
// commands, including those this server does not carry out.
//
//go:embed commands.resp.gz
var commandsRESP []byte

// cmdSpec is one command or subcommand of the table.
type cmdSpec struct {
	name  string // "get", "config|get"
	arity int    // Redis convention: n exact, -n at least n
	sub   map[string]*cmdSpec
	info  value // its COMMAND INFO entry
	doc   value // its COMMAND DOCS entry (without the name)
}

type commandTable struct {
	specs map[string]*cmdSpec
	names []string // COMMAND order
	all   value    // the COMMAND reply
}

var commands = sync.OnceValue(func() *commandTable {
	t, err := loadCommands(commandsRESP)
	if err != nil {
		panic(fmt.Sprintf("redis: embedded command table: %v", err))
	}
	return t
})

func loadCommands(gz []byte) (*commandTable, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	all, rest, err := decodeValue(raw)
	if err != nil {
		return nil, fmt.Errorf("COMMAND: %w", err)
	}
	docs, _, err := decodeValue(rest)
	if err != nil {
		return nil, fmt.Errorf("COMMAND DOCS: %w", err)
	}
	t := &commandTable{specs: map[string]*cmdSpec{}, all: all}
	for _, e := range all.elems {
		s, err := specOf(e)
		if err != nil {
			return nil, err
		}
		t.specs[s.name], t.names = s, append(t.names, s.name)
	}
	if err := attachDocs(t.specs, docs); err != nil {
		return nil, err
	}
	return t, nil
}

// specOf reads a COMMAND entry: name, arity, flags, first, last, step,
// ACL categories, tips, key specs, subcommands.
func specOf(e value) (*cmdSpec, error) {
	if len(e.elems) != 10 || e.elems[0].k != kBulk || e.elems[1].k != kInt {
		return nil, fmt.Errorf("%w: command entry", errBadRESP)
	}
	s := &cmdSpec{name: e.elems[0].s, arity: int(e.elems[1].n), info: e}
	for _, se := range e.elems[9].elems {
		sub, err := specOf(se)
		if err != nil {
			return nil, err
		}
		if s.sub == nil {
			s.sub = map[string]*cmdSpec{}
		}
		_, short, _ := strings.Cut(sub.name, "|")
		s.sub[short] = sub
	}
	return s, nil
}

// attachDocs hangs each COMMAND DOCS entry on its spec; subcommand docs are
// nested under the "subcommands" key of their container's doc.
func attachDocs(specs map[string]*cmdSpec, docs value) error {
	if docs.k != kMap {
		return fmt.Errorf("%w: COMMAND DOCS is not a map", errBadRESP)
	}
	for i := 0; i+1 < len(docs.elems); i += 2 {
		name, doc := docs.elems[i].s, docs.elems[i+1]
		s, ok := specs[name]
		if !ok {
			if c, short, sub := strings.Cut(name, "|"); sub && specs[c] != nil {
				s = specs[c].sub[short]
			}
		}
		if s == nil {
			return fmt.Errorf("%w: docs for unknown command %q", errBadRESP, name)
		}
		s.doc = doc
		for j := 0; j+1 < len(doc.elems); j += 2 {
			if doc.elems[j].s == "subcommands" {
				if err := attachDocs(specs, doc.elems[j+1]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// lookup finds the spec of args, descending into subcommands. It returns
// the error reply Redis gives for an unknown command or subcommand or a
// wrong argument count, in that order of checks.
func (t *commandTable) lookup(args [][]byte) (*cmdSpec, *value) {
	s := t.specs[strings.ToLower(string(args[0]))]
	if s == nil {
		e := unknownCommand(args)
		return nil, &e
	}
	if s.sub != nil && len(args) >= 2 {
		sub := s.sub[strings.ToLower(string(args[1]))]
		if sub == nil {
			e := errReply(sanitize(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", clip(cstr(args[1]), 128), strings.ToUpper(cstr(args[0])))))
			return nil, &e
		}
		s = sub
	}
	if (s.arity > 0 && s.arity != len(args)) || len(args) < -s.arity {
		e := wrongArity(s.name)
		return nil, &e
	}
	return s, nil
}

func wrongArity(name string) value {
	return errReply("ERR wrong number of arguments for '" + name + "' command")
}

// unknownCommand is Redis's text: the name as typed, then each argument
// quoted and followed by a space while the list is under 128 bytes.
func unknownCommand(args [][]byte) value {
	var list strings.Builder
	for _, a := range args[1:] {
		if list.Len() >= 128 {
			break
		}
		list.WriteString("'" + clip(cstr(a), 128-list.Len()) + "' ")
	}
	return errReply(sanitize(fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", clip(cstr(args[0]), 128), list.String())))
}

// cstr is an argument as C's %s prints it: up to its first NUL.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// clip is C's %.Ns: at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sanitize replaces line ends in an error text with spaces, as Redis does
// before sending one.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
