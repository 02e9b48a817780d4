package shell

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// awkFlavor is what differs between the awks distributions ship.
type awkFlavor struct {
	name     string  // how it names itself in errors
	maxInt   float64 // integral values up to this print as integers
	inf, nan string
	divFatal bool // division by zero stops the program (mawk yields inf)
	status   int  // exit status of run-time errors
	syntax   int  // exit status of syntax errors
}

var (
	mawkFlavor    = awkFlavor{name: "mawk", maxInt: math.MaxInt32, inf: "inf", nan: "nan", status: 2, syntax: 2}
	gawkFlavor    = awkFlavor{name: "gawk", maxInt: 1e30, inf: "+inf", nan: "+nan", divFatal: true, status: 2, syntax: 1}
	busyboxFlavor = awkFlavor{name: "awk", maxInt: 1e18, inf: "inf", nan: "nan", divFatal: true, status: 1, syntax: 1}
)

// awkOf is the awk a distribution installs by default.
func awkOf(d *distro) awkFlavor {
	switch {
	case d.ash:
		return busyboxFlavor
	case d.rhel:
		return gawkFlavor
	}
	return mawkFlavor
}

// syntaxMessage renders a syntax error as the flavor prints it.
func (f awkFlavor) syntaxMessage(e *awkError, src string) string {
	line := 1 + strings.Count(src[:min(e.pos, len(src))], "\n")
	lines := 1 + strings.Count(strings.TrimSuffix(src, "\n"), "\n")
	snippet := func(s string) string {
		if len(s) > 10 {
			s = s[:10]
		}
		return s
	}
	switch f.name {
	case "mawk":
		switch e.kind {
		case aeRunawayString:
			return fmt.Sprintf("mawk: line %d: runaway string constant \"%s ...\n", line, snippet(e.text))
		case aeRunawayRegex:
			return fmt.Sprintf("mawk: line %d: runaway regular expression /%s ...\n", line, snippet(e.text))
		case aeBadChar:
			return fmt.Sprintf("mawk: %d: unexpected character '%s'\n", line, e.text)
		case aeBadRegex:
			return fmt.Sprintf("mawk: line %d: regular expression compile failed (%s)\n%s\n", line, regexReason(e.text), e.text)
		}
		switch {
		case e.eof && e.braces > 0:
			return fmt.Sprintf("mawk: line %d: missing } near end of file\n", lines+1)
		case e.eof || e.text == "\n":
			return fmt.Sprintf("mawk: line %d: syntax error at or near end of line\n", line)
		case e.text == ")" && e.parens <= 0:
			return fmt.Sprintf("mawk: line %d: extra ')'\n", line)
		case e.text == "}" && e.braces <= 0:
			return fmt.Sprintf("mawk: line %d: extra '}'\nmawk: line %d: syntax error at or near end of line\n", line, line)
		case e.parens > 0:
			return fmt.Sprintf("mawk: line %d: missing ) near %s\n", line, e.text)
		}
		return fmt.Sprintf("mawk: line %d: syntax error at or near %s\n", line, e.text)
	case "gawk":
		pos := min(e.pos, len(src))
		start := strings.LastIndexByte(src[:pos], '\n') + 1
		caret := pos
		end := strings.IndexByte(src[pos:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += pos
		}
		text := src[start:end]
		msg := "syntax error"
		switch {
		case e.kind == aeRunawayString:
			msg = "unterminated string"
		case e.kind == aeRunawayRegex:
			msg = "unterminated regexp"
			caret++
		case e.kind == aeBadChar:
			msg = "invalid char '" + e.text + "' in expression"
		case e.kind == aeBadRegex:
			return fmt.Sprintf("gawk: cmd. line:%d: error: Invalid regular expression: /%s/\n", line, e.text)
		case e.eof || e.text == "\n":
			msg = "unexpected newline or end of string"
			if e.eof && e.braces == 0 && !strings.HasSuffix(src, "\n") {
				line++
			}
		}
		return fmt.Sprintf("gawk: cmd. line:%d: %s\ngawk: cmd. line:%d: %s^ %s\n", line, text, line, strings.Repeat(" ", caret-start), msg)
	}
	switch e.kind {
	case aeRunawayString:
		return fmt.Sprintf("awk: cmd. line:%d: Unexpected end of string\n", line)
	case aeBadRegex:
		return fmt.Sprintf("awk: bad regex '%s': Invalid regular expression\n", e.text)
	}
	return fmt.Sprintf("awk: cmd. line:%d: Unexpected token\n", line)
}

// regexReason is mawk's complaint about a regex Go could not compile.
func regexReason(re string) string {
	if strings.Contains(re, "[") {
		return "bad class -- [], [^] or ["
	}
	if strings.ContainsAny(re, "()") {
		return "missing '(' or ')'"
	}
	return "missing operand"
}

// runtimeError is a run-time error with where it happened.
func (in *awkInterp) runtimeError(gawkMsg, mawkMsg, bbMsg string) error {
	file, fnr, nr := in.toStr(in.vars["FILENAME"]), in.toStr(in.vars["FNR"]), in.toStr(in.vars["NR"])
	if file == "" && in.inRecords && in.fl.name == "gawk" {
		file = "-"
	}
	var msg string
	switch in.fl.name {
	case "mawk":
		msg = fmt.Sprintf("mawk: run time error: %s\n\tFILENAME=\"%s\" FNR=%s NR=%s\n", mawkMsg, file, fnr, nr)
	case "gawk":
		where := ""
		if in.inRecords {
			where = fmt.Sprintf("(FILENAME=%s FNR=%s) ", file, fnr)
		}
		msg = fmt.Sprintf("gawk: cmd. line:1: %sfatal: %s\n", where, gawkMsg)
	default:
		msg = bbMsg + "\n"
	}
	return &awkFatal{msg: msg, status: in.fl.status}
}

func cmdAwk(c *call) int {
	fl := awkOf(c.s.d)
	if c.name == "gawk" {
		fl = gawkFlavor
	} else if c.name == "mawk" {
		fl = mawkFlavor
	}
	var assigns []string
	var progSrc string
	haveProg := false
	fs := " "
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		opt, val := a[:2], a[2:]
		switch opt {
		case "-F", "-v", "-f":
			if val == "" {
				if len(args) == 0 {
					c.errorf("%s: option requires an argument -- %s\n", fl.name, opt[1:])
					c.errorf("%s", awkUsage(fl, c.s.d))
					return 2
				}
				val, args = args[0], args[1:]
			}
			switch opt {
			case "-F":
				fs, _ = escAwk.decodeAll(val)
			case "-v":
				assigns = append(assigns, val)
			case "-f":
				data, err := c.s.fs.readFile(c.s.cred, c.s.abs(val))
				if err != nil {
					c.errorf("%s: couldn't open file %s\n", fl.name, val)
					return 2
				}
				progSrc += string(data) + "\n"
				haveProg = true
			}
		case "-W", "--":
			if strings.HasPrefix(a, "--vers") || a == "-W" && len(args) > 0 && strings.HasPrefix(args[0], "v") || strings.HasPrefix(a, "-Wv") {
				c.printf("%s", awkVersion(fl, c.s.d))
				return 0
			}
			if a == "-W" && len(args) > 0 {
				args = args[1:]
			}
		default:
			if a == "-V" && fl.name == "gawk" {
				c.printf("%s", awkVersion(fl, c.s.d))
				return 0
			}
			c.errorf("%s: not an option: %s\n", fl.name, a)
			return 2
		}
	}
	if !haveProg {
		if len(args) == 0 {
			c.errorf("%s", awkUsage(fl, c.s.d))
			if fl.name == "mawk" {
				return 0
			}
			return 1
		}
		progSrc, args = args[0], args[1:]
	}
	prog, err := parseAwk(progSrc, fl.name == "mawk")
	if err != nil {
		var ae *awkError
		if e, ok := err.(*awkError); ok {
			ae = e
		} else {
			ae = &awkError{}
		}
		c.errorf("%s", fl.syntaxMessage(ae, progSrc))
		return fl.syntax
	}
	in := newAwkInterp(c, fl, prog, fs)
	for _, a := range assigns {
		in.assign(a)
	}
	var files []string
	for _, a := range args {
		if name, _, ok := strings.Cut(a, "="); ok && validName(name) {
			in.assign(a)
			continue
		}
		files = append(files, a)
	}
	return in.run(files)
}

