package fleet

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// iniEntry is one key and its value; key is lower-cased, rawKey as written.
type iniEntry struct {
	key, rawKey, value string
	line               int
}

// iniSection is one [name] and its entries in file order.
type iniSection struct {
	name    string
	line    int
	entries []iniEntry
}

// parseINI splits data into sections with Python configparser's syntax
// (the original's): "[section]", "key = value" or "key: value" (split at the
// first = or :), keys case-insensitive, full-line comments starting with #
// or ;, and indented lines continuing the previous value. Unlike configparser
// as the original used it, a # or ; preceded by whitespace starts a comment
// anywhere in a line, and values are literal (no %(name)s interpolation).
// Structural errors are collected in errs; what parsed is still returned.
func parseINI(data []byte, errs *errList) []*iniSection {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var (
		sections []*iniSection
		cur      *iniSection
		last     *iniEntry // the entry an indented line continues, nil after a blank line
		cont     []string  // last's value lines, joined once its value ends
		seen     = map[string]int{}
		broken   bool // cur is nil because its header was reported
		outside  bool // a key before the first section was reported
	)
	for i, raw := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		line := strings.TrimRight(raw, "\r")
		if !utf8.ValidString(line) {
			// The deployment state is JSON, which cannot carry such bytes.
			errs.addf(lineNo, sectionName(cur), "", "line is not valid UTF-8")
			endValue(last, cont)
			last, cont = nil, nil
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			endValue(last, cont)
			last, cont = nil, nil
			continue
		case trimmed[0] == '#' || trimmed[0] == ';':
			continue
		}
		content := strings.TrimSpace(stripComment(line))
		if content == "" {
			continue
		}
		if last != nil && (line[0] == ' ' || line[0] == '\t') {
			cont = append(cont, content)
			continue
		}
		endValue(last, cont)
		last, cont = nil, nil
		if content[0] == '[' {
			if !strings.HasSuffix(content, "]") {
				errs.addf(lineNo, "", "", "section header %q lacks its closing ]", content)
				cur, broken = nil, true
				continue
			}
			name := strings.TrimSpace(content[1 : len(content)-1])
			if name == "" {
				errs.addf(lineNo, "", "", "empty section name")
				cur, broken = nil, true
				continue
			}
			id := sectionID(name)
			if first, dup := seen[id]; dup {
				errs.addf(lineNo, name, "", "duplicate section (first on line %d)", first)
				cur, broken = nil, true // its keys are not checked against the first one's
				continue
			}
			seen[id] = lineNo
			cur, broken = &iniSection{name: name, line: lineNo}, false
			sections = append(sections, cur)
			continue
		}
		at := strings.IndexAny(content, "=:")
		if at < 0 {
			errs.addf(lineNo, sectionName(cur), "", "expected \"key = value\", got %q", content)
			continue
		}
		rawKey := strings.TrimSpace(content[:at])
		if rawKey == "" {
			errs.addf(lineNo, sectionName(cur), "", "missing key before %q", content[at:at+1])
			continue
		}
		if cur == nil {
			if !broken && !outside {
				errs.addf(lineNo, "", rawKey, "key outside any section (start the file with a [section])")
				outside = true
			}
			continue
		}
		cur.entries = append(cur.entries, iniEntry{
			key: strings.ToLower(rawKey), rawKey: rawKey,
			value: strings.TrimSpace(content[at+1:]), line: lineNo,
		})
		last = &cur.entries[len(cur.entries)-1]
	}
	endValue(last, cont)
	return sections
}

// endValue appends continuation lines to e's value in one go: appending
// line by line would make a long value cost quadratic time. e points into
// its section's entries, so this runs before anything is appended there.
func endValue(e *iniEntry, cont []string) {
	if e != nil && len(cont) > 0 {
		e.value += "\n" + strings.Join(cont, "\n")
	}
}

// stripComment cuts line at the first # or ; that follows a space or tab.
func stripComment(line string) string {
	for i := 1; i < len(line); i++ {
		if (line[i] == '#' || line[i] == ';') && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// sectionID is what makes two section names the same section: decky names
// become hostnames-like identities, so case does not distinguish them.
func sectionID(name string) string { return strings.ToLower(name) }

func sectionName(s *iniSection) string {
	if s == nil {
		return ""
	}
	return s.name
}
