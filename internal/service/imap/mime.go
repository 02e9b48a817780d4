package imap

import (
	"bytes"
	"fmt"
	"strings"
)

// maxParts bounds the MIME parts parsed from one message, maxNesting
// their depth.
const (
	maxParts   = 64
	maxNesting = 8
)

// part is a MIME entity of a message.
type part struct {
	header []byte // its header section with the empty line
	body   []byte
	typ    string // e.g. "text"
	sub    string // e.g. "plain"
	params [][2]string
	id     string
	desc   string
	enc    string
	disp   string
	dparam [][2]string
	parts  []*part // a multipart's children
}

// headerFields is a header section's fields, unfolded, in order.
func headerFields(h []byte) [][2]string {
	var out [][2]string
	for _, line := range bytes.Split(h, []byte("\r\n")) {
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1][1] += " " + strings.TrimSpace(string(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		out = append(out, [2]string{string(bytes.TrimSpace(name)), strings.TrimSpace(string(value))})
	}
	return out
}

// field is the first value of the header field called name.
func field(fields [][2]string, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f[0], name) {
			return f[1]
		}
	}
	return ""
}

// splitHeader splits an entity into its header (with the empty line)
// and body.
func splitHeader(raw []byte) ([]byte, []byte) {
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return raw[:2], raw[2:]
	}
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4], raw[i+4:]
	}
	return raw, nil
}

// parseEntity parses raw as a MIME entity; n counts the parts made.
func parseEntity(raw []byte, depth int, n *int) *part {
	*n++
	p := &part{}
	p.header, p.body = splitHeader(raw)
	fields := headerFields(p.header)
	p.typ, p.sub, p.params = "text", "plain", [][2]string{{"charset", "us-ascii"}}
	if ct := field(fields, "Content-Type"); ct != "" {
		v, params := parseParams(ct)
		if t, s, ok := strings.Cut(v, "/"); ok && t != "" && s != "" {
			p.typ, p.sub, p.params = t, s, params
		}
	}
	p.id = field(fields, "Content-ID")
	p.desc = field(fields, "Content-Description")
	p.enc = field(fields, "Content-Transfer-Encoding")
	if p.enc == "" {
		p.enc = "7bit"
	}
	if d := field(fields, "Content-Disposition"); d != "" {
		p.disp, p.dparam = parseParams(d)
	}
	if strings.EqualFold(p.typ, "multipart") && depth < maxNesting {
		if b := param(p.params, "boundary"); b != "" {
			for _, child := range splitMultipart(p.body, b) {
				if *n >= maxParts {
					break
				}
				p.parts = append(p.parts, parseEntity(child, depth+1, n))
			}
		}
	}
	return p
}

func param(params [][2]string, name string) string {
	for _, p := range params {
		if strings.EqualFold(p[0], name) {
			return p[1]
		}
	}
	return ""
}

// parseParams reads `value; a=b; c="d"`.
func parseParams(s string) (string, [][2]string) {
	v, rest, _ := strings.Cut(s, ";")
	var out [][2]string
	for rest != "" && len(out) < 16 {
		var item string
		item, rest = cutParam(rest)
		name, value, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = strings.ReplaceAll(value[1:len(value)-1], `\"`, `"`)
		}
		out = append(out, [2]string{strings.ToLower(name), value})
	}
	return strings.TrimSpace(v), out
}

// cutParam cuts at the first ';' outside quotes.
func cutParam(s string) (string, string) {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			in = !in
		case ';':
			if !in {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// splitMultipart cuts a multipart body at its boundaries.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var out [][]byte
	// The first delimiter may open the body; later ones follow a CRLF.
	start := -1
	if bytes.HasPrefix(body, delim) {
		start = len(delim)
	} else if i := bytes.Index(body, append([]byte("\r\n"), delim...)); i >= 0 {
		start = i + 2 + len(delim)
	}
	for start >= 0 && start <= len(body) && len(out) < maxParts {
		rest := body[start:]
		if bytes.HasPrefix(rest, []byte("--")) {
			break
		}
		// Skip the rest of the delimiter line.
		nl := bytes.Index(rest, []byte("\r\n"))
		if nl < 0 {
			break
		}
		rest = rest[nl+2:]
		end := bytes.Index(rest, append([]byte("\r\n"), delim...))
		if end < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:end])
		start = start + nl + 2 + end + 2 + len(delim)
	}
	return out
}

