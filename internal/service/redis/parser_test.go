package redis

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"
)

// parseAll feeds data in pieces of step bytes and collects the requests,
// stopping at the first error.
func parseAll(data []byte, step int, auth bool) ([][][]byte, error) {
	var p parser
	var out [][][]byte
	for len(data) > 0 {
		n := min(step, len(data))
		p.feed(data[:n])
		data = data[n:]
		for {
			args, err := p.next(auth)
			if err != nil {
				return out, err
			}
			if args == nil {
				break
			}
			out = append(out, args)
		}
	}
	return out, nil
}

func TestParser(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // each request's args joined by "|"
		err      string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET|k"}, ""},
		{"inline", "SET k \"a b\" 'c'\r\n", []string{"SET|k|a b|c"}, ""},
		{"inline lf only", "PING\n", []string{"PING"}, ""},
		{"inline escapes", `ECHO "\x41\t\"\\"` + "\r\n", []string{"ECHO|A\t\"\\"}, ""},
		{"empty quoted arg", `SET k ""` + "\r\n", []string{"SET|k|"}, ""},
		{"nul ends inline", "PING\x00junk\nPING\n", nil, ""},
		{"binary bulk", "*1\r\n$3\r\na\x00b\r\n", []string{"a\x00b"}, ""},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{"ECHO|"}, ""},
		{"leading zero count", "*01\r\n", nil, "Protocol error: invalid multibulk length"},
		{"plus sign count", "*1\r\n$+1\r\n", nil, "Protocol error: invalid bulk length"},
		{"cr in expected", "*1\r\n\r\r\n", nil, "Protocol error: expected '$', got ' '"},
		{"lf in expected", "*1\r\n\n\r\n", nil, "Protocol error: expected '$', got ' '"},
		{"nul in expected", "*1\r\n\x00\r\n", nil, ""},
		{"unauthenticated count", "*11\r\n", nil, "Protocol error: unauthenticated multibulk length"},
		{"too big mbulk count", "*" + string(bytes.Repeat([]byte("1"), 70000)), nil, "Protocol error: too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + string(bytes.Repeat([]byte("1"), 70000)), nil, "Protocol error: too big bulk count string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range []int{1, 7, 1 << 20} {
				got, err := parseAll([]byte(tc.in), step, tc.name == "unauthenticated count")
				var joined []string
				for _, r := range got {
					joined = append(joined, string(bytes.Join(r, []byte("|"))))
				}
				if tc.name == "nul ends inline" || tc.name == "nul in expected" {
					// A NUL hides the line end after it from strchr: the request waits.
					if len(got) != 0 || err != nil {
						t.Errorf("step %d: got %q, %v", step, joined, err)
					}
					continue
				}
				errText := ""
				if err != nil {
					errText = err.Error()
				}
				if errText != tc.err || len(joined) != len(tc.want) {
					t.Fatalf("step %d: got %q, %q; want %q, %q", step, joined, errText, tc.want, tc.err)
				}
				for i := range joined {
					if joined[i] != tc.want[i] {
						t.Errorf("step %d: request %d = %q, want %q", step, i, joined[i], tc.want[i])
					}
				}
			}
		})
	}
}

func TestParserMemoryCaps(t *testing.T) {
	if _, err := parseAll([]byte("*1\r\n$2000000\r\n"), 64, false); !errors.Is(err, errQueryLimit) {
		t.Errorf("2 MB bulk: %v", err)
	}
	var big bytes.Buffer
	big.WriteString("*5000\r\n")
	for range 5000 {
		big.WriteString("$1000\r\n" + string(bytes.Repeat([]byte("x"), 1000)) + "\r\n")
	}
	if _, err := parseAll(big.Bytes(), 1<<14, false); !errors.Is(err, errQueryLimit) {
		t.Errorf("5 MB request: %v", err)
	}
}

func TestString2ll(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "1": true, "-1": true, "9223372036854775807": true,
		"-9223372036854775808": true, "9223372036854775808": false, "-0": false, "01": false, "+1": false,
		"": false, " 1": false, "1 ": false, "-": false, "1a": false} {
		if _, ok := string2ll([]byte(s)); ok != want {
			t.Errorf("string2ll(%q) ok = %v", s, ok)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		nocase bool
		want   bool
	}{
		{"*", "anything", false, true}, {"h?llo", "hello", false, true}, {"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true}, {"h[ae]llo", "hillo", false, false}, {"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false}, {"h[a-b]llo", "hbllo", false, true}, {"h[b-a]llo", "hallo", false, true},
		{`h\*llo`, "h*llo", false, true}, {`h\*llo`, "hello", false, false}, {"MAX*", "maxmemory", true, true},
		{"MAX*", "maxmemory", false, false}, {"a*", "", false, false}, {"*", "", false, false}, {"[abc", "a", false, true},
		{"user:*", "user:admin", false, true}, {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pat, tc.s, tc.nocase); got != tc.want {
			t.Errorf("globMatch(%q, %q, %v) = %v", tc.pat, tc.s, tc.nocase, got)
		}
	}
}

// TestCommandTableRESP2 checks that the RESP3 capture, encoded as RESP2,
// gives byte for byte what the real server sends a RESP2 client for
// COMMAND and COMMAND DOCS (the golden file, captured the same day).
func TestCommandTableRESP2(t *testing.T) {
	f, err := os.Open("testdata/commands-resp2.golden.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ct := commands()
	got := ct.all.appendTo(nil, 2)
	got = cmdCommand(nil, nil, [][]byte{[]byte("COMMAND"), []byte("DOCS")}).appendTo(got, 2)
	if !bytes.Equal(got, want) {
		t.Errorf("RESP2 encoding differs from the capture (%d vs %d bytes)", len(got), len(want))
	}
	if len(ct.names) != 240 || ct.specs["config"].sub["set"].arity != -4 {
		t.Errorf("table: %d commands", len(ct.names))
	}
}
