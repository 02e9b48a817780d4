package shell

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

func TestAwk(t *testing.T) {
	runShellCases(t, []shellCase{
		// Hostile programs stop at the interpreter's limits.
		{"debian", "root", "awk 'BEGIN { while (1) x++ }'; echo $?", "0\n", 0},
		{"debian", "root", "awk 'BEGIN { while (1) printf \"%4096s\", \"x\" }' | wc -c", "1048576\n", 0},
		{"debian", "root", "awk 'BEGIN { while (1) a[i++] = 1; }' && echo done", "done\n", 0},
		{"debian", "root", "awk 'BEGIN { s = \"x\"; while (1) s = s s }'; echo $?", "0\n", 0},
		{"debian", "root", "awk 'BEGIN { print " + strings.Repeat("(", 150) + "1" + strings.Repeat(")", 150) + " }'", "1\n", 0},
		{"debian", "root", "awk 'BEGIN { print " + strings.Repeat("(", 400) + "1" + strings.Repeat(")", 400) + " }'",
			"mawk: line 1: syntax error at or near (\n", 2},
		{"debian", "root", "awk -F: '$3 == 0 {print $1, $7}' /etc/passwd",
			"root /bin/bash\n", 0},
		{"debian", "root", "awk -F: 'NR==2' /etc/passwd",
			"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", 0},
		{"debian", "root", "awk 'END{print NR}' /etc/passwd",
			"22\n", 0},
		{"debian", "root", "echo 'a b c' | awk '{print $1,$2}'",
			"a b\n", 0},
		{"debian", "root", "echo 'a b c' | awk '{print $NF; print NF}'",
			"c\n3\n", 0},
		{"debian", "root", "awk '/^root/ {print $1}' /etc/passwd",
			"root:x:0:0:root:/root:/bin/bash\n", 0},
		{"debian", "root", "awk -F: '{n++} END {print n}' /etc/passwd",
			"22\n", 0},
		{"debian", "root", "echo 'x y' | awk -v p=pre '{print p \"-\" $2}'",
			"pre-y\n", 0},
		{"debian", "root", "awk 'BEGIN { printf \"%5.2f|%-3d|%x\\n\", 3.14159, 7, 255 }'",
			" 3.14|7  |ff\n", 0},
		{"debian", "root", "awk 'BEGIN { print length(\"abc\"), substr(\"hello\", 2, 3), toupper(\"x\") }'",
			"3 ell X\n", 0},
		{"debian", "root", "awk 'BEGIN { system(\"id -u\") }'",
			"0\n", 0},
		{"debian", "root", "echo 5 | awk '{ print $1 / 0 }'",
			"inf\n", 0},
		{"rocky9", "root", "echo 5 | awk '{ x = 0; print $1 / x }'",
			"gawk: cmd. line:1: (FILENAME=- FNR=1) fatal: division by zero attempted\n", 2},
		{"debian", "root", "awk '{print $1'",
			"mawk: line 2: missing } near end of file\n", 2},
		{"debian", "root", "awk '{print $1,}'",
			"mawk: line 1: syntax error at or near }\n", 2},
		{"debian", "root", "awk '{ print $1 ) }'",
			"mawk: line 1: extra ')'\n", 2},
		{"debian", "root", "awk '{print $4,$5;}}'",
			"mawk: line 1: extra '}'\nmawk: line 1: syntax error at or near end of line\n", 2},
		{"debian", "root", "awk '{print \"abc}'",
			"mawk: line 1: runaway string constant \"abc} ...\n", 2},
		{"debian", "root", "awk 'NR=='",
			"mawk: line 1: syntax error at or near end of line\n", 2},
		{"debian", "root", "awk '{print `}'",
			"mawk: 1: unexpected character '`'\n", 2},
		{"rocky9", "root", "awk '{print $1'",
			"gawk: cmd. line:1: {print $1\ngawk: cmd. line:1:          ^ unexpected newline or end of string\n", 1},
		{"rocky9", "root", "awk '{print $1,}'",
			"gawk: cmd. line:1: {print $1,}\ngawk: cmd. line:1:           ^ syntax error\n", 1},
		{"rocky9", "root", "awk 'NR=='",
			"gawk: cmd. line:2: NR==\ngawk: cmd. line:2:     ^ unexpected newline or end of string\n", 1},
		{"rocky9", "root", "awk '/[/ {print}'",
			"gawk: cmd. line:1: /[/ {print}\ngawk: cmd. line:1:  ^ unterminated regexp\n", 1},
		{"alpine", "root", "awk '{print $1,}'",
			"awk: cmd. line:1: Unexpected token\n", 1},
		{"alpine", "root", "awk '{print \"abc}'",
			"awk: cmd. line:1: Unexpected end of string\n", 1},
		{"debian", "root", "awk",
			"Usage: mawk [Options] [Program] [file ...]\n\nProgram:\n    The -f option value is the name of a file containing program text.\n    If no -f option is given, a \"--\" ends option processing; the following\n    parameters are the program text.\n\nOptions:\n    -f program-file  Program  text is read from file instead of from the\n                     command-line.  Multiple -f options are accepted.\n    -F value         sets the field separator, FS, to value.\n    -v var=value     assigns value to program variable var.\n    --               unambiguous end of options.\n\n    Implementation-specific options are prefixed with \"-W\".  They can be\n    abbreviated:\n\n    -W version       show version information and exit.\n    -W dump          show assembler-like listing of program and exit.\n    -W help          show this message and exit.\n    -W interactive   set unbuffered output, line-buffered input.\n    -W exec file     use file as program as well as last option.\n    -W random=number set initial random seed.\n    -W sprintf=number adjust size of sprintf buffer.\n    -W posix_space   do not consider \"\\n\" a space.\n    -W usage         show this message and exit.\n", 0},
		{"debian", "root", "awk '{print}' /nope",
			"mawk: cannot open /nope (No such file or directory)\n", 2},
		{"rocky9", "root", "awk '{print}' /nope",
			"gawk: fatal: cannot open file `/nope' for reading: No such file or directory\n", 2},
		{"debian", "root", "awk 'BEGIN { printf \"%s %s\\n\", \"only\" }'",
			"mawk: run time error: not enough arguments passed to printf(\"%s %s\n\")\n\tFILENAME=\"\" FNR=0 NR=0\nonly ", 2},
		{"debian", "root", "echo 'a b' | awk '{ print $(-1) }'",
			"mawk: run time error: negative field index $-1\n\tFILENAME=\"-\" FNR=1 NR=1\n", 2},
		{"debian", "root", "awk 'BEGIN { print \"id\" | \"sh\" }'",
			"uid=0(root) gid=0(root) groups=0(root)\n", 0},
		{"debian", "root", "awk 'BEGIN { print \"x\" > \"/tmp/a\" }'; cat /tmp/a",
			"x\n", 0},
		{"debian", "root", "awk 'BEGIN { \"hostname\" | getline h; print h }'",
			"SRV-WEB-17\n", 0},
		{"debian", "root", "mawk -W version | head -1",
			"mawk 1.3.4 20200120\n", 0},
	})
}