// bodyStructure writes BODYSTRUCTURE (ext) or BODY of the part.
func (p *part) bodyStructure(ext bool) string {
	var b strings.Builder
	if len(p.parts) > 0 {
		b.WriteByte('(')
		for _, c := range p.parts {
			b.WriteString(c.bodyStructure(ext))
		}
		fmt.Fprintf(&b, " %s", quote(strings.ToLower(p.sub)))
		if ext {
			fmt.Fprintf(&b, " %s %s NIL NIL", paramList(p.params), p.disposition())
		}
		b.WriteByte(')')
		return b.String()
	}
	fmt.Fprintf(&b, "(%s %s %s %s %s %s %d", quote(strings.ToLower(p.typ)), quote(strings.ToLower(p.sub)), paramList(p.params),
		nstring(p.id), nstring(p.desc), quote(strings.ToLower(p.enc)), len(p.body))
	if strings.EqualFold(p.typ, "text") {
		fmt.Fprintf(&b, " %d", bytes.Count(p.body, []byte("\n")))
	}
	if ext {
		fmt.Fprintf(&b, " NIL %s NIL NIL", p.disposition())
	}
	b.WriteByte(')')
	return b.String()
}

func paramList(params [][2]string) string {
	if len(params) == 0 {
		return "NIL"
	}
	var items []string
	for _, p := range params {
		items = append(items, quote(p[0])+" "+quote(p[1]))
	}
	return "(" + strings.Join(items, " ") + ")"
}

func (p *part) disposition() string {
	if p.disp == "" {
		return "NIL"
	}
	return "(" + quote(strings.ToLower(p.disp)) + " " + paramList(p.dparam) + ")"
}

// section finds the part a section's part number names ("1.2"): the
// message itself is the only part 1 of a message that is not multipart.
func (p *part) section(nums []int) *part {
	cur := p
	for _, n := range nums {
		switch {
		case len(cur.parts) > 0 && n >= 1 && n <= len(cur.parts):
			cur = cur.parts[n-1]
		case len(cur.parts) == 0 && n == 1:
		default:
			return nil
		}
	}
	return cur
}

// envelope writes a message's ENVELOPE.
func envelope(header []byte) string {
	f := headerFields(header)
	from := field(f, "From")
	sender, replyTo := field(f, "Sender"), field(f, "Reply-To")
	if sender == "" {
		sender = from
	}
	if replyTo == "" {
		replyTo = from
	}
	return "(" + strings.Join([]string{
		nstring(field(f, "Date")), nstring(field(f, "Subject")),
		addresses(from), addresses(sender), addresses(replyTo),
		addresses(field(f, "To")), addresses(field(f, "Cc")), addresses(field(f, "Bcc")),
		nstring(field(f, "In-Reply-To")), nstring(field(f, "Message-ID")),
	}, " ") + ")"
}

// addresses writes an address list: ((name NIL mailbox host) ...).
func addresses(s string) string {
	if strings.TrimSpace(s) == "" {
		return "NIL"
	}
	var b strings.Builder
	b.WriteByte('(')
	n := 0
	for _, a := range splitAddresses(s) {
		name, addr := splitAddress(a)
		if addr == "" || n >= 64 {
			continue
		}
		local, host, _ := strings.Cut(addr, "@")
		fmt.Fprintf(&b, "(%s NIL %s %s)", nstring(name), nstring(local), nstring(host))
		n++
	}
	if n == 0 {
		return "NIL"
	}
	b.WriteByte(')')
	return b.String()
}

// splitAddresses cuts a list at commas outside quotes and angle brackets.
func splitAddresses(s string) []string {
	var out []string
	quoted, angle, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '<':
			angle = !quoted
		case '>':
			angle = false
		case ',':
			if !quoted && !angle {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// splitAddress reads `"Name" <a@b>`, `Name <a@b>` or `a@b`.
func splitAddress(s string) (name, addr string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		addr = strings.TrimSuffix(strings.TrimSpace(s[i+1:]), ">")
		name = strings.TrimSpace(s[:i])
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = strings.ReplaceAll(name[1:len(name)-1], `\"`, `"`)
		}
		return name, addr
	}
	return "", s
}
