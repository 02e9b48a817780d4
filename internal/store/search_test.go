package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSearch(t *testing.T) {
	tests := []struct {
		in   string
		want []searchTerm
	}{
		{"", nil},
		{"   \t ", nil},
		{"root", []searchTerm{{"", "root"}}},
		{"decky:decky-01", []searchTerm{{"decky", "decky-01"}}},
		{"  a   b  ", []searchTerm{{"", "a"}, {"", "b"}}},
		{`command:"ls -la /"`, []searchTerm{{"command", "ls -la /"}}},
		{`"hello world"`, []searchTerm{{"", "hello world"}}},
		{`"http://x/y"`, []searchTerm{{"", "http://x/y"}}},
		{`a"b c"d`, []searchTerm{{"", "ab cd"}}},
		{`k:"a \"q\" \\ \n"`, []searchTerm{{"k", `a "q" \ \n`}}},
		{`k:a:b`, []searchTerm{{"k", "a:b"}}},
		{`:x`, []searchTerm{{"", ":x"}}},
		{`bad$key:x`, []searchTerm{{"", "bad$key:x"}}},
		{`k:`, []searchTerm{{"k", ""}}},
		{`""`, nil},
		{`"" x`, []searchTerm{{"", "x"}}},
		{`fe80::1`, []searchTerm{{"fe80", ":1"}}},
		{`attacker:fe80::1`, []searchTerm{{"attacker", "fe80::1"}}},
		{"héllo wörld", []searchTerm{{"", "héllo"}, {"", "wörld"}}},
	}
	for _, tc := range tests {
		got, err := parseSearch(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`"open`, `k:"open`, `a "b`, strings.Repeat("a ", 40), strings.Repeat("x", 1025)} {
		if _, err := parseSearch(bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%.30q: err = %v, want ErrBadQuery", bad, err)
		}
	}
}

func TestLikeEscape(t *testing.T) {
	for in, want := range map[string]string{"a": "%a%", "100%": `%100\%%`, "a_b": `%a\_b%`, `c:\x`: `%c:\\x%`} {
		if got := likeEscape(in); got != want {
			t.Errorf("likeEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSearch checks that any search text either is refused as ErrBadQuery
// or compiles, on every dialect, only to the compiler's constant fragments
// with every value bound as an argument; SQLite runs the query.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"", "root", `decky:decky-01 event:auth`, `command:"rm -rf /"`, `"a b" c:d`,
		`x'); DROP TABLE logs;--`, `k:"\"`, `%_\`, `a.b-c:"]"`, `"unterminated`} {
		f.Add(s)
	}
	store := openTest(f)
	f.Fuzz(func(t *testing.T, search string) {
		terms, err := parseSearch(search)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error %v is not ErrBadQuery", err)
			}
			return
		}
		for _, d := range []*dialect{sqliteDialect, mysqlDialect, postgresDialect} {
			conds, args := compileSearch(d, terms)
			placeholders := 0
			for _, c := range conds {
				if !isFragment(d, c) {
					t.Fatalf("%s: condition %q is not one of the compiler's fragments", d.name, c)
				}
				placeholders += strings.Count(c, "?")
			}
			if placeholders != len(args) {
				t.Fatalf("%s: %d placeholders, %d args", d.name, placeholders, len(args))
			}
		}
		if _, err := store.Logs(context.Background(), LogQuery{Search: search}); err != nil {
			t.Fatalf("query %q: %v", search, err)
		}
	})
}

func isFragment(d *dialect, c string) bool {
	bare := "(" + d.like("raw_line") + " OR " + d.like("decky") + " OR " + d.like("service") + " OR " + d.like("attacker_ip") + ")"
	if c == bare || c == d.jsonText+" = ?" {
		return true
	}
	for _, col := range searchColumns {
		if c == col+" = ?" {
			return true
		}
	}
	return false
}
