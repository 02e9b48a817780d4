package ldap

import (
	"fmt"
	"strings"
)

// Filter choices (RFC 4511 §4.5.1), as identifier octets.
const (
	filterAnd        = classContext | constructed
	filterOr         = classContext | constructed | 1
	filterNot        = classContext | constructed | 2
	filterEquality   = classContext | constructed | 3
	filterSubstrings = classContext | constructed | 4
	filterGreater    = classContext | constructed | 5
	filterLess       = classContext | constructed | 6
	filterPresent    = classContext | 7
	filterApprox     = classContext | constructed | 8
	filterExtensible = classContext | constructed | 9
)

// filter is a decoded search filter.
type filter struct {
	id    byte
	subs  []filter // and, or, not
	attr  string
	value string
	// substrings
	initial, final string
	any            []string
	// extensibleMatch
	rule    string
	dnAttrs bool
}

// parseFilter decodes a Filter, at most maxDepth levels deep.
func parseFilter(e element, depth int) (filter, error) {
	if depth > maxDepth {
		return filter{}, fmt.Errorf("%w: filter nested too deep", errBER)
	}
	f := filter{id: e.id}
	switch e.id {
	case filterAnd, filterOr:
		subs, err := children(e)
		if err != nil {
			return filter{}, err
		}
		for _, s := range subs {
			sf, err := parseFilter(s, depth+1)
			if err != nil {
				return filter{}, err
			}
			f.subs = append(f.subs, sf)
		}
	case filterNot:
		inner, rest, err := parseElement(e.body)
		if err != nil || len(rest) != 0 {
			return filter{}, fmt.Errorf("%w: not filter", errBER)
		}
		sf, err := parseFilter(inner, depth+1)
		if err != nil {
			return filter{}, err
		}
		f.subs = []filter{sf}
	case filterEquality, filterGreater, filterLess, filterApprox:
		fs, err := children(e)
		if err != nil || len(fs) != 2 || fs[0].id != tagOctetString || fs[1].id != tagOctetString {
			return filter{}, fmt.Errorf("%w: AttributeValueAssertion", errBER)
		}
		f.attr, f.value = string(fs[0].body), string(fs[1].body)
	case filterPresent:
		f.attr = string(e.body)
	case filterSubstrings:
		fs, err := children(e)
		if err != nil || len(fs) != 2 || fs[0].id != tagOctetString || fs[1].id != tagSequence {
			return filter{}, fmt.Errorf("%w: SubstringFilter", errBER)
		}
		f.attr = string(fs[0].body)
		parts, err := children(fs[1])
		if err != nil || len(parts) == 0 {
			return filter{}, fmt.Errorf("%w: substrings", errBER)
		}
		for i, p := range parts {
			switch {
			case p.id == classContext && i == 0:
				f.initial = string(p.body)
			case p.id == classContext|1:
				f.any = append(f.any, string(p.body))
			case p.id == classContext|2 && i == len(parts)-1:
				f.final = string(p.body)
			default:
				return filter{}, fmt.Errorf("%w: substring 0x%02x", errBER, p.id)
			}
		}
	case filterExtensible:
		fs, err := children(e)
		if err != nil {
			return filter{}, err
		}
		seen := false
		for _, p := range fs {
			switch p.id {
			case classContext | 1:
				f.rule = string(p.body)
			case classContext | 2:
				f.attr = string(p.body)
			case classContext | 3:
				f.value, seen = string(p.body), true
			case classContext | 4:
				f.dnAttrs = len(p.body) == 1 && p.body[0] != 0
			default:
				return filter{}, fmt.Errorf("%w: MatchingRuleAssertion", errBER)
			}
		}
		if !seen {
			return filter{}, fmt.Errorf("%w: MatchingRuleAssertion without value", errBER)
		}
	default:
		return filter{}, fmt.Errorf("%w: filter choice 0x%02x", errBER, e.id)
	}
	return f, nil
}