func awkUsage(fl awkFlavor, d *distro) string {
	switch fl.name {
	case "mawk":
		return mawkUsage
	case "gawk":
		return "Usage: gawk [POSIX or GNU style options] -f progfile [--] file ...\nUsage: gawk [POSIX or GNU style options] [--] 'program' file ...\n"
	}
	return d.busyboxBanner() + "\n\nUsage: awk [OPTIONS] [AWK_PROGRAM] [FILE]...\n\n\t-v VAR=VAL\tSet variable\n\t-F SEP\t\tUse SEP as field separator\n\t-f FILE\t\tRead program from FILE\n\t-e AWK_PROGRAM\n"
}

func awkVersion(fl awkFlavor, d *distro) string {
	if fl.name == "mawk" {
		return "mawk 1.3.4 20200120\nCopyright 2008-2019,2020, Thomas E. Dickey\nCopyright 1991-1996,2014, Michael D. Brennan\n\n" +
			"random-funcs:       srandom/random\nregex-funcs:        internal\ncompiled limits:\nsprintf buffer      8192\nmaximum-integer     2147483647\n"
	}
	if fl.name == "gawk" {
		v := "5.1.0, API: 3.0 (GNU MPFR 4.1.0-p13, GNU MP 6.2.0)"
		if d.bash == "4.2.46(2)-release" {
			v = "4.0.2"
		}
		return "GNU Awk " + v + "\nCopyright (C) 1989, 1991-2020 Free Software Foundation.\n"
	}
	return ""
}

