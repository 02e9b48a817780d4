package shell

import (
	"errors"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Interpreter limits: a hostile program may loop or grow strings forever.
const (
	maxAwkSteps   = 2_000_000
	maxAwkString  = maxOutput
	maxAwkElems   = 100_000
	maxAwkRegexes = 64
	maxAwkTime    = 2 * time.Second
)

type awkKindV uint8

const (
	avUninit awkKindV = iota
	avNum
	avStr
	avStrNum // input data: a number if it looks like one
)

// awkValue is a scalar.
type awkValue struct {
	kind awkKindV
	s    string
	n    float64
}

func awkNum(n float64) awkValue  { return awkValue{kind: avNum, n: n} }
func awkStr(s string) awkValue   { return awkValue{kind: avStr, s: s} }
func awkInput(s string) awkValue { return awkValue{kind: avStrNum, s: s} }

// looksNumeric is POSIX's "numeric string": blanks, a number, blanks.
func looksNumeric(s string) bool {
	t := strings.Trim(s, " \t\n")
	if t == "" {
		return false
	}
	if t[0] == '+' || t[0] == '-' {
		t = t[1:]
	}
	return t != "" && awkNumPrefix(t) == len(t)
}

// strToNum is atof: the longest numeric prefix after blanks.
func strToNum(s string) float64 {
	t := strings.TrimLeft(s, " \t\n")
	sign := 1.0
	if t != "" && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	n := awkNumPrefix(t)
	v, _ := strconv.ParseFloat(t[:n], 64)
	return sign * v
}

// errAwkLimit stops a program that exceeded a limit or whose session ended.
var errAwkLimit = errors.New("awk: limit")

// awkFatal is a run-time error; msg is what the awk prints.
type awkFatal struct {
	msg    string
	status int
	after  string // output still buffered when the error was printed
}

func (e *awkFatal) Error() string { return e.msg }

type awkCtl uint8

const (
	ctlNone awkCtl = iota
	ctlNext
	ctlExit
	ctlBreak
	ctlContinue
)

type awkInputFile struct {
	name   string
	data   string
	pos    int
	loaded bool
}

type awkInterp struct {
	c        *call
	fl       awkFlavor
	prog     *awkProgram
	vars     map[string]awkValue
	arrays   map[string]map[string]awkValue
	elems    int
	fields   []string // $1..$NF, valid when split
	record   string
	split    bool
	steps    int
	checked  int       // steps at the last look at the clock and context
	deadline time.Time // when the run is cut short
	written  int       // bytes of output so far
	redirs   map[string]*strings.Builder
	order    []string
	inputs   []awkInputFile
	cur      int
	status   int
	// inRecords is set while the main input is read (gawk names the
	// record in run-time errors).
	inRecords bool
	regexes   map[string]*regexp.Regexp
	consumed  map[string]bool // files and commands getline has read
	seed      float64
	randN     uint64
}

func (in *awkInterp) tick() error { return in.charge(0) }

// charge counts a step that handled n bytes: work on long strings costs in
// proportion, so a loop over megabyte strings runs out as soon as a tight
// one does, and no run outlasts maxAwkTime.
func (in *awkInterp) charge(n int) error {
	in.steps += 1 + n>>6
	if in.steps > maxAwkSteps || in.written > maxAwkString {
		return errAwkLimit
	}
	if in.steps-in.checked >= 1024 {
		in.checked = in.steps
		if in.c.ctx.Err() != nil || time.Now().After(in.deadline) {
			return errAwkLimit
		}
	}
	return nil
}

func (in *awkInterp) getVar(name string) awkValue {
	switch name {
	case "NF":
		in.splitRecord()
		return awkNum(float64(len(in.fields)))
	}
	return in.vars[name]
}

func (in *awkInterp) setVar(name string, v awkValue) {
	if name == "NF" {
		in.splitRecord()
		n := int(in.toNum(v))
		n = max(0, min(n, maxAwkElems))
		for len(in.fields) < n {
			in.fields = append(in.fields, "")
		}
		in.fields = in.fields[:n]
		in.rebuild()
		return
	}
	in.vars[name] = v
}

func (in *awkInterp) setRecord(s string) {
	in.record = s
	in.split = false
}

func (in *awkInterp) splitRecord() {
	if in.split {
		return
	}
	in.fields = in.splitFS(in.record, in.toStr(in.vars["FS"]))
	in.split = true
	in.steps += len(in.record) >> 8
}

func (in *awkInterp) splitFS(s, fs string) []string {
	if s == "" {
		return nil
	}
	var out []string
	switch {
	case fs == " ":
		out = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
	case len(fs) == 1 && fs != "\\", fs == "":
		// One character splits on itself; none splits every character.
		out = strings.SplitN(s, fs, maxAwkElems)
	default:
		re, err := in.regex(fs)
		if err != nil {
			return []string{s}
		}
		out = re.Split(s, maxAwkElems)
	}
	if len(out) > maxAwkElems {
		out = out[:maxAwkElems]
	}
	return out
}

func (in *awkInterp) rebuild() {
	in.record = strings.Join(in.fields, in.toStr(in.vars["OFS"]))
	if len(in.record) > maxAwkString {
		in.record = in.record[:maxAwkString]
	}
}

func (in *awkInterp) getField(i int) awkValue {
	if i == 0 {
		return awkInput(in.record)
	}
	in.splitRecord()
	if i <= len(in.fields) {
		return awkInput(in.fields[i-1])
	}
	return awkInput("")
}

func (in *awkInterp) setField(i int, v awkValue) error {
	if i == 0 {
		in.setRecord(in.toStr(v))
		return nil
	}
	if i > maxAwkElems {
		return errAwkLimit
	}
	in.splitRecord()
	for len(in.fields) < i {
		in.fields = append(in.fields, "")
	}
	in.fields[i-1] = in.toStr(v)
	in.rebuild()
	return nil
}

func (in *awkInterp) regex(src string) (*regexp.Regexp, error) {
	if re, ok := in.regexes[src]; ok {
		return re, nil
	}
	re, err := compileAwkRegex(src)
	if err != nil {
		reason := regexReason(src)
		return nil, in.runtimeError("invalid regexp: Invalid regular expression: /"+src+"/",
			"regular expression compile failed ("+reason+")\n"+src, "awk: bad regex '"+src+"': Invalid regular expression")
	}
	if len(in.regexes) >= maxAwkRegexes {
		in.regexes = map[string]*regexp.Regexp{}
	}
	in.regexes[src] = re
	return re, nil
}

// --- conversions ---

func (in *awkInterp) toNum(v awkValue) float64 {
	if v.kind == avNum {
		return v.n
	}
	return strToNum(v.s)
}

func (in *awkInterp) toStr(v awkValue) string {
	if v.kind == avNum {
		return in.numStr(v.n, in.vars["CONVFMT"])
	}
	return v.s
}

func (in *awkInterp) outStr(v awkValue) string {
	if v.kind == avNum {
		return in.numStr(v.n, in.vars["OFMT"])
	}
	return v.s
}

func (in *awkInterp) numStr(n float64, format awkValue) string {
	switch {
	case math.IsNaN(n):
		if math.Signbit(n) {
			return "-nan"
		}
		return in.fl.nan
	case math.IsInf(n, 1):
		return in.fl.inf
	case math.IsInf(n, -1):
		return "-inf"
	case n == math.Trunc(n) && math.Abs(n) <= in.fl.maxInt:
		if math.Abs(n) < 1e18 {
			return strconv.FormatInt(int64(n), 10)
		}
		return strconv.FormatFloat(n, 'f', 0, 64)
	}
	f := "%.6g"
	if format.kind != avUninit {
		f = format.s
	}
	out, _ := awkSprintf(in, f, []awkValue{awkNum(n)})
	return out
}

func (in *awkInterp) truth(v awkValue) bool {
	switch v.kind {
	case avNum:
		return v.n != 0
	case avStrNum:
		if looksNumeric(v.s) {
			return strToNum(v.s) != 0
		}
	}
	return v.s != ""
}

func isNumeric(v awkValue) bool {
	return v.kind == avNum || v.kind == avUninit || v.kind == avStrNum && looksNumeric(v.s)
}

func (in *awkInterp) compare(a, b awkValue) int {
	if isNumeric(a) && isNumeric(b) {
		x, y := in.toNum(a), in.toNum(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(in.toStr(a), in.toStr(b))
}

// --- statements ---

func (in *awkInterp) execList(list []*awkStmt) (awkCtl, error) {
	for _, s := range list {
		ctl, err := in.exec(s)
		if err != nil || ctl != ctlNone {
			return ctl, err
		}
	}
	return ctlNone, nil
}

func (in *awkInterp) exec(s *awkStmt) (awkCtl, error) {
	if err := in.tick(); err != nil {
		return ctlNone, err
	}
	switch s.op {
	case "block":
		return in.execList(s.list)
	case "expr":
		_, err := in.eval(s.exprs[0])
		return ctlNone, err
	case "print", "printf":
		return ctlNone, in.print(s)
	case "if":
		v, err := in.eval(s.cond)
		if err != nil {
			return ctlNone, err
		}
		if in.truth(v) {
			return in.exec(s.body)
		}
		if s.els != nil {
			return in.exec(s.els)
		}
	case "while", "do", "for":
		return in.loop(s)
	case "forin":
		arr := in.arrays[s.arr]
		keys := make([]string, 0, len(arr))
		for k := range arr {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			in.setVar(s.name, awkInput(k))
			ctl, err := in.exec(s.body)
			if err != nil {
				return ctlNone, err
			}
			if ctl == ctlBreak {
				break
			}
			if ctl == ctlNext || ctl == ctlExit {
				return ctl, nil
			}
		}
	case "next":
		return ctlNext, nil
	case "nextfile":
		if in.cur < len(in.inputs) {
			in.inputs[in.cur].pos = len(in.inputs[in.cur].data)
		}
		return ctlNext, nil
	case "break":
		return ctlBreak, nil
	case "continue":
		return ctlContinue, nil
	case "exit":
		if len(s.exprs) > 0 {
			v, err := in.eval(s.exprs[0])
			if err != nil {
				return ctlNone, err
			}
			in.status = int(in.toNum(v)) & 0xff
		}
		return ctlExit, nil
	case "delete":
		if len(s.exprs) == 0 {
			in.elems -= len(in.arrays[s.name])
			delete(in.arrays, s.name)
			return ctlNone, nil
		}
		k, err := in.key(s.exprs)
		if err != nil {
			return ctlNone, err
		}
		if _, ok := in.arrays[s.name][k]; ok {
			delete(in.arrays[s.name], k)
			in.elems--
		}
	}
	return ctlNone, nil
}

func (in *awkInterp) loop(s *awkStmt) (awkCtl, error) {
	if s.init != nil {
		if _, err := in.exec(s.init); err != nil {
			return ctlNone, err
		}
	}
	first := true
	for {
		if err := in.tick(); err != nil {
			return ctlNone, err
		}
		if s.cond != nil && !(s.op == "do" && first) {
			v, err := in.eval(s.cond)
			if err != nil {
				return ctlNone, err
			}
			if !in.truth(v) {
				return ctlNone, nil
			}
		}
		first = false
		ctl, err := in.exec(s.body)
		if err != nil {
			return ctlNone, err
		}
		switch ctl {
		case ctlBreak:
			return ctlNone, nil
		case ctlNext, ctlExit:
			return ctl, nil
		}
		if s.post != nil {
			if _, err := in.exec(s.post); err != nil {
				return ctlNone, err
			}
		}
	}
}

func (in *awkInterp) print(s *awkStmt) error {
	var text string
	if s.op == "print" {
		if len(s.exprs) == 0 {
			text = in.record
		} else {
			parts := make([]string, len(s.exprs))
			for i, e := range s.exprs {
				v, err := in.eval(e)
				if err != nil {
					return err
				}
				parts[i] = in.outStr(v)
			}
			text = strings.Join(parts, in.toStr(in.vars["OFS"]))
		}
		text += in.toStr(in.vars["ORS"])
	} else {
		vals := make([]awkValue, len(s.exprs))
		for i, e := range s.exprs {
			v, err := in.eval(e)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		var err error
		if text, err = in.sprintf("printf", in.toStr(vals[0]), vals[1:]); err != nil {
			return err
		}
	}
	if err := in.charge(len(text)); err != nil {
		return err
	}
	if s.redir == "" {
		in.emit(text)
		return nil
	}
	d, err := in.eval(s.dest)
	if err != nil {
		return err
	}
	if s.redir != "|" {
		switch in.toStr(d) {
		case "/dev/stdout", "-":
			in.emit(text)
			return nil
		case "/dev/stderr":
			in.c.err.Write([]byte(text))
			return nil
		}
	}
	key := s.redir + in.toStr(d)
	if s.redir == ">>" {
		key = ">" + in.toStr(d)
	}
	b, ok := in.redirs[key]
	if !ok {
		if len(in.redirs) >= 32 {
			return &awkFatal{msg: in.fl.name + ": cannot open \"" + in.toStr(d) + "\" for output\n", status: in.fl.status}
		}
		b = &strings.Builder{}
		in.redirs[key] = b
		in.order = append(in.order, s.redir+"\x00"+in.toStr(d))
	}
	if b.Len()+len(text) > maxAwkString {
		return errAwkLimit
	}
	b.WriteString(text)
	return nil
}

// --- expressions ---

func (in *awkInterp) key(list []*awkNode) (string, error) {
	parts := make([]string, len(list))
	for i, e := range list {
		v, err := in.eval(e)
		if err != nil {
			return "", err
		}
		parts[i] = in.toStr(v)
	}
	return strings.Join(parts, in.toStr(in.vars["SUBSEP"])), nil
}

func (in *awkInterp) array(name string) map[string]awkValue {
	a := in.arrays[name]
	if a == nil {
		a = map[string]awkValue{}
		in.arrays[name] = a
	}
	return a
}

func (in *awkInterp) fieldIndex(n *awkNode) (int, error) {
	v, err := in.eval(n.args[0])
	if err != nil {
		return 0, err
	}
	i := in.toNum(v)
	if i < 0 {
		n := strconv.Itoa(int(i))
		return 0, in.runtimeError("attempt to access field "+n, "negative field index $"+n, "awk: cmd. line:1: Access to negative field")
	}
	if i > maxAwkElems {
		return 0, errAwkLimit
	}
	return int(i), nil
}

func (in *awkInterp) load(n *awkNode) (awkValue, error) {
	switch n.op {
	case "var":
		return in.getVar(n.name), nil
	case "index":
		k, err := in.key(n.args)
		if err != nil {
			return awkValue{}, err
		}
		a := in.array(n.name)
		v, ok := a[k]
		if !ok {
			if in.elems >= maxAwkElems {
				return awkValue{}, errAwkLimit
			}
			a[k] = awkValue{}
			in.elems++
		}
		return v, nil
	}
	i, err := in.fieldIndex(n)
	if err != nil {
		return awkValue{}, err
	}
	return in.getField(i), nil
}

func (in *awkInterp) store(n *awkNode, v awkValue) error {
	if v.kind != avNum && len(v.s) > maxAwkString {
		return errAwkLimit
	}
	switch n.op {
	case "var":
		in.setVar(n.name, v)
		return nil
	case "index":
		k, err := in.key(n.args)
		if err != nil {
			return err
		}
		a := in.array(n.name)
		if _, ok := a[k]; !ok {
			if in.elems >= maxAwkElems {
				return errAwkLimit
			}
			in.elems++
		}
		a[k] = v
		return nil
	}
	i, err := in.fieldIndex(n)
	if err != nil {
		return err
	}
	return in.setField(i, v)
}

func (in *awkInterp) arith(op string, x, y float64) (float64, error) {
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 && in.fl.divFatal {
			return 0, in.runtimeError("division by zero attempted", "division by zero", "awk: cmd. line:1: Division by zero")
		}
		return x / y, nil
	case "%":
		if y == 0 && in.fl.divFatal {
			return 0, in.runtimeError("division by zero attempted in `%'", "division by zero in %", "awk: cmd. line:1: Division by zero")
		}
		return math.Mod(x, y), nil
	case "^", "**":
		return math.Pow(x, y), nil
	}
	return 0, nil
}

// evalPair evaluates a binary operator's two operands, left first.
func (in *awkInterp) evalPair(n *awkNode) (a, b awkValue, err error) {
	if a, err = in.eval(n.args[0]); err != nil {
		return
	}
	b, err = in.eval(n.args[1])
	return
}

func (in *awkInterp) eval(n *awkNode) (awkValue, error) {
	if err := in.tick(); err != nil {
		return awkValue{}, err
	}
	switch n.op {
	case "lit":
		return n.val, nil
	case "regex":
		return in.boolVal(n.re.MatchString(in.record)), in.charge(len(in.record))
	case "var", "index", "field":
		return in.load(n)
	case "paren":
		return in.eval(n.args[0])
	case "assign":
		v, err := in.eval(n.args[1])
		if err != nil {
			return awkValue{}, err
		}
		if n.name != "" {
			old, err := in.load(n.args[0])
			if err != nil {
				return awkValue{}, err
			}
			r, err := in.arith(n.name, in.toNum(old), in.toNum(v))
			if err != nil {
				return awkValue{}, err
			}
			v = awkNum(r)
		}
		if v.kind == avUninit {
			v = awkValue{kind: avStrNum}
		}
		return v, in.store(n.args[0], v)
	case "cond":
		c, err := in.eval(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		if in.truth(c) {
			return in.eval(n.args[1])
		}
		return in.eval(n.args[2])
	case "||", "&&":
		a, err := in.eval(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		if in.truth(a) == (n.op == "||") {
			return in.boolVal(n.op == "||"), nil
		}
		b, err := in.eval(n.args[1])
		if err != nil {
			return awkValue{}, err
		}
		return in.boolVal(in.truth(b)), nil
	case "in":
		k, err := in.key(n.args)
		if err != nil {
			return awkValue{}, err
		}
		_, ok := in.arrays[n.name][k]
		return in.boolVal(ok), nil
	case "~", "!~":
		a, err := in.eval(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		re, err := in.regexArg(n.args[1])
		if err != nil {
			return awkValue{}, err
		}
		str := in.toStr(a)
		return in.boolVal(re.MatchString(str) == (n.op == "~")), in.charge(len(str))
	case "<", "<=", "!=", "==", ">", ">=":
		a, b, err := in.evalPair(n)
		if err != nil {
			return awkValue{}, err
		}
		c := in.compare(a, b)
		var r bool
		switch n.op {
		case "<":
			r = c < 0
		case "<=":
			r = c <= 0
		case "!=":
			r = c != 0
		case "==":
			r = c == 0
		case ">":
			r = c > 0
		case ">=":
			r = c >= 0
		}
		return in.boolVal(r), nil
	case "concat":
		a, b, err := in.evalPair(n)
		if err != nil {
			return awkValue{}, err
		}
		s := in.toStr(a)
		t := in.toStr(b)
		if len(s)+len(t) > maxAwkString {
			return awkValue{}, errAwkLimit
		}
		return awkStr(s + t), in.charge(len(s) + len(t))
	case "+", "-", "*", "/", "%", "^":
		a, b, err := in.evalPair(n)
		if err != nil {
			return awkValue{}, err
		}
		r, err := in.arith(n.op, in.toNum(a), in.toNum(b))
		return awkNum(r), err
	case "u!":
		a, err := in.eval(n.args[0])
		return in.boolVal(!in.truth(a)), err
	case "u-", "u+":
		a, err := in.eval(n.args[0])
		if n.op == "u-" {
			return awkNum(-in.toNum(a)), err
		}
		return awkNum(in.toNum(a)), err
	case "pre++", "pre--", "post++", "post--":
		old, err := in.load(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		x := in.toNum(old)
		nv := x + 1
		if strings.HasSuffix(n.op, "--") {
			nv = x - 1
		}
		if err := in.store(n.args[0], awkNum(nv)); err != nil {
			return awkValue{}, err
		}
		if strings.HasPrefix(n.op, "pre") {
			return awkNum(nv), nil
		}
		return awkNum(x), nil
	case "call":
		return in.callBuiltin(n)
	case "getline", "filegetline", "cmdgetline":
		return in.getline(n)
	}
	return awkValue{}, nil
}

func (in *awkInterp) boolVal(b bool) awkValue {
	if b {
		return awkNum(1)
	}
	return awkNum(0)
}

// regexArg is the regex of ~, match, split, sub and gsub: a literal, or
// any other value used as a dynamic regex.
func (in *awkInterp) regexArg(n *awkNode) (*regexp.Regexp, error) {
	if n.op == "regex" {
		return n.re, nil
	}
	v, err := in.eval(n)
	if err != nil {
		return nil, err
	}
	return in.regex(in.toStr(v))
}

// --- input ---

// nextRecord reads the next record of the main input.
func (in *awkInterp) nextRecord() (string, bool, error) {
	rs := in.toStr(in.vars["RS"])
	for in.cur < len(in.inputs) {
		f := &in.inputs[in.cur]
		if !f.loaded {
			if err := in.loadInput(f); err != nil {
				return "", false, err
			}
		}
		if f.pos == 0 {
			in.vars["FILENAME"] = awkStr(f.name)
			in.vars["FNR"] = awkNum(0)
		}
		if f.pos >= len(f.data) {
			in.cur++
			continue
		}
		rest := f.data[f.pos:]
		var rec string
		switch {
		case rs == "":
			rest = strings.TrimLeft(rest, "\n")
			if rest == "" {
				f.pos = len(f.data)
				continue
			}
			end := strings.Index(rest, "\n\n")
			if end < 0 {
				rec = strings.TrimRight(rest, "\n")
				f.pos = len(f.data)
			} else {
				rec = rest[:end]
				f.pos = len(f.data) - len(rest) + end + 2
			}
		default:
			sep := rs[:1]
			end := strings.Index(rest, sep)
			if end < 0 {
				rec = rest
				f.pos = len(f.data)
			} else {
				rec = rest[:end]
				f.pos += end + 1
			}
		}
		in.vars["NR"] = awkNum(in.toNum(in.vars["NR"]) + 1)
		in.vars["FNR"] = awkNum(in.toNum(in.vars["FNR"]) + 1)
		return rec, true, nil
	}
	return "", false, nil
}

func (in *awkInterp) getline(n *awkNode) (awkValue, error) {
	var rec string
	switch n.op {
	case "getline":
		r, ok, err := in.nextRecord()
		if err != nil {
			return awkValue{}, err
		}
		if !ok {
			return awkNum(0), nil
		}
		rec = r
	case "filegetline", "cmdgetline":
		// Reading files and commands from awk is rare in bot scripts;
		// the first line is enough to look real.
		src, err := in.eval(n.args[0])
		if err != nil {
			return awkValue{}, err
		}
		name := in.toStr(src)
		key := n.op + "\x00" + name
		if in.consumed[key] {
			return awkNum(0), nil
		}
		in.consumed[key] = true
		var data string
		if n.op == "cmdgetline" {
			var out limitBuf
			in.c.s.depth++
			in.c.s.Run(in.c.ctx, name, &out, in.c.err)
			in.c.s.depth--
			data = out.String()
		} else {
			b, err := in.c.s.fs.readFile(in.c.s.cred, in.c.s.abs(name))
			if err != nil {
				return awkNum(-1), nil
			}
			data = string(b)
		}
		rec, _, _ = strings.Cut(data, "\n")
		if data == "" {
			return awkNum(0), nil
		}
	}
	if n.name == "var" {
		if err := in.store(n.args[len(n.args)-1], awkInput(rec)); err != nil {
			return awkValue{}, err
		}
	} else {
		in.setRecord(rec)
	}
	return awkNum(1), nil
}
