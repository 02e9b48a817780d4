package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoEscapeHatches keeps the dashboard safe by construction: no Go
// code turns a string into trusted markup, script, style or URL (which
// would bypass html/template's escaping), no template carries inline
// script, style or event handlers (the CSP blocks them), and no script
// builds markup from strings (attacker text must enter the DOM as text).
func TestNoEscapeHatches(t *testing.T) {
	checks := []struct {
		glob string
		bad  *regexp.Regexp
	}{
		{"*.go", regexp.MustCompile(`template\.(HTML|HTMLAttr|JS|JSStr|CSS|URL|Srcset)\(`)},
		{"templates/*.html", regexp.MustCompile(`(?i)<script[^>]*>[^<]|\sstyle=|\son[a-z]+=|<style|javascript:`)},
		{"static/*.js", regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(\s*["']`)},
	}
	for _, c := range checks {
		files, err := fs.Glob(os.DirFS("."), c.glob)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v (%d files)", c.glob, err, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(filepath.FromSlash(f))
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if c.bad.MatchString(line) {
					t.Errorf("%s:%d: %s", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}