const mawkUsage = `Usage: mawk [Options] [Program] [file ...]

Program:
    The -f option value is the name of a file containing program text.
    If no -f option is given, a "--" ends option processing; the following
    parameters are the program text.

Options:
    -f program-file  Program  text is read from file instead of from the
                     command-line.  Multiple -f options are accepted.
    -F value         sets the field separator, FS, to value.
    -v var=value     assigns value to program variable var.
    --               unambiguous end of options.

    Implementation-specific options are prefixed with "-W".  They can be
    abbreviated:

    -W version       show version information and exit.
    -W dump          show assembler-like listing of program and exit.
    -W help          show this message and exit.
    -W interactive   set unbuffered output, line-buffered input.
    -W exec file     use file as program as well as last option.
    -W random=number set initial random seed.
    -W sprintf=number adjust size of sprintf buffer.
    -W posix_space   do not consider "\n" a space.
    -W usage         show this message and exit.
`

func newAwkInterp(c *call, fl awkFlavor, prog *awkProgram, fs string) *awkInterp {
	in := &awkInterp{c: c, fl: fl, prog: prog, vars: map[string]awkValue{}, arrays: map[string]map[string]awkValue{},
		redirs: map[string]*strings.Builder{}, regexes: map[string]*regexp.Regexp{}, consumed: map[string]bool{},
		deadline: time.Now().Add(maxAwkTime)}
	for k, v := range map[string]string{"FS": fs, "OFS": " ", "ORS": "\n", "RS": "\n", "SUBSEP": "\034",
		"CONVFMT": "%.6g", "OFMT": "%.6g", "FILENAME": ""} {
		in.vars[k] = awkStr(v)
	}
	for _, k := range []string{"NR", "FNR", "RSTART"} {
		in.vars[k] = awkNum(0)
	}
	in.vars["RLENGTH"] = awkNum(-1)
	env := in.array("ENVIRON")
	for k := range c.s.exports {
		env[k] = awkInput(c.s.vars[k])
	}
	return in
}

