package event

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeFormat is the RFC 5424 TIMESTAMP we write: UTC with microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Header field limits from RFC 5424 section 6.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("not an RFC 5424 line")

// Format renders e as one RFC 5424 line (no trailing newline): facility
// local0, PROCID nil, MSGID the event type, the fields in one relay@55555
// element with keys sorted, then the message. Values are written verbatim
// except for the three characters RFC 5424 escapes; invalid UTF-8 becomes
// U+FFFD so the line is always valid UTF-8.
func Format(e Event) string {
	var b strings.Builder
	b.Grow(128 + 32*len(e.Fields) + len(e.Msg))
	sev := e.Severity
	if sev < Emergency || sev > Debug {
		sev = Info
	}
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(Facility*8 + int(sev)))
	b.WriteString(">1 ")
	if e.Time.IsZero() || !representable(e.Time) {
		b.WriteByte('-')
	} else {
		b.WriteString(e.Time.UTC().Format(TimeFormat))
	}
	b.WriteByte(' ')
	b.WriteString(headerToken(e.Decky, maxHostname))
	b.WriteByte(' ')
	b.WriteString(headerToken(e.Service, maxAppName))
	b.WriteString(" - ")
	b.WriteString(headerToken(e.Type, maxMsgID))
	b.WriteByte(' ')
	if len(e.Fields) == 0 {
		b.WriteByte('-')
	} else {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('[')
		b.WriteString(SDID)
		for _, k := range keys {
			b.WriteByte(' ')
			b.WriteString(sdName(k))
			b.WriteString(`="`)
			writeSDValue(&b, e.Fields[k])
			b.WriteByte('"')
		}
		b.WriteByte(']')
	}
	if e.Msg != "" {
		b.WriteByte(' ')
		b.WriteString(strings.ToValidUTF8(e.Msg, "\uFFFD"))
	}
	return b.String()
}

// headerToken makes s a valid header field: printable US-ASCII without
// spaces, at most max bytes, "-" when empty.
func headerToken(s string, max int) string {
	if s == "" {
		return "-"
	}
	ok := len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] > 32 && s[i] < 127
	}
	if ok {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < max; i++ {
		c := s[i]
		if c <= 32 || c >= 127 {
			c = '_'
		}
		out = append(out, c)
	}
	return string(out)
}

// sdName makes k a valid SD-NAME.
func sdName(k string) string {
	if k == "" {
		return "_"
	}
	out := []byte(k)
	if len(out) > maxSDName {
		out = out[:maxSDName]
	}
	for i, c := range out {
		if c <= 32 || c >= 127 || c == '=' || c == ']' || c == '"' {
			out[i] = '_'
		}
	}
	return string(out)
}

func writeSDValue(b *strings.Builder, v string) {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"', ']':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// Line is a parsed RFC 5424 line: the event plus the header fields an Event
// does not keep.
type Line struct {
	Event
	ProcID string
}

// Parse reads one RFC 5424 line: ours, the original system's (relay@55555
// or decnet@55555 element, any PROCID, "+00:00" offsets) and native syslog
// lines such as sshd's (real PROCID, MSGID "-", no structured data). Fields
// come from the relay element only; other SD elements stay in the raw line.
// line is one whole line without its terminator.
func Parse(line string) (Line, error) {
	var l Line
	p := parser{s: line}
	if !p.consume('<') {
		return l, p.errorf("missing <PRI>")
	}
	pri, ok := p.digits(3)
	if !ok || pri > 191 || !p.consume('>') {
		return l, p.errorf("bad PRI")
	}
	l.Severity = Severity(pri % 8)
	if !p.consume('1') || !p.consume(' ') {
		return l, p.errorf("version is not 1")
	}
	ts, ok := p.token()
	if !ok {
		return l, p.errorf("missing TIMESTAMP")
	}
	if ts != "-" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !representable(t) {
			return l, p.errorf("bad TIMESTAMP %q", ts)
		}
		l.Time = t
	}
	var header [4]string
	names := [4]string{"HOSTNAME", "APP-NAME", "PROCID", "MSGID"}
	for i := range header {
		tok, ok := p.token()
		if !ok {
			return l, p.errorf("missing %s", names[i])
		}
		header[i] = nilToEmpty(tok)
	}
	l.Decky, l.Service, l.ProcID, l.Type = header[0], header[1], header[2], header[3]
	if err := p.structuredData(&l.Event); err != nil {
		return l, err
	}
	if p.pos < len(p.s) {
		if !p.consume(' ') {
			return l, p.errorf("no space before MSG")
		}
		l.Msg = strings.TrimPrefix(p.s[p.pos:], "\uFEFF")
	}
	return l, nil
}

// representable reports whether t has a four-digit UTC year, as an RFC 5424
// TIMESTAMP needs.
func representable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

func nilToEmpty(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, fmt.Sprintf(format, a...), p.pos)
}

func (p *parser) consume(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) digits(max int) (int, bool) {
	start := p.pos
	for p.pos < len(p.s) && p.pos-start < max && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return 0, false
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	return n, err == nil
}

// token reads a header field and the single space after it.
func (p *parser) token() (string, bool) {
	end := strings.IndexByte(p.s[p.pos:], ' ')
	if end <= 0 {
		return "", false
	}
	tok := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	return tok, true
}

func (p *parser) structuredData(e *Event) error {
	if p.consume('-') {
		return nil
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '[' {
		return p.errorf("missing STRUCTURED-DATA")
	}
	for p.consume('[') {
		id, err := p.sdName(true)
		if err != nil {
			return err
		}
		ours := id == SDID || id == legacySDID
		for p.consume(' ') {
			name, err := p.sdName(false)
			if err != nil {
				return err
			}
			if !p.consume('=') || !p.consume('"') {
				return p.errorf("param %q has no quoted value", name)
			}
			val, err := p.sdValue()
			if err != nil {
				return err
			}
			if !ours {
				continue
			}
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			if _, dup := e.Fields[name]; !dup {
				e.Fields[name] = val
			}
		}
		if !p.consume(']') {
			return p.errorf("unterminated SD element %q", id)
		}
	}
	return nil
}

// sdName reads an SD-ID (allowing '@') or a PARAM-NAME.
func (p *parser) sdName(id bool) (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c <= 32 || c >= 127 || c == '=' || c == ']' || c == '"' {
			break
		}
		p.pos++
	}
	if p.pos == start {
		if id {
			return "", p.errorf("empty SD-ID")
		}
		return "", p.errorf("empty PARAM-NAME")
	}
	return p.s[start:p.pos], nil
}

func (p *parser) sdValue() (string, error) {
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			v := b.String()
			if !utf8.ValidString(v) {
				v = strings.ToValidUTF8(v, "\uFFFD")
			}
			return v, nil
		case c == '\\' && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '"' || p.s[p.pos+1] == '\\' || p.s[p.pos+1] == ']'):
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errorf("unterminated PARAM-VALUE")
}