// awkDiffPrograms are run by the fake awk and the real one on the same
// input; both must print the same bytes and exit alike.
var awkDiffPrograms = []string{
	`{print $4,$5,$6,$7,$8,$9;}`, `/Mem/ {print $2 ,$3, $4, $5, $6, $7}`, `FNR == 2 {print $2;}`, `NR==3`, `END{print NR}`,
	`{print NF, $NF}`, `{ s += $2 } END { print s, s/NR }`, `BEGIN{FS=":"} {print $1}`, `{print $1 $2}`,
	`{print length($0), length}`, `{ $2 = "X"; print; print NF }`, `{ NF = 2; print }`, `{print toupper(substr($0, 1, 3))}`,
	`{ if ($2 > 100) print "big", $2; else print "small" }`, `{ printf "%-10s|%5.1f|%d\n", $1, $2, NR }`,
	`/^$/ { print "empty at", NR }`, `NR==1,NR==2 { print "r", NR }`, `{ n = split($0, p, ":"); print n, p[1] }`,
	`{ gsub(/o/, "0"); print }`, `{ sub(/[0-9]+/, "<&>"); print }`, `$2 ~ /^[0-9]+$/ { print "num", $2 }`, `$1 !~ /a/`,
	`{ print ($2 == $2+0) }`, `BEGIN { while (i < 3) { i++; print i }; for (j = 0; j < 2; j++) print "j" j }`,
	`BEGIN { x = 2^10; print x, x % 7, -x, !x, 7/2, int(7/2) }`, `BEGIN { print 1e6, 0.1+0.2, 100000*100000, 3.0 }`,
	`BEGIN { printf "%s %c %c %x %o %e %5.2f%%\n", "s", 65, "hello", 255, 8, 12345.678, 3.14159 }`,
	`BEGIN { print substr("hello",-1,3) "|" substr("hello",0,2) "|" substr("hello",2) "|" substr("hello", 5, 10) "|" }`,
	`BEGIN { getline; print "got", $0; getline line; print "line", line }`, `{ print $0 ~ "Mem" ? "yes" : "no" }`,
	`BEGIN{ OFS="-" } { $1 = $1; print }`, `{ c = c $1 } END { print c }`, `NR % 2 == 0 { next } { print NR }`,
	`NR == 2 { exit 3 } { print }`, `BEGIN { print 1==1.0, "a" < "b", 2 < 10, "2" < "10" }`, `{ print ($1 < $2) }`,
	`BEGIN { print int("3abc"), int(" -4.9"), "3x" + 2, ".5" + 0, "1e3" + 0, "+5" + 0 }`,
	`BEGIN { s = "hello"; gsub(/l*/, "-", s); print s }`, `BEGIN { n = split("a1b22c", arr, /[0-9]+/); print n, arr[3] }`,
	`{print $1,}`, `{print $1`, `{ print $1 ) }`, `{print $4,$5;}}`, `{ x = = 1 }`, `{print "abc}`, `/[/ {print}`,
	"{print `}", `NR==`, `$1 ~ `, `{print length(}`, `{ if }`, `{print $(-1)}`, `{x=0;print 1/x}`,
}