// assign runs a var=value operand or -v option.
func (in *awkInterp) assign(a string) {
	name, val, _ := strings.Cut(a, "=")
	if validName(name) {
		v, _ := escAwk.decodeAll(val)
		in.setVar(name, awkInput(v))
	}
}

// run executes BEGIN, the rules over every record and END, and prints
// the output or the error.
func (in *awkInterp) run(files []string) int {
	c := in.c
	status, err := in.runAll(files)
	in.flushRedirs()
	if f, ok := err.(*awkFatal); ok {
		c.errorf("%s", f.msg)
		in.emit(f.after)
		return f.status
	}
	return status
}

func (in *awkInterp) runAll(files []string) (int, error) {
	c := in.c
	if len(files) == 0 {
		name := ""
		if in.fl.name == "mawk" {
			name = "-"
		}
		in.inputs = []awkInputFile{{name: name, data: string(c.stdin), loaded: true}}
	}
	for _, f := range files {
		in.inputs = append(in.inputs, awkInputFile{name: f})
	}
	ctl, err := in.execList(in.prog.begin)
	if err != nil {
		return 0, err
	}
	if ctl == ctlExit {
		return in.finish()
	}
	if len(in.prog.rules) == 0 && len(in.prog.end) == 0 {
		return in.status, nil
	}
	in.inRecords = true
	for {
		rec, ok, err := in.nextRecord()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		in.setRecord(rec)
		ctl, err := in.rules()
		if err != nil {
			return 0, err
		}
		if ctl == ctlExit {
			break
		}
	}
	in.inRecords = false
	return in.finish()
}

// loadInput reads an input file when awk reaches it.
func (in *awkInterp) loadInput(f *awkInputFile) error {
	f.loaded = true
	if f.name == "-" || f.name == "/dev/stdin" {
		f.data = string(in.c.stdin)
		return nil
	}
	data, err := in.c.s.fs.readFile(in.c.s.cred, in.c.s.abs(f.name))
	if err != nil {
		switch in.fl.name {
		case "mawk":
			return &awkFatal{msg: fmt.Sprintf("mawk: cannot open %s (%s)\n", f.name, errText(err)), status: 2}
		case "gawk":
			return &awkFatal{msg: fmt.Sprintf("gawk: fatal: cannot open file `%s' for reading: %s\n", f.name, errText(err)), status: 2}
		}
		return &awkFatal{msg: fmt.Sprintf("awk: %s: %s\n", f.name, errText(err)), status: 1}
	}
	f.data = string(data)
	return nil
}

// finish runs the END actions; exit inside them stops at once.
func (in *awkInterp) finish() (int, error) {
	_, err := in.execList(in.prog.end)
	return in.status, err
}

func (in *awkInterp) rules() (awkCtl, error) {
	for _, r := range in.prog.rules {
		match := true
		if r.pat != nil {
			v, err := in.eval(r.pat)
			if err != nil {
				return ctlNone, err
			}
			if r.pat2 == nil {
				match = in.truth(v)
			} else {
				if !r.inRange && in.truth(v) {
					r.inRange = true
				}
				match = r.inRange
				if r.inRange {
					end, err := in.eval(r.pat2)
					if err != nil {
						return ctlNone, err
					}
					if in.truth(end) {
						r.inRange = false
					}
				}
			}
		}
		if !match {
			continue
		}
		if r.body == nil {
			in.emit(in.record + in.toStr(in.vars["ORS"]))
			continue
		}
		ctl, err := in.exec(r.body)
		if err != nil {
			return ctlNone, err
		}
		if ctl == ctlNext {
			return ctlNone, nil
		}
		if ctl == ctlExit {
			return ctl, nil
		}
	}
	return ctlNone, nil
}

