package shell

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// lines splits text into lines without their newlines; a last line without
// one counts.
func lines(b []byte) []string {
	s := string(b)
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// --- cut ---

// cutRange is one element of a cut list, 1-based and inclusive; hi 0 is
// open-ended.
type cutRange struct{ lo, hi int }

// parseCutList reads a LIST of cut: N, N-, -M, N-M separated by commas. It
// returns coreutils' message on error.
func parseCutList(list string, fields bool, quote func(string) string) ([]cutRange, string) {
	var out []cutRange
	zero := "byte/character positions are numbered from 1"
	if fields {
		zero = "fields are numbered from 1"
	}
	if list == "" {
		return nil, zero
	}
	for _, item := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		num := func(s string, def int) (int, bool) {
			if s == "" {
				return def, true
			}
			n, err := strconv.Atoi(s)
			return n, err == nil && n >= 0 && !strings.HasPrefix(s, "+")
		}
		what := "byte/character position"
		if fields {
			what = "field value"
		}
		l, ok1 := num(lo, 1)
		if !isRange {
			if !ok1 || lo == "" {
				return nil, "invalid " + what + " " + quote(item)
			}
			if l == 0 {
				return nil, zero
			}
			out = append(out, cutRange{l, l})
			continue
		}
		h, ok2 := num(hi, 0)
		switch {
		case lo == "" && hi == "":
			return nil, "invalid range with no endpoint: -"
		case !ok1 || !ok2:
			return nil, "invalid " + what + " " + quote(item)
		case l == 0 || hi != "" && h == 0:
			return nil, zero
		case hi != "" && h < l:
			return nil, "invalid decreasing range"
		}
		out = append(out, cutRange{l, h})
	}
	return out, ""
}

func inCutList(rs []cutRange, i int) bool {
	for _, r := range rs {
		if i >= r.lo && (r.hi == 0 || i <= r.hi) {
			return true
		}
	}
	return false
}

func cmdCut(c *call) int {
	opts, ops, ok := c.getopt("b:c:d:f:sn", map[string]rune{"bytes": 'b', "characters": 'c', "delimiter": 'd',
		"fields": 'f', "only-delimited": 's', "complement": 'C', "output-delimiter": 'O'})
	if !ok {
		return 1
	}
	usage := func(msg string) int {
		c.errorf("cut: %s\nTry 'cut --help' for more information.\n", msg)
		return 1
	}
	var mode rune
	for _, r := range "bcf" {
		if has(opts, r) {
			if mode != 0 {
				return usage("only one list may be specified")
			}
			mode = r
		}
	}
	if mode == 0 {
		return usage("you must specify a list of bytes, characters, or fields")
	}
	delim := "\t"
	if d, ok := opts['d']; ok {
		if mode != 'f' {
			return usage("an input delimiter may be specified only when operating on fields")
		}
		if len(d) != 1 {
			return usage("the delimiter must be a single character")
		}
		delim = d
	}
	if has(opts, 's') && mode != 'f' {
		return usage("suppressing non-delimited lines makes sense\n\tonly when operating on fields")
	}
	ranges, msg := parseCutList(opts[mode], mode == 'f', c.quote)
	if msg != "" {
		return usage(msg)
	}
	outDelim, hasOut := opts['O']
	if !hasOut {
		outDelim = delim
		if mode != 'f' {
			outDelim = ""
		}
	}
	complement := has(opts, 'C')
	status := 0
	_, data := c.inputs(ops, func(op string, err error) {
		c.errorf("cut: %s: %s\n", op, errText(err))
		status = 1
	})
	var b strings.Builder
	for _, d := range data {
		for _, line := range lines(d) {
			if b.Len() > maxOutput {
				break
			}
			if mode == 'f' {
				if !strings.Contains(line, delim) {
					if !has(opts, 's') {
						b.WriteString(line + "\n")
					}
					continue
				}
				var keep []string
				for i, f := range strings.Split(line, delim) {
					if inCutList(ranges, i+1) != complement {
						keep = append(keep, f)
					}
				}
				b.WriteString(strings.Join(keep, outDelim) + "\n")
				continue
			}
			// -c is -b: coreutils' cut counts bytes even in UTF-8.
			prev := -2
			for i := 0; i < len(line); i++ {
				if inCutList(ranges, i+1) != complement {
					if hasOut && prev >= 0 && prev != i-1 {
						b.WriteString(outDelim)
					}
					b.WriteByte(line[i])
					prev = i
				}
			}
			b.WriteByte('\n')
		}
	}
	c.printf("%s", b.String())
	return status
}

