package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// getopt parses GNU-style options: spec lists the option letters, a letter
// followed by ':' takes an argument; longs maps long options to letters.
// Options and operands may be mixed; "--" ends options. On a bad option it
// prints the tool's message and returns ok=false.
func (c *call) getopt(spec string, longs map[string]rune) (opts map[rune]string, operands []string, ok bool) {
	opts = map[rune]string{}
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return opts, append(operands, args[i+1:]...), true
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			r, known := longs[name]
			if !known {
				c.errorf("%s: unrecognized option '%s'\nTry '%s --help' for more information.\n", c.name, a, c.name)
				return nil, nil, false
			}
			if hasVal {
				opts[r] = val
			} else {
				opts[r] = ""
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				r := rune(a[j])
				k := strings.IndexRune(spec, r)
				if k < 0 || r == ':' {
					c.errorf("%s: invalid option -- '%c'\nTry '%s --help' for more information.\n", c.name, r, c.name)
					return nil, nil, false
				}
				if k+1 < len(spec) && spec[k+1] == ':' {
					if j+1 < len(a) {
						opts[r] = a[j+1:]
					} else if i+1 < len(args) {
						i++
						opts[r] = args[i]
					} else {
						c.errorf("%s: option requires an argument -- '%c'\nTry '%s --help' for more information.\n", c.name, r, c.name)
						return nil, nil, false
					}
					break
				}
				opts[r] = ""
			}
		default:
			operands = append(operands, a)
		}
	}
	return opts, operands, true
}

func has(opts map[rune]string, r rune) bool { _, ok := opts[r]; return ok }

// quote is coreutils' quote(): typographic quotes in a UTF-8 locale.
func (c *call) quote(s string) string {
	lang := c.s.vars["LC_ALL"] + c.s.vars["LC_MESSAGES"] + c.s.vars["LANG"]
	if strings.Contains(strings.ToLower(lang), "utf") {
		return "‘" + s + "’"
	}
	return "'" + s + "'"
}

// quoteaf is coreutils' quoteaf(): shell quoting, only when needed... except
// that tools pass the always-quote style, so a name is always quoted.
func quoteaf(s string) string {
	if strings.Contains(s, "'") {
		return "\"" + s + "\""
	}
	return "'" + s + "'"
}

func errText(err error) string {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.msg
	}
	return err.Error()
}

// --- ls ---

type lsEntry struct {
	name string // as shown
	full string // canonical path for stat
	node Node
}

func cmdLs(c *call) int {
	opts, ops, ok := c.getopt("laAhd1rtSFRi", map[string]rune{"all": 'a', "almost-all": 'A', "human-readable": 'h',
		"directory": 'd', "reverse": 'r', "color": 0, "classify": 'F', "recursive": 'R'})
	if !ok {
		return 2
	}
	if len(ops) == 0 {
		ops = []string{"."}
	}
	status := 0
	var files []lsEntry
	var dirs []string
	for _, op := range ops {
		p := c.s.abs(op)
		_, n, err := c.s.fs.stat(p, !has(opts, 'l') || strings.HasSuffix(op, "/"))
		if err == nil && n.Mode&fs.ModeSymlink == 0 && n.Mode.IsDir() && !has(opts, 'd') {
			dirs = append(dirs, op)
			continue
		}
		if err != nil {
			c.errorf("ls: cannot access %s: %s\n", quoteaf(op), errText(err))
			status = 2
			continue
		}
		files = append(files, lsEntry{name: op, full: p, node: n})
	}
	c.lsSort(files, opts)
	c.lsPrint(files, opts)
	for i, d := range dirs {
		if len(files) > 0 || i > 0 {
			c.printf("\n")
		}
		if len(ops) > 1 || has(opts, 'R') {
			c.printf("%s:\n", d)
		}
		full, names, err := c.s.fs.readDir(c.s.cred, c.s.abs(d))
		if err != nil {
			c.errorf("ls: cannot open directory %s: %s\n", quoteaf(d), errText(err))
			status = 2
			continue
		}
		var entries []lsEntry
		if has(opts, 'a') {
			for _, dot := range []string{".", ".."} {
				_, n, _ := c.s.fs.stat(path.Join(full, dot), true)
				entries = append(entries, lsEntry{name: dot, full: path.Join(full, dot), node: n})
			}
		}
		for _, name := range names {
			if strings.HasPrefix(name, ".") && !has(opts, 'a') && !has(opts, 'A') {
				continue
			}
			_, n, err := c.s.fs.stat(path.Join(full, name), false)
			if err != nil {
				continue
			}
			entries = append(entries, lsEntry{name: name, full: path.Join(full, name), node: n})
		}
		c.lsSort(entries, opts)
		if has(opts, 'l') {
			c.printf("total %s\n", c.lsTotal(entries, opts))
		}
		c.lsPrint(entries, opts)
	}
	return status
}