// flushRedirs writes what print > file and print | cmd collected.
func (in *awkInterp) flushRedirs() {
	s := in.c.s
	for _, k := range in.order {
		op, target, _ := strings.Cut(k, "\x00")
		key := op + target
		if op == ">>" {
			key = ">" + target
		}
		data := in.redirs[key].String()
		switch op {
		case ">", ">>":
			if err := s.writeAndReport(s.abs(target), []byte(data), op == ">>"); err != nil {
				in.c.errorf("%s: cannot open \"%s\" for output\n", in.fl.name, target)
			}
		case "|":
			// Piping into a shell is how a script hands awk-built commands
			// to sh; other targets run without the text.
			if f := strings.Fields(target); len(f) == 1 && (f[0] == "sh" || f[0] == "bash" || f[0] == "/bin/sh" || f[0] == "/bin/bash") {
				sub := &call{s: s, ctx: in.c.ctx, name: f[0], stdin: []byte(data), out: in.c.out, err: in.c.err, hasIn: true}
				s.runScript(sub, []byte(data))
				continue
			}
			s.depth++
			s.Run(in.c.ctx, target, in.c.out, in.c.err)
			s.depth--
		}
	}
}

// emit writes program output, counting it against the limit.
func (in *awkInterp) emit(s string) {
	in.written += len(s)
	if in.written <= maxAwkString {
		in.c.out.Write([]byte(s))
	}
}

// --- builtin functions ---

