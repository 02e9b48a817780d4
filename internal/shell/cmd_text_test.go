package shell

import (
	"context"
	"testing"
)

func TestTextCommands(t *testing.T) {
	runShellCases(t, []shellCase{
		{"debian", "root", "grep -i ROOT /etc/passwd | head -1",
			"root:x:0:0:root:/root:/bin/bash\n", 0},
		{"debian", "root", "grep -v nologin /etc/passwd",
			"root:x:0:0:root:/root:/bin/bash\nsync:x:4:65534:sync:/bin:/bin/sync\nadmin:x:1000:1000:admin:/home/admin:/bin/bash\n", 0},
		{"debian", "root", "grep -E '^(root|admin):' /etc/passwd | cut -d: -f1",
			"root\nadmin\n", 0},
		{"debian", "root", "grep -o 'x:[0-9]*' /etc/passwd | head -2",
			"x:0\nx:1\n", 0},
		{"debian", "root", "grep -c name /proc/cpuinfo",
			"4\n", 0},
		{"debian", "root", "grep -ic MODEL /proc/cpuinfo",
			"8\n", 0},
		{"debian", "root", "head -n 1 /proc/cpuinfo; tail -c 5 /etc/hostname; wc -l < /etc/passwd",
			"processor\t: 0\nB-17\n22\n", 0},
		{"debian", "root", "cut -d: -f1,7 /etc/passwd | head -3",
			"root:/bin/bash\ndaemon:/usr/sbin/nologin\nbin:/usr/sbin/nologin\n", 0},
		{"debian", "root", "cut -d: -f1 /etc/passwd | tail -n 2",
			"sshd\nadmin\n", 0},
		{"debian", "root", "echo 'a:b:c:d' | cut -d: -f2-",
			"b:c:d\n", 0},
		{"debian", "root", "echo 'a:b:c:d' | cut -d: -f-2,4",
			"a:b:d\n", 0},
		{"debian", "root", "echo 'abcdef' | cut -c 2-4",
			"bcd\n", 0},
		{"debian", "root", "echo 'abcdef' | cut -c -2,5-",
			"abef\n", 0},
		{"debian", "root", "echo 'abcdef' | cut -b 1 --complement",
			"bcdef\n", 0},
		{"debian", "root", "printf 'a\\tb\\nnodelim\\n' | cut -f2",
			"b\nnodelim\n", 0},
		{"debian", "root", "printf 'a\\tb\\nnodelim\\n' | cut -s -f2",
			"b\n", 0},
		{"debian", "root", "echo 'a:b' | cut -d: -f1,2 --output-delimiter=' '",
			"a b\n", 0},
		{"debian", "root", "cut",
			"cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -d ab -f1",
			"cut: the delimiter must be a single character\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -f 0",
			"cut: fields are numbered from 1\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -f a",
			"cut: invalid field value ‘a’\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -d: -c1",
			"cut: an input delimiter may be specified only when operating on fields\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -f1 -c1",
			"cut: only one list may be specified\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -f 3-1",
			"cut: invalid decreasing range\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "cut -f1 /nope",
			"cut: /nope: No such file or directory\n", 1},
		{"ubuntu22", "root", "cut -f x",
			"cut: invalid field value ‘x’\nTry 'cut --help' for more information.\n", 1},
		{"debian", "root", "printf 'b 10\\na 2\\nB 1\\nb 10\\n' | sort",
			"a 2\nB 1\nb 10\nb 10\n", 0},
		{"ubuntu22", "root", "printf 'b 10\\na 2\\nB 1\\nb 10\\n' | sort",
			"B 1\na 2\nb 10\nb 10\n", 0},
		{"debian", "root", "printf 'b 10\\na 2\\nB 1\\nb 10\\n' | sort -n -k2",
			"B 1\na 2\nb 10\nb 10\n", 0},
		{"debian", "root", "printf 'b 10\\na 2\\nB 1\\nb 10\\n' | sort -rn -k2 | uniq",
			"b 10\na 2\nB 1\n", 0},
		{"debian", "root", "printf 'b 10\\na 2\\nB 1\\nb 10\\n' | sort -u -t' ' -k2,2n",
			"B 1\na 2\nb 10\n", 0},
		{"debian", "root", "printf '1K\\n2M\\n512\\n' | sort -h",
			"512\n1K\n2M\n", 0},
		{"debian", "root", "sort /nope",
			"sort: cannot read: /nope: No such file or directory\n", 2},
		{"debian", "root", "sort -x",
			"sort: invalid option -- 'x'\nTry 'sort --help' for more information.\n", 2},
		{"debian", "root", "printf 'a\\na\\nb\\nA\\n' | uniq -c",
			"      2 a\n      1 b\n      1 A\n", 0},
		{"debian", "root", "printf 'a\\na\\nb\\nA\\n' | uniq -d",
			"a\n", 0},
		{"debian", "root", "printf 'a\\na\\nb\\nA\\n' | uniq -u",
			"b\nA\n", 0},
		{"debian", "root", "printf 'a\\na\\nb\\nA\\n' | uniq -ci",
			"      2 a\n      1 b\n      1 A\n", 0},
		{"debian", "root", "uniq /nope",
			"uniq: /nope: No such file or directory\n", 1},
		{"debian", "root", "echo hello | tr a-z A-Z",
			"HELLO\n", 0},
		{"debian", "root", "echo hello | tr -d l",
			"heo\n", 0},
		{"debian", "root", "echo 'aabbcc  dd' | tr -s 'a-z '",
			"abc d\n", 0},
		{"debian", "root", "echo 'a1b2c3' | tr -cd '[:digit:]'",
			"123", 0},
		{"debian", "root", "echo 'a b' | tr ' ' '\\n'",
			"a\nb\n", 0},
		{"debian", "root", "echo 'Hello' | tr '[:upper:][:lower:]' '[:lower:][:upper:]'",
			"hELLO\n", 0},
		{"debian", "root", "tr",
			"tr: missing operand\nTry 'tr --help' for more information.\n", 1},
		{"debian", "root", "tr a",
			"tr: missing operand after ‘a’\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n", 1},
		{"debian", "root", "echo aWQ= | base64 -d",
			"id", 0},
		{"debian", "root", "echo aWQ= | base64 -d | sh",
			"uid=0(root) gid=0(root) groups=0(root)\n", 0},
		{"debian", "root", "echo hi | base64",
			"aGkK\n", 0},
		{"debian", "root", "echo 'aGVsbG8K!' | base64 -d",
			"hello\nbase64: invalid input\n", 1},
		{"debian", "root", "base64 /nope",
			"base64: /nope: No such file or directory\n", 1},
		{"debian", "root", "printf 'x%.0s' 1 2 3 | base64 -w 0",
			"eHh4\n", 0},
		{"debian", "root", "head -c 60 /etc/passwd | base64",
			"cm9vdDp4OjA6MDpyb290Oi9yb290Oi9iaW4vYmFzaApkYWVtb246eDoxOjE6ZGFlbW9uOi91c3Iv\nc2Jp\n", 0},
		{"debian", "root", "printf '%s-%d\\n' a 1 b 2",
			"a-1\nb-2\n", 0},
		{"debian", "root", "printf '%5s|%-5s|%05d|%x|%o|%c|%%\\n' ab cd 42 255 8 xyz",
			"   ab|cd   |00042|ff|10|x|%\n", 0},
		{"debian", "root", "printf '%b' 'a\\tb\\n'",
			"a\tb\n", 0},
		{"debian", "root", "printf '\\x7fELF\\001' | wc -c",
			"5\n", 0},
		{"debian", "root", "printf '%d\\n' abc",
			"bash: line 1: printf: abc: invalid number\n0\n", 1},
		{"debian", "root", "printf",
			"bash: line 1: printf: usage: printf [-v var] format [arguments]\n", 2},
		{"debian", "root", "/usr/bin/printf '%d\\n' abc",
			"/usr/bin/printf: ‘abc’: expected a numeric value\n0\n", 1},
		{"debian", "root", "printf -v X '%s!' hi; echo $X",
			"hi!\n", 0},
		{"debian", "root", "printf '%.2f %e\\n' 3.14159 1234.5",
			"3.14 1.234500e+03\n", 0},
		{"debian", "root", "printf \"%d %d\\n\" 0x10 \"'A\"",
			"16 65\n", 0},
		// bash's printf prints a \c in its format as it is (coreutils'
		// stops there); %b's \c stops.
		{"debian", "root", "printf 'a\\cb'",
			"a\\cb", 0},
		{"debian", "root", "printf '%b|' 'a\\cb'",
			"a", 0},
	})
}

// FuzzCut runs cut with any list on any input, by fields and by bytes.
func FuzzCut(f *testing.F) {
	for _, l := range []string{"1", "1,7", "2-", "-3", "1-3,5", "0", "a", "3-1", "", "-", "1-,-2", "99999999999999999999"} {
		f.Add(l, "root:x:0:0:root:/root:/bin/bash\nmodel name\t: Intel(R) Xeon(R)\n")
	}
	fsys, err := Open(f.TempDir(), System{Hostname: "fuzz", Distro: "debian"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, list, input string) {
		s := fsys.NewSession(Options{User: "root"})
		for _, args := range [][]string{{"-d", ":", "-f", list}, {"-c", list}, {"-s", "-f", list, "--complement"}} {
			var out, errs limitBuf
			c := &call{s: s, ctx: context.Background(), name: "cut", args: args, stdin: []byte(input), hasIn: true, out: &out, err: &errs}
			if st := cmdCut(c); st != 0 && st != 1 {
				t.Fatalf("cut %q: status %d", args, st)
			}
			if out.Len() > len(input)*2+200 {
				t.Fatalf("cut %q: %d bytes from %d", args, out.Len(), len(input))
			}
		}
	})
}
