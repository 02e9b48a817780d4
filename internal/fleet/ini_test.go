package fleet

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseINI(t *testing.T) {
	src := "\xef\xbb\xbf# leading comment\r\n" +
		"[One]\r\n" +
		"Key = Value\r\n" +
		"colon: v2 # inline comment\n" +
		"tab\t=\tv3\t; inline semicolon\n" +
		"hash = a#b;c\n" +
		"url = http://x/?a=1;b=2\n" +
		"first = a=b: c\n" +
		"  ; indented comment\n" +
		"multi = line one\n" +
		"  line two # note\n" +
		"\tline three\n" +
		"\n" +
		"empty =\n" +
		"[ two ] # trailing\n" +
		"k=v\n"
	errs := &errList{file: "t.ini"}
	got := parseINI([]byte(src), errs)
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range got {
		fmt.Fprintf(&b, "[%s]@%d\n", s.name, s.line)
		for _, e := range s.entries {
			fmt.Fprintf(&b, "%s(%s)@%d=%q\n", e.key, e.rawKey, e.line, e.value)
		}
	}
	want := `[One]@2
key(Key)@3="Value"
colon(colon)@4="v2"
tab(tab)@5="v3"
hash(hash)@6="a#b;c"
url(url)@7="http://x/?a=1;b=2"
first(first)@8="a=b: c"
multi(multi)@10="line one\nline two\nline three"
empty(empty)@14=""
[two]@15
k(k)@16="v"
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestParseINIErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"key before section", "a = 1\nb = 2\n[x]\n", `t.ini:1: key "a": key outside any section (start the file with a [section])`},
		{"unclosed header", "[x\nk = v\n", `t.ini:1: section header "[x" lacks its closing ]`},
		{"empty header", "[ ]\nk = v\n", `t.ini:1: empty section name`},
		{"duplicate section", "[x]\n[y]\n[X]\nk = v\n", `t.ini:3: [X] duplicate section (first on line 1)`},
		{"no delimiter", "[x]\njust words\n", `t.ini:2: [x] expected "key = value", got "just words"`},
		{"no key", "[x]\n= v\n", `t.ini:2: [x] missing key before "="`},
		{"invalid utf-8", "[x]\nk = \x80\n", `t.ini:2: [x] line is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := &errList{file: "t.ini"}
			parseINI([]byte(tt.src), errs)
			if got := fmt.Sprint(errs.err()); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStripComment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a = b # c", "a = b "},
		{"a = b\t; c", "a = b\t"},
		{"a = b#c", "a = b#c"},
		{"a = b;c", "a = b;c"},
		{"# whole", "# whole"}, // full-line comments are handled before
		{"a = #secret", "a = "},
		{"", ""},
	}
	for _, tt := range tests {
		if got := stripComment(tt.in); got != tt.want {
			t.Errorf("stripComment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