// --- sort, uniq ---

type sortKey struct {
	field, endField  int // 1-based; endField 0 means to the end of the line
	numeric, reverse bool
}

func cmdSort(c *call) int {
	opts, ops, ok := c.getopt("nrufk:t:hbsVcmMgRo:", map[string]rune{"numeric-sort": 'n', "reverse": 'r', "unique": 'u',
		"ignore-case": 'f', "key": 'k', "field-separator": 't', "human-numeric-sort": 'h'})
	if !ok {
		return 2
	}
	var key *sortKey
	if k, ok := opts['k']; ok {
		key = &sortKey{}
		start, end, _ := strings.Cut(k, ",")
		parse := func(s string) (int, string, bool) {
			i := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			n, err := strconv.Atoi(s[:i])
			if dot := strings.IndexByte(s[i:], '.'); dot == 0 {
				for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
				}
			}
			return n, s[i:], err == nil && n > 0
		}
		var flags string
		var ok bool
		if key.field, flags, ok = parse(start); !ok {
			c.errorf("sort: %s: invalid field specification %s\n", c.quote(k), c.quote(k))
			return 2
		}
		if end != "" {
			var f2 string
			key.endField, f2, _ = parse(end)
			flags += f2
		}
		key.numeric = strings.ContainsAny(flags, "nhg")
		key.reverse = strings.Contains(flags, "r")
	}
	sep, hasSep := opts['t']
	if hasSep && len(sep) != 1 {
		c.errorf("sort: multi-character tab %s\n", c.quote(sep))
		return 2
	}
	status := 0
	_, data := c.inputs(ops, func(op string, err error) {
		c.errorf("sort: cannot read: %s: %s\n", op, errText(err))
		status = 2
	})
	if status != 0 {
		return status
	}
	var all []string
	for _, d := range data {
		all = append(all, lines(d)...)
	}
	field := func(line string) string {
		if key == nil {
			return line
		}
		var parts []string
		if hasSep {
			parts = strings.Split(line, sep)
		} else {
			parts = blankFields(line)
		}
		if key.field > len(parts) {
			return ""
		}
		end := len(parts)
		if key.endField > 0 {
			end = min(end, key.endField)
		}
		if end < key.field {
			return ""
		}
		j := sep
		if !hasSep {
			j = ""
		}
		return strings.Join(parts[key.field-1:end], j)
	}
	numeric := has(opts, 'n') || has(opts, 'h') || has(opts, 'g') || key != nil && key.numeric
	reverse := has(opts, 'r') || key != nil && key.reverse
	collate := c.s.collateKey()
	if has(opts, 'f') {
		prev := collate
		collate = func(s string) string { return strings.ToUpper(prev(s)) }
	}
	cmp := func(a, b string) int {
		ka, kb := field(a), field(b)
		if numeric {
			x, y := sortNumber(ka, has(opts, 'h')), sortNumber(kb, has(opts, 'h'))
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		} else if r := strings.Compare(collate(ka), collate(kb)); r != 0 {
			return r
		}
		if has(opts, 'u') || has(opts, 's') {
			return 0
		}
		return strings.Compare(a, b)
	}
	sort.SliceStable(all, func(i, j int) bool {
		r := cmp(all[i], all[j])
		if reverse {
			return r > 0
		}
		return r < 0
	})
	var b strings.Builder
	for i, l := range all {
		if has(opts, 'u') && i > 0 && cmp(all[i-1], l) == 0 {
			continue
		}
		b.WriteString(l + "\n")
	}
	if o, ok := opts['o']; ok {
		if err := c.s.writeAndReport(c.s.abs(o), []byte(b.String()), false); err != nil {
			c.errorf("sort: open failed: %s: %s\n", o, errText(err))
			return 2
		}
		return 0
	}
	c.printf("%s", b.String())
	return 0
}

// blankFields splits a line the way sort's default key does: each field
// keeps the blanks before it.
func blankFields(line string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(line); i++ {
		if i == len(line) || (line[i] == ' ' || line[i] == '\t') && line[i-1] != ' ' && line[i-1] != '\t' {
			out = append(out, line[start:i])
			start = i
		}
	}
	return out
}