func (in *awkInterp) callBuiltin(n *awkNode) (awkValue, error) {
	if n.name == "split" {
		return in.split3(n)
	}
	if n.name == "sub" || n.name == "gsub" {
		return in.substitute(n)
	}
	if n.name == "match" {
		s, err := in.eval(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		re, err := in.regexArg(n.args[1])
		if err != nil {
			return awkValue{}, err
		}
		str := in.toStr(s)
		if err := in.charge(len(str)); err != nil {
			return awkValue{}, err
		}
		loc := re.FindStringIndex(str)
		if loc == nil {
			in.vars["RSTART"], in.vars["RLENGTH"] = awkNum(0), awkNum(-1)
			return awkNum(0), nil
		}
		in.vars["RSTART"], in.vars["RLENGTH"] = awkNum(float64(loc[0]+1)), awkNum(float64(loc[1]-loc[0]))
		return awkNum(float64(loc[0] + 1)), nil
	}
	if n.name == "length" && len(n.args) == 1 && n.args[0].op == "var" {
		if a, ok := in.arrays[n.args[0].name]; ok {
			return awkNum(float64(len(a))), nil
		}
	}
	args := make([]awkValue, len(n.args))
	size := 0
	for i, a := range n.args {
		v, err := in.eval(a)
		if err != nil {
			return awkValue{}, err
		}
		args[i] = v
		size += len(v.s)
	}
	if err := in.charge(size); err != nil {
		return awkValue{}, err
	}
	num := func(i int) float64 { return in.toNum(args[i]) }
	switch n.name {
	case "length":
		s := in.record
		if len(args) == 1 {
			s = in.toStr(args[0])
		}
		if in.fl.name == "gawk" {
			return awkNum(float64(utf8.RuneCountInString(s))), nil
		}
		return awkNum(float64(len(s))), nil
	case "substr":
		return awkStr(in.substr(in.toStr(args[0]), args[1:])), nil
	case "index":
		return awkNum(float64(strings.Index(in.toStr(args[0]), in.toStr(args[1])) + 1)), nil
	case "sprintf":
		out, err := in.sprintf("sprintf", in.toStr(args[0]), args[1:])
		if err == nil {
			err = in.charge(len(out))
		}
		return awkStr(out), err
	case "tolower":
		return awkStr(strings.ToLower(in.toStr(args[0]))), nil
	case "toupper":
		return awkStr(strings.ToUpper(in.toStr(args[0]))), nil
	case "int":
		return awkNum(math.Trunc(num(0))), nil
	case "sqrt":
		return awkNum(math.Sqrt(num(0))), nil
	case "exp":
		return awkNum(math.Exp(num(0))), nil
	case "log":
		return awkNum(math.Log(num(0))), nil
	case "sin":
		return awkNum(math.Sin(num(0))), nil
	case "cos":
		return awkNum(math.Cos(num(0))), nil
	case "atan2":
		return awkNum(math.Atan2(num(0), num(1))), nil
	case "rand":
		// A fixed-seed generator, as awk's own is until srand().
		in.randN = in.randN*6364136223846793005 + 1442695040888963407
		return awkNum(float64(in.randN>>11) / (1 << 53)), nil
	case "srand":
		prev := in.seed
		in.seed = float64(in.c.s.now().Unix())
		if len(args) == 1 {
			in.seed = num(0)
		}
		in.randN = uint64(int64(in.seed))
		return awkNum(prev), nil
	case "system":
		in.c.s.depth++
		defer func() { in.c.s.depth-- }()
		st := in.c.s.Run(in.c.ctx, in.toStr(args[0]), in.c.out, in.c.err)
		return awkNum(float64(st)), nil
	}
	return awkValue{}, nil
}

// substr follows each awk's handling of a start before the string.
func (in *awkInterp) substr(s string, args []awkValue) string {
	start := int(math.Trunc(in.toNum(args[0])))
	length := len(s) + 1
	if len(args) > 1 {
		l := in.toNum(args[1])
		if math.IsNaN(l) || l <= 0 {
			return ""
		}
		length = int(math.Min(math.Trunc(l), float64(len(s)+1)))
	}
	if start < 1 {
		if in.fl.name == "mawk" && len(args) > 1 {
			length -= start
		}
		start = 1
	}
	if start > len(s) {
		return ""
	}
	end := min(start-1+length, len(s))
	return s[start-1 : end]
}

func (in *awkInterp) split3(n *awkNode) (awkValue, error) {
	sv, err := in.eval(n.args[0])
	if err != nil {
		return awkValue{}, err
	}
	fs := in.toStr(in.vars["FS"])
	if len(n.args) == 3 {
		if n.args[2].op == "regex" {
			fs = n.args[2].name
			if fs == " " {
				fs = "[ ]"
			}
		} else {
			v, err := in.eval(n.args[2])
			if err != nil {
				return awkValue{}, err
			}
			fs = in.toStr(v)
		}
	}
	str := in.toStr(sv)
	if err := in.charge(len(str)); err != nil {
		return awkValue{}, err
	}
	parts := in.splitFS(str, fs)
	name := n.args[1].name
	in.elems -= len(in.arrays[name])
	if in.elems+len(parts) > maxAwkElems {
		return awkValue{}, errAwkLimit
	}
	a := map[string]awkValue{}
	for i, p := range parts {
		a[strconv.Itoa(i+1)] = awkInput(p)
	}
	in.arrays[name] = a
	in.elems += len(parts)
	return awkNum(float64(len(parts))), nil
}

func (in *awkInterp) substitute(n *awkNode) (awkValue, error) {
	re, err := in.regexArg(n.args[0])
	if err != nil {
		return awkValue{}, err
	}
	rv, err := in.eval(n.args[1])
	if err != nil {
		return awkValue{}, err
	}
	repl := in.toStr(rv)
	target := &awkNode{op: "field", args: []*awkNode{{op: "lit", val: awkNum(0)}}}
	if len(n.args) == 3 {
		target = n.args[2]
	}
	tv, err := in.load(target)
	if err != nil {
		return awkValue{}, err
	}
	s := in.toStr(tv)
	if err := in.charge(len(s)); err != nil {
		return awkValue{}, err
	}
	count := 0
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		if n.name == "sub" && count == 1 {
			break
		}
		count++
		b.WriteString(s[last:loc[0]])
		for i := 0; i < len(repl); i++ {
			switch {
			case repl[i] == '\\' && i+1 < len(repl) && (repl[i+1] == '&' || repl[i+1] == '\\'):
				i++
				b.WriteByte(repl[i])
			case repl[i] == '&':
				b.WriteString(s[loc[0]:loc[1]])
			default:
				b.WriteByte(repl[i])
			}
		}
		if b.Len() > maxAwkString {
			return awkValue{}, errAwkLimit
		}
		last = loc[1]
	}
	if count == 0 {
		return awkNum(0), nil
	}
	b.WriteString(s[last:])
	return awkNum(float64(count)), in.store(target, awkStr(b.String()))
}