// String renders the filter in RFC 4515 form, as ldapsearch takes it.
func (f filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f filter) write(b *strings.Builder) {
	b.WriteByte('(')
	switch f.id {
	case filterAnd, filterOr, filterNot:
		b.WriteByte(map[byte]byte{filterAnd: '&', filterOr: '|', filterNot: '!'}[f.id])
		for _, s := range f.subs {
			s.write(b)
		}
	case filterEquality, filterGreater, filterLess, filterApprox:
		b.WriteString(escapeFilter(f.attr))
		b.WriteString(map[byte]string{filterEquality: "=", filterGreater: ">=", filterLess: "<=", filterApprox: "~="}[f.id])
		b.WriteString(escapeFilter(f.value))
	case filterPresent:
		b.WriteString(escapeFilter(f.attr))
		b.WriteString("=*")
	case filterSubstrings:
		b.WriteString(escapeFilter(f.attr))
		b.WriteByte('=')
		b.WriteString(escapeFilter(f.initial))
		b.WriteByte('*')
		for _, a := range f.any {
			b.WriteString(escapeFilter(a))
			b.WriteByte('*')
		}
		b.WriteString(escapeFilter(f.final))
	case filterExtensible:
		b.WriteString(escapeFilter(f.attr))
		if f.dnAttrs {
			b.WriteString(":dn")
		}
		if f.rule != "" {
			b.WriteByte(':')
			b.WriteString(escapeFilter(f.rule))
		}
		b.WriteString(":=")
		b.WriteString(escapeFilter(f.value))
	}
	b.WriteByte(')')
}

// escapeFilter escapes a value as RFC 4515 §3 requires, and every byte
// outside printable ASCII, so binary assertions (objectSid) stay readable.
func escapeFilter(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '*' || c == '(' || c == ')' || c == '\\' {
			fmt.Fprintf(&b, "\\%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// matches evaluates the filter against an entry. Every comparison is
// case-insensitive, as the directory's string syntaxes mostly are; an
// unknown attribute is simply absent (RFC 4511's Undefined treated as
// FALSE, also under not, which is close enough for a decoy).
func (f filter) matches(e *entry) bool {
	switch f.id {
	case filterAnd:
		for _, s := range f.subs {
			if !s.matches(e) {
				return false
			}
		}
		return true
	case filterOr:
		for _, s := range f.subs {
			if s.matches(e) {
				return true
			}
		}
		return false
	case filterNot:
		return !f.subs[0].matches(e)
	case filterPresent:
		return e.get(f.attr) != nil
	}
	vals := e.get(f.attr)
	if f.id == filterEquality && strings.EqualFold(f.attr, "objectCategory") && !strings.Contains(f.value, "=") {
		// AD reads (objectCategory=person) as the class's schema DN.
		for _, v := range vals {
			if strings.HasPrefix(strings.ToLower(v), "cn="+strings.ToLower(f.value)+",") {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if f.matchValue(strings.ToLower(v)) {
			return true
		}
	}
	return false
}

func (f filter) matchValue(v string) bool {
	want := strings.ToLower(f.value)
	switch f.id {
	case filterEquality, filterApprox, filterExtensible:
		return v == want
	case filterGreater:
		return compareValues(v, want) >= 0
	case filterLess:
		return compareValues(v, want) <= 0
	case filterSubstrings:
		init, fin := strings.ToLower(f.initial), strings.ToLower(f.final)
		if !strings.HasPrefix(v, init) {
			return false
		}
		v = v[len(init):]
		for _, a := range f.any {
			la := strings.ToLower(a)
			i := strings.Index(v, la)
			if i < 0 {
				return false
			}
			v = v[i+len(la):]
		}
		return strings.HasSuffix(v, fin)
	}
	return false
}

// compareValues orders integers numerically and everything else as text,
// so (uSNChanged>=5000) and (whenCreated>=2024...) both work.
func compareValues(a, b string) int {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