const awkDiffInput = "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\nMem:  8136412  1234  55  12 3.5 -7\nfoo bar baz\n\n  lead  trail  \nx:y:z\n"

// TestAwkAgainstRealAwk compares the fake mawk and gawk with Debian's.
func TestAwkAgainstRealAwk(t *testing.T) {
	for _, name := range []string{"mawk", "gawk"} {
		bin := testutil.RequireTool(t, name)
		for _, prog := range awkDiffPrograms {
			cmd := exec.Command(bin, prog)
			cmd.Stdin = strings.NewReader(awkDiffInput)
			var real bytes.Buffer
			cmd.Stdout, cmd.Stderr = &real, &real
			status := 0
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				status = ee.ExitCode()
			}
			s := newTestSession(t, "debian", "root", "")
			var out bytes.Buffer
			c := &call{s: s, ctx: context.Background(), name: name, args: []string{prog}, stdin: []byte(awkDiffInput),
				hasIn: true, out: &out, err: &out}
			if st := cmdAwk(c); out.String() != real.String() || st != status {
				t.Errorf("%s %q:\n got %q (%d)\nwant %q (%d)", name, prog, out.String(), st, real.String(), status)
			}
		}
	}
}

// FuzzAwk parses and runs any program on any input with each flavor: no
// panic, a message for every syntax error, and output within its limit.
func FuzzAwk(f *testing.F) {
	for _, p := range awkDiffPrograms {
		f.Add(p, awkDiffInput)
	}
	fsys, err := Open(f.TempDir(), System{Hostname: "fuzz", Distro: "debian"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prog, input string) {
		for _, fl := range []awkFlavor{mawkFlavor, gawkFlavor, busyboxFlavor} {
			p, err := parseAwk(prog, fl.name == "mawk")
			if err != nil {
				var ae *awkError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: error of type %T", fl.name, err)
				}
				if msg := fl.syntaxMessage(ae, prog); !strings.HasSuffix(msg, "\n") {
					t.Fatalf("%s: message %q", fl.name, msg)
				}
				continue
			}
			s := fsys.NewSession(Options{User: "root"})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			var out limitBuf
			c := &call{s: s, ctx: ctx, name: fl.name, stdin: []byte(input), hasIn: true, out: &out, err: &out}
			newAwkInterp(c, fl, p, " ").run(nil)
			cancel()
			if out.Len() > maxAwkString+1<<16 {
				t.Fatalf("%s: %d bytes of output", fl.name, out.Len())
			}
		}
	})
}
