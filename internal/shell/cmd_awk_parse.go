package shell

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// awkNode is an expression.
type awkNode struct {
	op   string // see evalNode
	val  awkValue
	name string
	re   *regexp.Regexp
	args []*awkNode
}

// awkStmt is a statement.
type awkStmt struct {
	op         string // expr print printf if while do for forin block next exit delete break continue
	exprs      []*awkNode
	cond       *awkNode
	init, post *awkStmt
	body, els  *awkStmt
	list       []*awkStmt
	redir      string // "", ">", ">>" or "|"
	dest       *awkNode
	name, arr  string
}

type awkRule struct {
	pat, pat2 *awkNode // nil pat: every record; pat2: a range
	body      *awkStmt // nil: print $0
	inRange   bool
}

type awkProgram struct {
	begin, end []*awkStmt
	rules      []*awkRule
}

// awkErrKind classifies syntax errors, which each awk words differently.
type awkErrKind uint8

const (
	aeUnexpected awkErrKind = iota
	aeRunawayString
	aeRunawayRegex
	aeBadChar
	aeBadRegex
)

// awkError is a syntax error at pos in the program.
type awkError struct {
	kind   awkErrKind
	pos    int
	text   string // the token, character or literal
	eof    bool   // the program ended early
	braces int    // open braces at the error
	parens int    // open parentheses at the error
}

func (e *awkError) Error() string {
	return fmt.Sprintf("awk syntax error at %d near %q", e.pos, e.text)
}

// maxAwkDepth bounds the parser's recursion on hostile programs: about 250
// nested parentheses (mawk gives up between 150 and 300).
const maxAwkDepth = 1000

type awkParser struct {
	lx     awkLexer
	tok    awkToken
	braces int
	parens int
	depth  int
	// afterBrace is set when the token before the current one was }.
	afterBrace bool
}