// sortNumber is the leading number of s (sort -n), with a K/M/G... suffix
// for -h.
func sortNumber(s string, human bool) float64 {
	t := strings.TrimLeft(s, " \t")
	n := strToNum(t)
	if human {
		i := awkNumPrefix(strings.TrimLeft(t, "+-"))
		rest := strings.TrimLeft(t, "+-")[i:]
		if rest != "" {
			if p := strings.IndexByte("KMGTPE", rest[0]&^0x20); p >= 0 {
				for ; p >= 0; p-- {
					n *= 1024
				}
			}
		}
	}
	return n
}

// collateKey maps a string to what glibc compares it by in the session's
// locale: bytes in C, and case and punctuation set aside otherwise.
func (s *Session) collateKey() func(string) string {
	lang := s.vars["LC_ALL"] + s.vars["LC_COLLATE"] + s.vars["LANG"]
	if lang == "" || strings.HasPrefix(lang, "C") || lang == "POSIX" {
		return func(s string) string { return s }
	}
	return func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
}

func cmdUniq(c *call) int {
	opts, ops, ok := c.getopt("cdui", map[string]rune{"count": 'c', "repeated": 'd', "unique": 'u', "ignore-case": 'i'})
	if !ok {
		return 1
	}
	if len(ops) > 2 {
		c.errorf("uniq: extra operand %s\nTry 'uniq --help' for more information.\n", quoteaf(ops[2]))
		return 1
	}
	in := ops
	if len(in) > 1 {
		in = in[:1]
	}
	status := 0
	_, data := c.inputs(in, func(op string, err error) {
		c.errorf("uniq: %s: %s\n", op, errText(err))
		status = 1
	})
	if status != 0 {
		return status
	}
	same := func(a, b string) bool {
		if has(opts, 'i') {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	var b strings.Builder
	var all []string
	for _, d := range data {
		all = append(all, lines(d)...)
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && same(all[i], all[j]) {
			j++
		}
		n := j - i
		if (!has(opts, 'd') || n > 1) && (!has(opts, 'u') || n == 1) {
			if has(opts, 'c') {
				fmt.Fprintf(&b, "%7d %s\n", n, all[i])
			} else {
				b.WriteString(all[i] + "\n")
			}
		}
		i = j
	}
	if len(ops) == 2 {
		if err := c.s.writeAndReport(c.s.abs(ops[1]), []byte(b.String()), false); err != nil {
			c.errorf("uniq: %s: %s\n", ops[1], errText(err))
			return 1
		}
		return 0
	}
	c.printf("%s", b.String())
	return 0
}

// --- tr ---

// trSet expands a tr SET: ranges, escapes and [:class:]es.
func trSet(s string) []byte {
	var out []byte
	classes := map[string]func(byte) bool{
		"lower": func(b byte) bool { return b >= 'a' && b <= 'z' }, "upper": func(b byte) bool { return b >= 'A' && b <= 'Z' },
		"digit": func(b byte) bool { return b >= '0' && b <= '9' },
		"alpha": func(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' },
		"alnum": func(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' || b >= '0' && b <= '9' },
		"space": func(b byte) bool { return b == ' ' || b >= '\t' && b <= '\r' }, "blank": func(b byte) bool { return b == ' ' || b == '\t' },
		"punct": func(b byte) bool {
			return b > ' ' && b < 127 && !(b|0x20 >= 'a' && b|0x20 <= 'z' || b >= '0' && b <= '9')
		},
		"xdigit": func(b byte) bool { return b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'f' },
		"cntrl":  func(b byte) bool { return b < ' ' || b == 127 }, "print": func(b byte) bool { return b >= ' ' && b < 127 },
		"graph": func(b byte) bool { return b > ' ' && b < 127 },
	}
	var raw []byte
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], "[:") {
			if end := strings.Index(s[i:], ":]"); end > 2 {
				if f, ok := classes[s[i+2:i+end]]; ok {
					for b := 0; b < 256; b++ {
						if f(byte(b)) {
							raw = append(raw, byte(b))
						}
					}
					i += end + 1
					continue
				}
			}
		}
		ch := s[i]
		if ch == '\\' && i+1 < len(s) {
			// tr takes an unknown escape's character as it is: the
			// last byte written is the one.
			var b strings.Builder
			n, _ := escTr.decode(&b, s[i+1:])
			i += n
			v := b.String()
			ch = v[len(v)-1]
		}
		if i+2 < len(s) && s[i+1] == '-' {
			hi := s[i+2]
			if hi >= ch {
				for b := int(ch); b <= int(hi); b++ {
					raw = append(raw, byte(b))
				}
				i += 2
				continue
			}
		}
		raw = append(raw, ch)
		if len(raw) > 4096 {
			break
		}
	}
	out = append(out, raw...)
	return out
}

func cmdTr(c *call) int {
	opts, ops, ok := c.getopt("cdsCt", map[string]rune{"complement": 'c', "delete": 'd', "squeeze-repeats": 's'})
	if !ok {
		return 1
	}
	del, squeeze := has(opts, 'd'), has(opts, 's')
	switch {
	case len(ops) == 0:
		c.errorf("tr: missing operand\nTry 'tr --help' for more information.\n")
		return 1
	case len(ops) == 1 && !del && !squeeze:
		c.errorf("tr: missing operand after %s\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n", c.quote(ops[0]))
		return 1
	case len(ops) > 2 || len(ops) == 2 && del && !squeeze:
		c.errorf("tr: extra operand %s\nTry 'tr --help' for more information.\n", c.quote(ops[len(ops)-1]))
		return 1
	}
	set1 := trSet(ops[0])
	var in1 [256]bool
	for _, b := range set1 {
		in1[b] = true
	}
	if has(opts, 'c') || has(opts, 'C') {
		set1 = set1[:0]
		for b := 0; b < 256; b++ {
			in1[b] = !in1[b]
			if in1[b] {
				set1 = append(set1, byte(b))
			}
		}
	}
	var mapping [256]int
	for i := range mapping {
		mapping[i] = -1
	}
	var set2 []byte
	if len(ops) == 2 {
		set2 = trSet(ops[1])
	}
	if !del && len(set2) > 0 {
		for i, b := range set1 {
			mapping[b] = int(set2[min(i, len(set2)-1)])
		}
	}
	var inSq [256]bool
	sq := set1
	if len(set2) > 0 && !del {
		sq = set2
	} else if del && len(set2) > 0 {
		sq = set2
	}
	for _, b := range sq {
		inSq[b] = true
	}
	out := make([]byte, 0, len(c.stdin))
	last := -1
	for _, b := range c.stdin {
		if del && in1[b] {
			continue
		}
		if m := mapping[b]; m >= 0 {
			b = byte(m)
		}
		if squeeze && inSq[b] && last == int(b) {
			continue
		}
		out = append(out, b)
		last = int(b)
	}
	c.out.Write(out)
	return 0
}

// --- base64 ---

func cmdBase64(c *call) int {
	opts, ops, ok := c.getopt("diw:", map[string]rune{"decode": 'd', "ignore-garbage": 'i', "wrap": 'w'})
	if !ok {
		return 1
	}
	if len(ops) > 1 {
		c.errorf("base64: extra operand %s\nTry 'base64 --help' for more information.\n", c.quote(ops[1]))
		return 1
	}
	status := 0
	_, data := c.inputs(ops, func(op string, err error) {
		c.errorf("base64: %s: %s\n", op, errText(err))
		status = 1
	})
	if status != 0 {
		return status
	}
	in := data[0]
	if has(opts, 'd') {
		var clean []byte
		for _, b := range in {
			switch {
			case b == '\n' || b == '\r':
			case b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=':
				clean = append(clean, b)
			case has(opts, 'i'):
			default:
				clean = append(clean, b)
			}
		}
		// Decode whole quanta, so the good prefix is printed before the
		// error, as coreutils does.
		n := len(clean) / 4 * 4
		out, err := base64.StdEncoding.DecodeString(string(clean[:n]))
		if err != nil {
			if ce, ok := err.(base64.CorruptInputError); ok {
				good, _ := base64.StdEncoding.DecodeString(string(clean[:int(ce)/4*4]))
				c.out.Write(good)
			}
			c.errorf("base64: invalid input\n")
			return 1
		}
		c.out.Write(out)
		if n != len(clean) {
			rest := string(clean[n:])
			if tail, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(rest, "=")); err == nil && len(rest) > 1 {
				c.out.Write(tail)
			}
			c.errorf("base64: invalid input\n")
			return 1
		}
		return 0
	}
	wrap := 76
	if w, ok := opts['w']; ok {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			c.errorf("base64: invalid wrap size: %s\n", c.quote(w))
			return 1
		}
		wrap = n
	}
	enc := base64.StdEncoding.EncodeToString(in)
	var b bytes.Buffer
	for wrap > 0 && len(enc) > wrap {
		b.WriteString(enc[:wrap] + "\n")
		enc = enc[wrap:]
	}
	b.WriteString(enc)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	c.out.Write(b.Bytes())
	return 0
}