func (c *call) lsSort(es []lsEntry, opts map[rune]string) {
	// In a UTF-8 locale other than C, glibc collation ignores dots and case.
	lang := c.s.vars["LC_ALL"] + c.s.vars["LC_COLLATE"] + c.s.vars["LANG"]
	key := func(s string) string { return s }
	if lang != "" && !strings.HasPrefix(lang, "C") && lang != "POSIX" {
		key = func(s string) string { return strings.ToLower(strings.TrimLeft(s, ".")) }
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		switch {
		case has(opts, 't') && !a.node.MTime.Equal(b.node.MTime):
			return a.node.MTime.After(b.node.MTime)
		case has(opts, 'S') && a.node.Size() != b.node.Size():
			return a.node.Size() > b.node.Size()
		}
		if ka, kb := key(a.name), key(b.name); ka != kb {
			return ka < kb
		}
		return a.name < b.name
	})
	if has(opts, 'r') {
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
	}
}

func blocks(n Node) int64 {
	if n.Mode&fs.ModeSymlink != 0 {
		return 0
	}
	return (n.Size() + 4095) / 4096 * 4
}

func (c *call) lsTotal(es []lsEntry, opts map[rune]string) string {
	var t int64
	for _, e := range es {
		t += blocks(e.node)
	}
	if has(opts, 'h') {
		return humanSize(t * 1024)
	}
	return strconv.FormatInt(t, 10)
}

// humanSize is ls -h: powers of 1024, rounded up, one decimal below 10.
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	units := "KMGTPE"
	v := float64(n)
	for i := 0; i < len(units); i++ {
		v /= 1024
		if v < 10 {
			r := float64(int64(v*10+0.9999999)) / 10
			if r < 10 {
				return strconv.FormatFloat(r, 'f', 1, 64) + string(units[i])
			}
			v = r
		}
		if v < 1024 {
			r := int64(v + 0.9999999)
			if r < 1024 {
				return strconv.FormatInt(r, 10) + string(units[i])
			}
		}
	}
	return strconv.FormatInt(n, 10)
}

func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	if m&fs.ModeSticky != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	if m&fs.ModeSetuid != 0 {
		if b[3] == 'x' {
			b[3] = 's'
		} else {
			b[3] = 'S'
		}
	}
	return string(b)
}

// lsTime is ls's date column: the time for recent files, the year for
// files older than six months or in the future.
func lsTime(t, now time.Time) string {
	t = t.UTC()
	if t.After(now.Add(time.Minute)) || now.Sub(t) > 182*24*time.Hour {
		return t.Format("Jan _2  2006")
	}
	return t.Format("Jan _2 15:04")
}

func (c *call) lsPrint(es []lsEntry, opts map[rune]string) {
	if len(es) == 0 {
		return
	}
	if has(opts, 'l') {
		c.lsLong(es, opts)
		return
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.name + c.classify(e, opts)
	}
	if !c.tty || has(opts, '1') {
		for _, n := range names {
			c.printf("%s\n", n)
		}
		return
	}
	c.printf("%s", columns(names, c.s.width))
}

func (c *call) classify(e lsEntry, opts map[rune]string) string {
	if !has(opts, 'F') {
		return ""
	}
	switch m := e.node.Mode; {
	case m.IsDir():
		return "/"
	case m&fs.ModeSymlink != 0:
		return "@"
	case m&0o111 != 0:
		return "*"
	}
	return ""
}