// parseAwk compiles an awk program.
// noPow refuses the ** operator, which mawk lacks.
func parseAwk(src string, noPow bool) (*awkProgram, error) {
	p := &awkParser{lx: awkLexer{src: src, noPow: noPow}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	prog := &awkProgram{}
	for {
		p.skipTerms()
		if p.tok.kind == akEOF {
			return prog, nil
		}
		if err := p.item(prog); err != nil {
			return nil, err
		}
		switch {
		case p.tok.kind == akEOF:
		case p.tok.kind == akNewline || p.isPunct(";"):
		case p.afterBrace: // items may follow an action on its line
		default:
			return nil, p.unexpected()
		}
	}
}

func (p *awkParser) advance() error {
	p.afterBrace = p.isPunct("}")
	t, err := p.lx.next()
	if err != nil {
		if ae, ok := err.(*awkError); ok {
			ae.braces, ae.parens = p.braces, p.parens
		}
		return err
	}
	p.tok = t
	return nil
}

func (p *awkParser) isPunct(s string) bool   { return p.tok.kind == akPunct && p.tok.text == s }
func (p *awkParser) isKeyword(s string) bool { return p.tok.kind == akKeyword && p.tok.text == s }

func (p *awkParser) unexpected() error {
	return &awkError{kind: aeUnexpected, pos: p.tok.pos, text: p.tok.text, eof: p.tok.kind == akEOF,
		braces: p.braces, parens: p.parens}
}

func (p *awkParser) expect(s string) error {
	if !p.isPunct(s) {
		return p.unexpected()
	}
	switch s {
	case "{":
		p.braces++
	case "}":
		p.braces--
	case "(":
		p.parens++
	case ")":
		p.parens--
	}
	return p.advance()
}

func (p *awkParser) skipNewlines() error {
	for p.tok.kind == akNewline {
		if err := p.advance(); err != nil {
			return err
		}
	}
	return nil
}

func (p *awkParser) skipTerms() error {
	for p.tok.kind == akNewline || p.isPunct(";") {
		if err := p.advance(); err != nil {
			return err
		}
	}
	return nil
}

func (p *awkParser) item(prog *awkProgram) error {
	switch {
	case p.isKeyword("BEGIN"), p.isKeyword("END"):
		which := p.tok.text
		if err := p.advance(); err != nil {
			return err
		}
		b, err := p.block()
		if err != nil {
			return err
		}
		if which == "BEGIN" {
			prog.begin = append(prog.begin, b)
		} else {
			prog.end = append(prog.end, b)
		}
		return nil
	case p.isPunct("{"):
		b, err := p.block()
		if err != nil {
			return err
		}
		prog.rules = append(prog.rules, &awkRule{body: b})
		return nil
	case p.isKeyword("function"), p.isKeyword("func"):
		// User functions are beyond what bots send; refuse them the way
		// a parse error would rather than half-run them.
		return p.unexpected()
	}
	r := &awkRule{}
	var err error
	if r.pat, err = p.expr(false); err != nil {
		return err
	}
	if p.isPunct(",") {
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.skipNewlines(); err != nil {
			return err
		}
		if r.pat2, err = p.expr(false); err != nil {
			return err
		}
	}
	if p.isPunct("{") {
		if r.body, err = p.block(); err != nil {
			return err
		}
	}
	prog.rules = append(prog.rules, r)
	return nil
}

func (p *awkParser) block() (*awkStmt, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	b := &awkStmt{op: "block"}
	for {
		if err := p.skipTerms(); err != nil {
			return nil, err
		}
		if p.isPunct("}") {
			return b, p.expect("}")
		}
		if p.tok.kind == akEOF {
			return nil, p.unexpected()
		}
		s, err := p.stmt()
		if err != nil {
			return nil, err
		}
		b.list = append(b.list, s)
	}
}

// endSimple checks what follows a simple statement.
func (p *awkParser) endSimple() error {
	if p.tok.kind == akNewline || p.isPunct(";") || p.isPunct("}") {
		return nil
	}
	return p.unexpected()
}

func (p *awkParser) enter() error {
	p.depth++
	if p.depth > maxAwkDepth {
		// mawk's parser stack overflows as a plain syntax error.
		e := p.unexpected().(*awkError)
		e.parens = 0
		return e
	}
	return nil
}

func (p *awkParser) stmt() (*awkStmt, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.isPunct("{") {
		return p.block()
	}
	if p.isPunct(";") {
		return &awkStmt{op: "block"}, p.advance()
	}
	if p.tok.kind != akKeyword {
		s, err := p.simple()
		if err != nil {
			return nil, err
		}
		return s, p.endSimple()
	}
	switch kw := p.tok.text; kw {
	case "if":
		cond, err := p.condition()
		if err != nil {
			return nil, err
		}
		s := &awkStmt{op: "if", cond: cond}
		if s.body, err = p.stmt(); err != nil {
			return nil, err
		}
		if err := p.skipTerms(); err != nil {
			return nil, err
		}
		if p.isKeyword("else") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
			if s.els, err = p.stmt(); err != nil {
				return nil, err
			}
		}
		return s, nil
	case "while":
		cond, err := p.condition()
		if err != nil {
			return nil, err
		}
		s := &awkStmt{op: "while", cond: cond}
		if p.isPunct(";") {
			s.body = &awkStmt{op: "block"}
			return s, p.advance()
		}
		s.body, err = p.stmt()
		return s, err
	case "do":
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.skipNewlines(); err != nil {
			return nil, err
		}
		body, err := p.stmt()
		if err != nil {
			return nil, err
		}
		if err := p.skipTerms(); err != nil {
			return nil, err
		}
		if !p.isKeyword("while") {
			return nil, p.unexpected()
		}
		cond, err := p.condition()
		if err != nil {
			return nil, err
		}
		return &awkStmt{op: "do", cond: cond, body: body}, p.endSimple()
	case "for":
		return p.forStmt()
	}
	s, err := p.simple()
	if err != nil {
		return nil, err
	}
	return s, p.endSimple()
}