// --- printf ---

// bPrintf is bash's printf builtin; /usr/bin/printf differs only in its
// error messages.
func bPrintf(c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	builtin := c.name == "printf"
	if len(args) == 0 {
		if builtin {
			c.errorf("%sprintf: usage: printf [-v var] format [arguments]\n", c.s.errPrefix())
			return 2
		}
		c.errorf("printf: missing operand\nTry 'printf --help' for more information.\n")
		return 1
	}
	var varName string
	if builtin && args[0] == "-v" && len(args) > 1 {
		varName, args = args[1], args[2:]
		if len(args) == 0 {
			c.errorf("%sprintf: usage: printf [-v var] format [arguments]\n", c.s.errPrefix())
			return 2
		}
	}
	format, args := args[0], args[1:]
	status := 0
	bad := func(a string) {
		if builtin {
			c.errorf("%sprintf: %s: invalid number\n", c.s.errPrefix(), a)
		} else {
			c.errorf("%s: %s: expected a numeric value\n", c.name, c.quote(a))
		}
		status = 1
	}
	var out bytes.Buffer
	for first := true; first || len(args) > 0; first = false {
		used, stop := printfOnce(&out, format, &args, bad)
		if stop || used == 0 || out.Len() > maxOutput {
			break
		}
	}
	if varName != "" {
		c.s.vars[varName] = out.String()
		return status
	}
	c.out.Write(out.Bytes())
	return status
}