// sprintf is printf's formatting, failing as the awk does when the
// arguments run out; fn is "printf" or "sprintf" for the message.
func (in *awkInterp) sprintf(fn, format string, args []awkValue) (string, error) {
	out, missing := awkSprintf(in, format, args)
	if missing < 0 {
		return out, nil
	}
	err := in.runtimeError(fmt.Sprintf("not enough arguments to satisfy format string\n\t`%s'\n\t%s^ ran out for this one", format, strings.Repeat(" ", missing+1)),
		fmt.Sprintf("not enough arguments passed to %s(\"%s\")", fn, format), "")
	if f, ok := err.(*awkFatal); ok && in.fl.name == "mawk" {
		f.after = out
	}
	return "", err
}

// awkSprintf is printf's formatting: C conversions on awk values. missing
// is where in format the arguments ran out, or -1.
func awkSprintf(in *awkInterp, format string, args []awkValue) (string, int) {
	var b strings.Builder
	missing := -1
	next := func() awkValue {
		if len(args) == 0 {
			return awkValue{}
		}
		v := args[0]
		args = args[1:]
		return v
	}
	for i := 0; i < len(format); i++ {
		if b.Len() > maxAwkString || missing >= 0 {
			break
		}
		ch := format[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		spec := format[i:j]
		for _, part := range []bool{true, false} { // width, then precision
			if !part {
				if j >= len(format) || format[j] != '.' {
					break
				}
				spec += "."
				j++
			}
			if j < len(format) && format[j] == '*' {
				spec += strconv.Itoa(max(-4096, min(4096, int(in.toNum(next())))))
				j++
				continue
			}
			k := j
			for k < len(format) && format[k] >= '0' && format[k] <= '9' {
				k++
			}
			if k-j > 4 {
				k = j + 4
			}
			spec += format[j:k]
			j = k
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			break
		}
		conv := format[j]
		if conv != '%' && len(args) == 0 && missing < 0 && in.fl.name != "awk" && strings.IndexByte("diouxXeEfFgGcs", conv) >= 0 {
			missing = i
			break
		}
		switch conv {
		case '%':
			b.WriteByte('%')
		case 'd', 'i':
			b.WriteString(fmt.Sprintf(spec+"d", clampInt(in.toNum(next()))))
		case 'o', 'x', 'X', 'u':
			v := clampInt(in.toNum(next()))
			if v < 0 && in.fl.name == "mawk" {
				v = 0
			}
			n := uint64(v)
			if conv == 'u' {
				conv = 'd'
			}
			b.WriteString(fmt.Sprintf(spec+string(conv), n))
		case 'e', 'E', 'f', 'F', 'g', 'G':
			if !strings.Contains(spec, ".") {
				spec += ".6"
			}
			b.WriteString(fmt.Sprintf(spec+string(conv), in.toNum(next())))
		case 'c':
			v := next()
			s := "\x00"
			switch str := in.toStr(v); {
			case v.kind == avNum && in.fl.name == "gawk" && v.n >= 128 && v.n < 0x110000:
				s = string(rune(int(v.n)))
			case v.kind == avNum:
				s = string([]byte{byte(clampInt(v.n))})
			case str != "":
				s = str[:1]
			}
			b.WriteString(fmt.Sprintf(strings.Split(spec, ".")[0]+"s", s))
		case 's':
			b.WriteString(fmt.Sprintf(spec+"s", in.outStr(next())))
		default:
			b.WriteString(format[i : j+1])
		}
		i = j
	}
	s := b.String()
	if len(s) > maxAwkString {
		s = s[:maxAwkString]
	}
	return s, missing
}

func clampInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