// columns lays names out top to bottom like GNU ls: as many columns as
// fit in width, two spaces between them.
func columns(names []string, width int) string {
	n := len(names)
	best := 1
	var bestW []int
	for cols := n; cols >= 1; cols-- {
		rows := (n + cols - 1) / cols
		if (n+rows-1)/rows != cols {
			continue
		}
		w := make([]int, cols)
		total := 0
		for i, name := range names {
			col := i / rows
			if l := len([]rune(name)); l > w[col] {
				w[col] = l
			}
		}
		for i, x := range w {
			total += x
			if i < cols-1 {
				total += 2
			}
		}
		if total < width {
			best, bestW = cols, w
			break
		}
	}
	if bestW == nil {
		best, bestW = 1, []int{0}
	}
	rows := (n + best - 1) / best
	var b strings.Builder
	for r := 0; r < rows; r++ {
		for col := 0; col < best; col++ {
			i := col*rows + r
			if i >= n {
				break
			}
			b.WriteString(names[i])
			if col < best-1 && (col+1)*rows+r < n {
				b.WriteString(strings.Repeat(" ", bestW[col]-len([]rune(names[i]))+2))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (c *call) lsLong(es []lsEntry, opts map[rune]string) {
	type row struct{ mode, links, owner, group, size, date, name string }
	rows := make([]row, len(es))
	var wl, wo, wg, ws int
	now := c.s.now()
	for i, e := range es {
		n := e.node
		links := 1
		if n.Mode.IsDir() {
			links = 2 + c.subdirs(e.full)
		}
		size := strconv.FormatInt(n.Size(), 10)
		if has(opts, 'h') {
			size = humanSize(n.Size())
		}
		mode := modeString(n.Mode)
		if c.s.d.selinux {
			mode += "."
		}
		name := e.name + c.classify(e, opts)
		if n.Mode&fs.ModeSymlink != 0 {
			name = e.name + " -> " + n.Target
		}
		rows[i] = row{mode, strconv.Itoa(links), c.s.fs.userName(n.UID), c.s.fs.groupName(n.GID), size, lsTime(n.MTime, now), name}
		wl, wo, wg, ws = max(wl, len(rows[i].links)), max(wo, len(rows[i].owner)), max(wg, len(rows[i].group)), max(ws, len(rows[i].size))
	}
	for _, r := range rows {
		c.printf("%s %*s %-*s %-*s %*s %s %s\n", r.mode, wl, r.links, wo, r.owner, wg, r.group, ws, r.size, r.date, r.name)
	}
}

func (c *call) subdirs(dir string) int {
	_, names, err := c.s.fs.readDir(cred{}, dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, name := range names {
		if _, nd, err := c.s.fs.stat(path.Join(dir, name), false); err == nil && nd.Mode.IsDir() {
			n++
		}
	}
	return n
}

// --- cat, head, tail, wc, grep: read operands or stdin ---

// inputs reads each operand ("-" or none meaning stdin), reporting errors
// with report and skipping the operand.
func (c *call) inputs(ops []string, report func(op string, err error)) (names []string, data [][]byte) {
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	for _, op := range ops {
		if op == "-" {
			names, data = append(names, "-"), append(data, c.stdin)
			continue
		}
		b, err := c.s.fs.readFile(c.s.cred, c.s.abs(op))
		if err != nil {
			report(op, err)
			continue
		}
		names, data = append(names, op), append(data, b)
	}
	return names, data
}

func cmdCat(c *call) int {
	opts, ops, ok := c.getopt("nAvetsbE", map[string]rune{"number": 'n', "show-all": 'A'})
	if !ok {
		return 1
	}
	status := 0
	_, data := c.inputs(ops, func(op string, err error) {
		c.errorf("cat: %s: %s\n", op, errText(err))
		status = 1
	})
	line := 1
	for _, b := range data {
		if !has(opts, 'n') {
			c.out.Write(b)
			continue
		}
		for _, l := range bytes.SplitAfter(b, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			c.printf("%6d\t%s", line, l)
			line++
		}
	}
	return status
}

// countArg reads head/tail's -n/-c value, including the old -5 form.
func (c *call) countArgs(def int) (n int, bytesMode bool, ops []string, ok bool) {
	for i, a := range c.args {
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			c.args = append(append([]string{}, c.args[:i]...), append([]string{"-n", a[1:]}, c.args[i+1:]...)...)
			break
		}
	}
	opts, ops, ok := c.getopt("n:c:qv", map[string]rune{"lines": 'n', "bytes": 'c', "quiet": 'q', "silent": 'q', "verbose": 'v'})
	if !ok {
		return 0, false, nil, false
	}
	n = def
	val, isBytes := opts['c']
	if !isBytes {
		val = opts['n']
	}
	if has(opts, 'n') || isBytes {
		v, err := strconv.Atoi(strings.TrimPrefix(val, "+"))
		if err != nil {
			what := "lines"
			if isBytes {
				what = "bytes"
			}
			c.errorf("%s: invalid number of %s: %s\n", c.name, what, c.quote(val))
			return 0, false, nil, false
		}
		n = v
	}
	return n, isBytes, ops, true
}

func cmdHeadTail(c *call) int {
	n, byteMode, ops, ok := c.countArgs(10)
	if !ok {
		return 1
	}
	status := 0
	names, data := c.inputs(ops, func(op string, err error) {
		c.errorf("%s: cannot open %s for reading: %s\n", c.name, quoteaf(op), errText(err))
		status = 1
	})
	for i, b := range data {
		if len(names) > 1 {
			if i > 0 {
				c.printf("\n")
			}
			name := names[i]
			if name == "-" {
				name = "standard input"
			}
			c.printf("==> %s <==\n", name)
		}
		c.out.Write(headTail(b, n, byteMode, c.name == "tail"))
	}
	return status
}

func headTail(b []byte, n int, byteMode, tail bool) []byte {
	if byteMode {
		n = min(max(n, 0), len(b))
		if tail {
			return b[len(b)-n:]
		}
		return b[:n]
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	n = min(max(n, 0), len(lines))
	if tail {
		return bytes.Join(lines[len(lines)-n:], nil)
	}
	return bytes.Join(lines[:n], nil)
}

func cmdWc(c *call) int {
	opts, ops, ok := c.getopt("lwcmL", map[string]rune{"lines": 'l', "words": 'w', "bytes": 'c', "chars": 'm'})
	if !ok {
		return 1
	}
	show := []rune{}
	for _, r := range "lwc" {
		if has(opts, r) || has(opts, 'm') && r == 'c' {
			show = append(show, r)
		}
	}
	if len(show) == 0 {
		show = []rune{'l', 'w', 'c'}
	}
	status := 0
	names, data := c.inputs(ops, func(op string, err error) {
		c.errorf("wc: %s: %s\n", op, errText(err))
		status = 1
	})
	type counts map[rune]int
	var all []counts
	total := counts{}
	stdin := false
	for i, b := range data {
		cn := counts{'l': bytes.Count(b, []byte("\n")), 'w': len(bytes.Fields(b)), 'c': len(b)}
		if has(opts, 'm') {
			cn['c'] = len([]rune(string(b)))
		}
		for k, v := range cn {
			total[k] += v
		}
		all = append(all, cn)
		stdin = stdin || names[i] == "-"
	}
	width := len(strconv.Itoa(total['c']))
	if stdin {
		width = 7
	}
	if len(show) == 1 && len(names) == 1 {
		width = 1
	}
	line := func(cn counts, name string) {
		var parts []string
		for _, r := range show {
			parts = append(parts, fmt.Sprintf("%*d", width, cn[r]))
		}
		if name != "-" {
			parts = append(parts, name)
		}
		c.printf("%s\n", strings.Join(parts, " "))
	}
	for i, cn := range all {
		line(cn, names[i])
	}
	if len(names) > 1 {
		line(total, "total")
	}
	return status
}

// --- touch, mkdir, rm, cp, mv, chmod ---

func cmdTouch(c *call) int {
	_, ops, ok := c.getopt("acm", nil)
	if !ok {
		return 1
	}
	if len(ops) == 0 {
		c.errorf("touch: missing file operand\nTry 'touch --help' for more information.\n")
		return 1
	}
	status := 0
	for _, op := range ops {
		if err := c.s.fs.touch(c.s.cred, c.s.abs(op), c.s.now()); err != nil {
			c.errorf("touch: cannot touch %s: %s\n", quoteaf(op), errText(err))
			status = 1
		}
	}
	return status
}

func cmdMkdir(c *call) int {
	opts, ops, ok := c.getopt("pvm:", map[string]rune{"parents": 'p', "verbose": 'v', "mode": 'm'})
	if !ok {
		return 1
	}
	if len(ops) == 0 {
		c.errorf("mkdir: missing operand\nTry 'mkdir --help' for more information.\n")
		return 1
	}
	status := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if has(opts, 'p') {
			cur := "/"
			for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
				cur = path.Join(cur, seg)
				if _, n, err := c.s.fs.stat(cur, true); err == nil {
					if !n.Mode.IsDir() {
						c.errorf("mkdir: cannot create directory %s: %s\n", c.quote(op), ErrNotDir)
						status = 1
						break
					}
					continue
				}
				if err := c.s.fs.mkdir(c.s.cred, cur, c.s.now()); err != nil {
					c.errorf("mkdir: cannot create directory %s: %s\n", c.quote(op), errText(err))
					status = 1
					break
				}
			}
			continue
		}
		if err := c.s.fs.mkdir(c.s.cred, p, c.s.now()); err != nil {
			c.errorf("mkdir: cannot create directory %s: %s\n", c.quote(op), errText(err))
			status = 1
		}
	}
	return status
}

func cmdRm(c *call) int {
	opts, ops, ok := c.getopt("rRfivd", map[string]rune{"recursive": 'r', "force": 'f', "verbose": 'v', "no-preserve-root": 'P'})
	if !ok {
		return 1
	}
	force := has(opts, 'f')
	if len(ops) == 0 {
		if force {
			return 0
		}
		c.errorf("rm: missing operand\nTry 'rm --help' for more information.\n")
		return 1
	}
	recursive := has(opts, 'r') || has(opts, 'R')
	status := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if p == "/" && recursive && !has(opts, 'P') {
			c.errorf("rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n")
			status = 1
			continue
		}
		err := c.s.fs.remove(c.s.cred, p, recursive)
		switch {
		case err == nil:
			if has(opts, 'v') {
				c.printf("removed %s\n", quoteaf(op))
			}
		case errors.Is(err, ErrNotExist) && force:
		default:
			c.errorf("rm: cannot remove %s: %s\n", quoteaf(op), errText(err))
			status = 1
		}
	}
	return status
}

func cmdCpMv(c *call) int {
	opts, ops, ok := c.getopt("rRfapvniu", map[string]rune{"recursive": 'r', "force": 'f', "verbose": 'v'})
	if !ok {
		return 1
	}
	if len(ops) == 0 {
		c.errorf("%s: missing file operand\nTry '%s --help' for more information.\n", c.name, c.name)
		return 1
	}
	if len(ops) == 1 {
		c.errorf("%s: missing destination file operand after %s\nTry '%s --help' for more information.\n", c.name, quoteaf(ops[0]), c.name)
		return 1
	}
	dst := ops[len(ops)-1]
	dstPath := c.s.abs(dst)
	_, dn, derr := c.s.fs.stat(dstPath, true)
	dstDir := derr == nil && dn.Mode.IsDir()
	if len(ops) > 2 && !dstDir {
		c.errorf("%s: target %s is not a directory\n", c.name, quoteaf(dst))
		return 1
	}
	status := 0
	for _, src := range ops[:len(ops)-1] {
		sp := c.s.abs(src)
		_, sn, err := c.s.fs.stat(sp, true)
		if err != nil {
			c.errorf("%s: cannot stat %s: %s\n", c.name, quoteaf(src), errText(err))
			status = 1
			continue
		}
		if c.name == "mv" {
			if err := c.s.fs.rename(c.s.cred, sp, dstPath, c.s.now()); err != nil {
				c.errorf("mv: cannot move %s to %s: %s\n", quoteaf(src), quoteaf(dst), errText(err))
				status = 1
			}
			continue
		}
		target := dstPath
		if dstDir {
			target = path.Join(dstPath, path.Base(sp))
		}
		if sn.Mode.IsDir() {
			if !has(opts, 'r') && !has(opts, 'R') && !has(opts, 'a') {
				c.errorf("cp: -r not specified; omitting directory %s\n", quoteaf(src))
				status = 1
				continue
			}
			if err := c.copyTree(sp, target); err != nil {
				c.errorf("cp: cannot create directory %s: %s\n", quoteaf(dst), errText(err))
				status = 1
			}
			continue
		}
		if err := c.copyFile(sp, target, sn); err != nil {
			c.errorf("cp: cannot create regular file %s: %s\n", quoteaf(dst), errText(err))
			status = 1
		}
	}
	return status
}

func (c *call) copyFile(src, dst string, sn Node) error {
	data, err := c.s.fs.readFile(c.s.cred, src)
	if err != nil {
		return err
	}
	_, existed, _ := c.s.fs.stat(dst, true)
	if err := c.s.writeAndReport(dst, data, false); err != nil {
		return err
	}
	if existed.Mode == 0 {
		c.s.fs.chmod(c.s.cred, dst, func(fs.FileMode) fs.FileMode { return sn.Mode.Perm() })
	}
	return nil
}

func (c *call) copyTree(src, dst string) error {
	if strings.HasPrefix(dst+"/", src+"/") {
		return errors.New("Invalid argument")
	}
	if err := c.s.fs.mkdir(c.s.cred, dst, c.s.now()); err != nil && !errors.Is(err, ErrExist) {
		return err
	}
	_, names, err := c.s.fs.readDir(c.s.cred, src)
	if err != nil {
		return err
	}
	for _, name := range names {
		sp, dp := path.Join(src, name), path.Join(dst, name)
		_, n, err := c.s.fs.stat(sp, false)
		if err != nil {
			continue
		}
		if n.Mode.IsDir() {
			err = c.copyTree(sp, dp)
		} else {
			err = c.copyFile(sp, dp, n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func cmdChmod(c *call) int {
	args := c.args
	// -R applies the mode to the operand itself only: the fake tree has no
	// deep directories an attacker would chmod recursively.
	for len(args) > 0 && (args[0] == "-R" || args[0] == "-v" || args[0] == "-f") {
		args = args[1:]
	}
	if len(args) == 0 {
		c.errorf("chmod: missing operand\nTry 'chmod --help' for more information.\n")
		return 1
	}
	if len(args) == 1 {
		c.errorf("chmod: missing operand after %s\nTry 'chmod --help' for more information.\n", c.quote(args[0]))
		return 1
	}
	change, ok := parseMode(args[0])
	if !ok {
		c.errorf("chmod: invalid mode: %s\nTry 'chmod --help' for more information.\n", c.quote(args[0]))
		return 1
	}
	status := 0
	for _, op := range args[1:] {
		if err := c.s.fs.chmod(c.s.cred, c.s.abs(op), change); err != nil {
			if errors.Is(err, ErrNotExist) {
				c.errorf("chmod: cannot access %s: %s\n", quoteaf(op), errText(err))
			} else {
				c.errorf("chmod: changing permissions of %s: %s\n", quoteaf(op), errText(err))
			}
			status = 1
		}
	}
	return status
}

// parseMode understands octal modes and symbolic [ugoa][+-=][rwx] lists.
func parseMode(s string) (func(fs.FileMode) fs.FileMode, bool) {
	if v, err := strconv.ParseUint(s, 8, 32); err == nil && v <= 0o7777 {
		return func(fs.FileMode) fs.FileMode { return fs.FileMode(v) & fs.ModePerm }, true
	}
	type clause struct {
		who  fs.FileMode
		op   byte
		bits fs.FileMode
	}
	var cls []clause
	for _, item := range strings.Split(s, ",") {
		i := 0
		var who fs.FileMode
		for ; i < len(item) && strings.IndexByte("ugoa", item[i]) >= 0; i++ {
			who |= map[byte]fs.FileMode{'u': 0o700, 'g': 0o070, 'o': 0o007, 'a': 0o777}[item[i]]
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(item) || strings.IndexByte("+-=", item[i]) < 0 {
			return nil, false
		}
		op := item[i]
		var bits fs.FileMode
		for _, r := range item[i+1:] {
			switch r {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x', 'X':
				bits |= 0o111
			case 's', 't':
			default:
				return nil, false
			}
		}
		cls = append(cls, clause{who, op, bits & who})
	}
	return func(m fs.FileMode) fs.FileMode {
		for _, cl := range cls {
			switch cl.op {
			case '+':
				m |= cl.bits
			case '-':
				m &^= cl.bits
			case '=':
				m = m&^cl.who | cl.bits
			}
		}
		return m
	}, true
}