// printfOnce formats format once, consuming args; used counts the
// conversions that took an argument, stop is set by \c.
func printfOnce(out *bytes.Buffer, format string, args *[]string, bad func(string)) (used int, stop bool) {
	next := func() (string, bool) {
		if len(*args) == 0 {
			return "", false
		}
		a := (*args)[0]
		*args = (*args)[1:]
		used++
		return a, true
	}
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch == '\\' && i+1 < len(format) {
			n, st := escFormat.decode(out, format[i+1:])
			if st {
				return used, true
			}
			i += n
			continue
		}
		if ch != '%' || i+1 >= len(format) {
			out.WriteByte(ch)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		if j >= len(format) {
			out.WriteString(format[i:])
			return used, false
		}
		spec := format[i:j]
		if len(spec) > 12 {
			spec = spec[:12]
		}
		conv := format[j]
		i = j
		switch conv {
		case '%':
			out.WriteByte('%')
		case 's':
			a, _ := next()
			fmt.Fprintf(out, spec+"s", a)
		case 'b':
			a, _ := next()
			var b bytes.Buffer
			for k := 0; k < len(a); k++ {
				if a[k] == '\\' && k+1 < len(a) {
					n, st := escArg.decode(&b, a[k+1:])
					if st {
						out.Write(b.Bytes())
						return used, true
					}
					k += n
					continue
				}
				b.WriteByte(a[k])
			}
			fmt.Fprintf(out, spec+"s", b.String())
		case 'c':
			a, _ := next()
			if a != "" {
				a = a[:1]
			}
			fmt.Fprintf(out, spec+"s", a)
		case 'd', 'i', 'o', 'x', 'X', 'u':
			a, _ := next()
			n := printfInt(a, bad)
			switch conv {
			case 'i', 'u':
				conv = 'd'
			}
			if conv != 'd' && n < 0 {
				fmt.Fprintf(out, spec+string(conv), uint64(n))
			} else {
				fmt.Fprintf(out, spec+string(conv), n)
			}
		case 'f', 'F', 'e', 'E', 'g', 'G':
			a, _ := next()
			f, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
			if err != nil && a != "" {
				f = float64(printfInt(a, bad))
			}
			if !strings.Contains(spec, ".") {
				spec += ".6"
			}
			fmt.Fprintf(out, spec+string(conv), f)
		default:
			out.WriteString(format[i-len(spec) : i+1])
		}
	}
	return used, false
}

// printfInt reads printf's integer argument: decimal, 0x hex, 0 octal or
// 'c for a character code.
func printfInt(a string, bad func(string)) int64 {
	t := strings.TrimSpace(a)
	if t == "" {
		return 0
	}
	if t[0] == '\'' || t[0] == '"' {
		if len(t) > 1 {
			return int64(t[1])
		}
		return 0
	}
	n, err := strconv.ParseInt(t, 0, 64)
	if err != nil {
		bad(a)
		v := strToNum(t)
		return int64(v)
	}
	return n
}
