package testutil

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestNmap runs nmap and gets what it printed.
func TestNmap(t *testing.T) {
	if out := Nmap(t, "--version"); !strings.Contains(out, "Nmap version") {
		t.Errorf("nmap --version printed %q", out)
	}
}

// missTB records what MatchAll reports instead of failing the test.
type missTB struct {
	testing.TB
	errs []string
}

func (m *missTB) Helper() {}

func (m *missTB) Errorf(format string, args ...any) {
	m.errs = append(m.errs, fmt.Sprintf(format, args...))
}

// TestMatchAll: every regexp the output misses is reported, each with
// the whole output.
func TestMatchAll(t *testing.T) {
	out := "143/tcp open  imap    Dovecot imapd\n"
	m := &missTB{TB: t}
	MatchAll(m, out, regexp.MustCompile(`143/tcp open +imap`), regexp.MustCompile(`993/tcp`), regexp.MustCompile(`Courier`))
	want := []string{"output does not match 993/tcp:\n" + out, "output does not match Courier:\n" + out}
	if fmt.Sprint(m.errs) != fmt.Sprint(want) {
		t.Errorf("reported %q, want %q", m.errs, want)
	}
}
