package ftp

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGolden replays the transcripts of testdata/golden, written from the
// real vsftpd's captures (../shared/personas/real-products.md §2) and
// its source: "C:" lines are sent, "S:" lines must come back byte for
// byte, "R:" lines must match a regular expression, "E:" expects the
// server to close. "P: key=value" sets persona keys, "D: distro" the
// decky's distro, before the connection.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			keys, distro := map[string]string{}, "debian"
			for len(lines) > 0 && (strings.HasPrefix(lines[0], "P: ") || strings.HasPrefix(lines[0], "D: ") || strings.HasPrefix(lines[0], "#")) {
				switch l := lines[0]; {
				case strings.HasPrefix(l, "P: "):
					k, v, _ := strings.Cut(l[3:], "=")
					keys[k] = v
				case strings.HasPrefix(l, "D: "):
					distro = l[3:]
				}
				lines = lines[1:]
			}
			srv, _ := newTestServer(t, distro, keys)
			c := dial(t, serve(t, srv))
			for i, l := range lines {
				if len(l) < 2 || l[0] == '#' {
					continue
				}
				tag, text := l[:2], strings.TrimPrefix(l[2:], " ")
				switch tag {
				case "C:":
					c.send(text)
				case "S:":
					if got := c.line(); got != text {
						t.Fatalf("line %d: got %q, want %q", i+1, got, text)
					}
				case "R:":
					if got := c.line(); !regexp.MustCompile("^" + text + "$").MatchString(got) {
						t.Fatalf("line %d: got %q, want /%s/", i+1, got, text)
					}
				case "E:":
					if got := c.line(); got != "EOF" {
						t.Fatalf("line %d: got %q, want the connection closed", i+1, got)
					}
				default:
					t.Fatalf("line %d: bad tag in %q", i+1, l)
				}
			}
		})
	}
}