// keywordParen steps over a keyword (if, while, for) and the "(" after it.
func (p *awkParser) keywordParen() error {
	if err := p.advance(); err != nil {
		return err
	}
	return p.expect("(")
}

// condition parses ( expr ) and the newlines after it.
func (p *awkParser) condition() (*awkNode, error) {
	if err := p.keywordParen(); err != nil {
		return nil, err
	}
	e, err := p.expr(false)
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return e, p.skipNewlines()
}

func (p *awkParser) forStmt() (*awkStmt, error) {
	if err := p.keywordParen(); err != nil {
		return nil, err
	}
	// for (k in a)
	if p.tok.kind == akName {
		save := *p
		name := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isKeyword("in") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != akName {
				return nil, p.unexpected()
			}
			arr := p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.isPunct(")") {
				if err := p.expect(")"); err != nil {
					return nil, err
				}
				if err := p.skipNewlines(); err != nil {
					return nil, err
				}
				body, err := p.stmt()
				return &awkStmt{op: "forin", name: name, arr: arr, body: body}, err
			}
		}
		*p = save
	}
	s := &awkStmt{op: "for"}
	var err error
	if !p.isPunct(";") {
		if s.init, err = p.simple(); err != nil {
			return nil, err
		}
	}
	if err := p.expect(";"); err != nil {
		return nil, err
	}
	if err := p.skipNewlines(); err != nil {
		return nil, err
	}
	if !p.isPunct(";") {
		if s.cond, err = p.expr(false); err != nil {
			return nil, err
		}
	}
	if err := p.expect(";"); err != nil {
		return nil, err
	}
	if err := p.skipNewlines(); err != nil {
		return nil, err
	}
	if !p.isPunct(")") {
		if s.post, err = p.simple(); err != nil {
			return nil, err
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if err := p.skipNewlines(); err != nil {
		return nil, err
	}
	if p.isPunct(";") {
		s.body = &awkStmt{op: "block"}
		return s, p.advance()
	}
	s.body, err = p.stmt()
	return s, err
}

// simple parses a statement that needs a terminator after it.
func (p *awkParser) simple() (*awkStmt, error) {
	if p.tok.kind == akKeyword {
		switch kw := p.tok.text; kw {
		case "print", "printf":
			return p.printStmt()
		case "next", "break", "continue", "nextfile":
			return &awkStmt{op: kw}, p.advance()
		case "exit":
			if err := p.advance(); err != nil {
				return nil, err
			}
			s := &awkStmt{op: "exit"}
			if p.tok.kind != akNewline && !p.isPunct(";") && !p.isPunct("}") && p.tok.kind != akEOF {
				e, err := p.expr(false)
				if err != nil {
					return nil, err
				}
				s.exprs = []*awkNode{e}
			}
			return s, nil
		case "delete":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != akName {
				return nil, p.unexpected()
			}
			s := &awkStmt{op: "delete", name: p.tok.text}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.isPunct("[") {
				idx, err := p.subscript()
				if err != nil {
					return nil, err
				}
				s.exprs = idx
			}
			return s, nil
		case "getline":
		default:
			return nil, p.unexpected()
		}
	}
	e, err := p.expr(false)
	if err != nil {
		return nil, err
	}
	return &awkStmt{op: "expr", exprs: []*awkNode{e}}, nil
}

func (p *awkParser) printStmt() (*awkStmt, error) {
	s := &awkStmt{op: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != akNewline && !p.isPunct(";") && !p.isPunct("}") && !p.isPunct(">") && !p.isPunct(">>") &&
		!p.isPunct("|") && p.tok.kind != akEOF {
		list, err := p.exprList(true)
		if err != nil {
			return nil, err
		}
		if len(list) == 1 && list[0].op == "group" {
			list = list[0].args
		}
		s.exprs = list
	}
	if s.op == "printf" && len(s.exprs) == 0 {
		return nil, p.unexpected()
	}
	if p.isPunct(">") || p.isPunct(">>") || p.isPunct("|") {
		s.redir = p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		dest, err := p.concat(true)
		if err != nil {
			return nil, err
		}
		s.dest = dest
	}
	return s, nil
}

func (p *awkParser) exprList(noGT bool) ([]*awkNode, error) {
	var list []*awkNode
	for {
		e, err := p.expr(noGT)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.isPunct(",") {
			return list, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.skipNewlines(); err != nil {
			return nil, err
		}
	}
}

func (p *awkParser) subscript() ([]*awkNode, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	list, err := p.exprList(false)
	if err != nil {
		return nil, err
	}
	if !p.isPunct("]") {
		return nil, p.unexpected()
	}
	return list, p.advance()
}

func isLvalue(n *awkNode) bool { return n.op == "var" || n.op == "index" || n.op == "field" }

// expr is the lowest precedence level: assignment and ?:. noGT means a >
// ends the expression (print's output redirection).
func (p *awkParser) expr(noGT bool) (*awkNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.binary(0, noGT)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == akPunct {
		switch op := p.tok.text; op {
		case "=", "+=", "-=", "*=", "/=", "%=", "^=", "**=":
			if !isLvalue(left) {
				return nil, p.unexpected()
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
			right, err := p.expr(noGT)
			if err != nil {
				return nil, err
			}
			return &awkNode{op: "assign", name: strings.TrimSuffix(op, "="), args: []*awkNode{left, right}}, nil
		case "?":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
			yes, err := p.expr(noGT)
			if err != nil {
				return nil, err
			}
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
			if !p.isPunct(":") {
				return nil, p.unexpected()
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
			no, err := p.expr(noGT)
			if err != nil {
				return nil, err
			}
			return &awkNode{op: "cond", args: []*awkNode{left, yes, no}}, nil
		}
	}
	return left, nil
}

// awkLevels are the binary operator levels from loosest to tightest,
// above concatenation.
var awkLevels = [][]string{{"||"}, {"&&"}, {"in"}, {"~", "!~"}, {"<", "<=", "!=", "==", ">", ">="}}

func (p *awkParser) binary(level int, noGT bool) (*awkNode, error) {
	if level == len(awkLevels) {
		return p.concat(noGT)
	}
	left, err := p.binary(level+1, noGT)
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range awkLevels[level] {
			if o == "in" && p.isKeyword("in") || o != "in" && p.isPunct(o) && !(o == ">" && noGT) {
				op = o
			}
		}
		if level == len(awkLevels)-1 && p.isPunct("|") {
			// cmd | getline [var]; in print, | may instead start a pipe.
			save := *p
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.isKeyword("getline") {
				if noGT {
					*p = save
					return left, nil
				}
				return nil, p.unexpected()
			}
			g, err := p.getline()
			if err != nil {
				return nil, err
			}
			g.op = "cmdgetline"
			g.args = append([]*awkNode{left}, g.args...)
			left = g
			continue
		}
		if op == "" {
			return left, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if op == "&&" || op == "||" {
			if err := p.skipNewlines(); err != nil {
				return nil, err
			}
		}
		if op == "in" {
			if p.tok.kind != akName {
				return nil, p.unexpected()
			}
			args := []*awkNode{left}
			if left.op == "group" {
				args = left.args
			}
			left = &awkNode{op: "in", name: p.tok.text, args: args}
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		right, err := p.binary(level+1, noGT)
		if err != nil {
			return nil, err
		}
		left = &awkNode{op: op, args: []*awkNode{left, right}}
	}
}

// startsOperand reports whether the token can begin a concatenated operand.
func (p *awkParser) startsOperand() bool {
	switch p.tok.kind {
	case akNumber, akString, akRegex, akName, akBuiltin:
		return true
	case akPunct:
		return p.tok.text == "$" || p.tok.text == "(" || p.tok.text == "++" || p.tok.text == "--"
	}
	return false
}

func (p *awkParser) concat(noGT bool) (*awkNode, error) {
	left, err := p.additive()
	if err != nil {
		return nil, err
	}
	for p.startsOperand() {
		right, err := p.additive()
		if err != nil {
			return nil, err
		}
		left = &awkNode{op: "concat", args: []*awkNode{left, right}}
	}
	return left, nil
}

func (p *awkParser) additive() (*awkNode, error) {
	return p.leftAssoc(p.multiplicative, "+", "-")
}

func (p *awkParser) multiplicative() (*awkNode, error) {
	return p.leftAssoc(p.unary, "*", "/", "%")
}

// leftAssoc parses operands of next joined by the left-associative
// operators ops.
func (p *awkParser) leftAssoc(next func() (*awkNode, error), ops ...string) (*awkNode, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for slices.ContainsFunc(ops, p.isPunct) {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &awkNode{op: op, args: []*awkNode{left, right}}
	}
	return left, nil
}

func (p *awkParser) unary() (*awkNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.isPunct("!") || p.isPunct("-") || p.isPunct("+") {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &awkNode{op: "u" + op, args: []*awkNode{e}}, nil
	}
	return p.power()
}

func (p *awkParser) power() (*awkNode, error) {
	base, err := p.postfix()
	if err != nil {
		return nil, err
	}
	if p.isPunct("^") || p.isPunct("**") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		exp, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &awkNode{op: "^", args: []*awkNode{base, exp}}, nil
	}
	return base, nil
}

func (p *awkParser) postfix() (*awkNode, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	if isLvalue(e) && (p.isPunct("++") || p.isPunct("--")) {
		op := "post" + p.tok.text
		return &awkNode{op: op, args: []*awkNode{e}}, p.advance()
	}
	return e, nil
}

func (p *awkParser) primary() (*awkNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.tok
	switch t.kind {
	case akNumber:
		return &awkNode{op: "lit", val: awkNum(t.num)}, p.advance()
	case akString:
		return &awkNode{op: "lit", val: awkStr(t.text)}, p.advance()
	case akRegex:
		re, err := compileAwkRegex(t.text)
		if err != nil {
			return nil, &awkError{kind: aeBadRegex, pos: t.pos, text: t.text}
		}
		return &awkNode{op: "regex", name: t.text, re: re}, p.advance()
	case akName:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isPunct("[") {
			idx, err := p.subscript()
			if err != nil {
				return nil, err
			}
			return &awkNode{op: "index", name: t.text, args: idx}, nil
		}
		return &awkNode{op: "var", name: t.text}, nil
	case akBuiltin:
		return p.call()
	case akKeyword:
		if t.text == "getline" {
			return p.getline()
		}
	case akPunct:
		switch t.text {
		case "$":
			if err := p.advance(); err != nil {
				return nil, err
			}
			var e *awkNode
			var err error
			if p.isPunct("++") || p.isPunct("--") || p.isPunct("-") {
				e, err = p.unary()
			} else {
				e, err = p.primary()
			}
			if err != nil {
				return nil, err
			}
			return &awkNode{op: "field", args: []*awkNode{e}}, nil
		case "++", "--":
			if err := p.advance(); err != nil {
				return nil, err
			}
			e, err := p.primary()
			if err != nil {
				return nil, err
			}
			if !isLvalue(e) {
				return nil, p.unexpected()
			}
			return &awkNode{op: "pre" + t.text, args: []*awkNode{e}}, nil
		case "(":
			if err := p.expect("("); err != nil {
				return nil, err
			}
			list, err := p.exprList(false)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if len(list) > 1 {
				if !p.isKeyword("in") && !p.printContext() {
					return nil, p.unexpected()
				}
				return &awkNode{op: "group", args: list}, nil
			}
			return &awkNode{op: "paren", args: list}, nil
		case "-", "+", "!":
			return p.unary()
		}
	}
	return nil, p.unexpected()
}

// printContext reports whether a (a, b) list can end here: print's
// argument list is followed by a terminator or a redirection.
func (p *awkParser) printContext() bool {
	return p.tok.kind == akNewline || p.tok.kind == akEOF || p.isPunct(";") || p.isPunct("}") ||
		p.isPunct(">") || p.isPunct(">>") || p.isPunct("|")
}

// getline parses getline [var] [< file].
func (p *awkParser) getline() (*awkNode, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	g := &awkNode{op: "getline"}
	var target *awkNode
	if p.tok.kind == akName || p.isPunct("$") {
		e, err := p.primary()
		if err != nil {
			return nil, err
		}
		if !isLvalue(e) {
			return nil, p.unexpected()
		}
		target = e
	}
	if p.isPunct("<") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		src, err := p.primary()
		if err != nil {
			return nil, err
		}
		g.op = "filegetline"
		g.args = []*awkNode{src}
	}
	if target != nil {
		g.args = append(g.args, target)
		g.name = "var"
	}
	return g, nil
}

// call parses a builtin function call; length may omit its parentheses.
func (p *awkParser) call() (*awkNode, error) {
	name := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	n := &awkNode{op: "call", name: name}
	if !p.isPunct("(") {
		if name == "length" {
			return n, nil
		}
		return nil, p.unexpected()
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if !p.isPunct(")") {
		args, err := p.exprList(false)
		if err != nil {
			return nil, err
		}
		n.args = args
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	min, max := awkArity(name)
	if len(n.args) < min || len(n.args) > max {
		return nil, p.unexpected()
	}
	if (name == "sub" || name == "gsub") && len(n.args) == 3 && !isLvalue(n.args[2]) ||
		name == "split" && n.args[1].op != "var" {
		return nil, p.unexpected()
	}
	return n, nil
}

func awkArity(name string) (int, int) {
	switch name {
	case "length":
		return 0, 1
	case "substr":
		return 2, 3
	case "index", "atan2":
		return 2, 2
	case "split":
		return 2, 3
	case "sub", "gsub":
		return 2, 3
	case "match":
		return 2, 2
	case "sprintf":
		return 1, 256
	case "rand":
		return 0, 0
	case "srand":
		return 0, 1
	}
	return 1, 1
}

// compileAwkRegex turns an awk ERE into a Go regexp: awk's escapes are
// mostly Go's, and a bare { that starts no repetition is literal.
func compileAwkRegex(src string) (*regexp.Regexp, error) {
	if len(src) > 4096 {
		return nil, fmt.Errorf("regex too long")
	}
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			i++
			switch n := src[i]; n {
			case '/', '"':
				b.WriteByte(n)
			case '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\':
				b.WriteByte('\\')
				b.WriteByte(n)
			case 'n':
				b.WriteString(`\n`)
			case 't':
				b.WriteString(`\t`)
			case 'r':
				b.WriteString(`\r`)
			case 'y':
				b.WriteString(`\b`)
			case 's', 'S', 'w', 'W', 'B':
				b.WriteByte('\\')
				b.WriteByte(n)
			case '<', '>':
				b.WriteString(`\b`)
			default:
				b.WriteString(regexp.QuoteMeta(string(n)))
			}
		case c == '{':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == ',') {
				j++
			}
			if j < len(src) && src[j] == '}' && j > i+1 && i > 0 {
				b.WriteString(src[i : j+1])
				i = j
			} else {
				b.WriteString(`\{`)
			}
		case c == '}':
			b.WriteString(`\}`)
		default:
			b.WriteByte(c)
		}
	}
	return regexp.Compile(b.String())
}
