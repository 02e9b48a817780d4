package fleet

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem in a fleet configuration file, located so that the
// message reads like a compiler's: "fleet.ini:12: [web-01] key "sevices":
// unknown key (did you mean "services"?)".
type Error struct {
	File    string
	Line    int    // 0 when the problem has no single line
	Section string // section name without brackets, "" for none
	Key     string // the key as written, "" for a whole section
	Err     error
}

// Error renders file:line: [section] key "k": cause, leaving out the parts
// that do not apply.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Section != "" {
		fmt.Fprintf(&b, "[%s] ", e.Section)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap gives errors.Is access to the cause (service.ErrUnknown, ...).
func (e *Error) Unwrap() error { return e.Err }

// maxErrors bounds how many problems one load reports, so a garbage file
// yields a readable answer rather than a wall of text.
const maxErrors = 20

// errList collects located errors in the order found.
type errList struct {
	file string
	errs []error
	more int
}

func (l *errList) add(line int, section, key string, err error) {
	if len(l.errs) == maxErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Section: section, Key: key, Err: err})
}

func (l *errList) addf(line int, section, key, format string, args ...any) {
	if len(l.errs) == maxErrors {
		l.more++ // not worth formatting
		return
	}
	l.add(line, section, key, fmt.Errorf(format, args...))
}

func (l *errList) err() error {
	if l.more > 0 {
		return errors.Join(append(l.errs, fmt.Errorf("%s: %d more errors not shown", l.file, l.more))...)
	}
	return errors.Join(l.errs...)
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to word,
// or "" when none is close enough to be a likely typo.
func suggest(word string, candidates []string) string {
	best, bestD := "", 3
	w := strings.ToLower(word)
	for _, c := range candidates {
		if d := editDistance(w, strings.ToLower(c)); d < bestD && d < len(w) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance, on bytes: keys and slugs are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
