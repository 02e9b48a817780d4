package sip

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// Bounds of one message. A UDP datagram holds at most maxDatagram bytes;
// over TCP the header section and the body are bounded separately.
const (
	maxDatagram    = 65535
	maxHeaderBytes = 16 << 10
	maxBody        = 32 << 10
	maxHeaders     = 96
	maxLine        = 4 << 10
)

// Parse errors. Both products drop what they cannot parse without a word.
var (
	errNoHeaderEnd  = errors.New("no end of header section")
	errRequestLine  = errors.New("malformed request line")
	errHeaderLine   = errors.New("malformed header line")
	errTooMany      = errors.New("too many headers")
	errTooLong      = errors.New("line too long")
	errLength       = errors.New("bad Content-Length")
	errMissing      = errors.New("missing mandatory header")
	errNotARequest  = errors.New("a response, not a request")
	errShortBody    = errors.New("body shorter than Content-Length")
	errHeaderTooBig = errors.New("header section too large")
)

// header is one header line: the name as sent and the value, trimmed.
type header struct {
	name, value string
}

// message is one parsed SIP request.
type message struct {
	method  string
	uri     string
	version string
	headers []header
	body    []byte
}

// compactNames maps RFC 3261 §7.3.3 (and later) compact forms to the
// full names.
var compactNames = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported",
	"o": "event", "s": "subject", "e": "content-encoding", "u": "allow-events",
}

// canonical is a header name in lower case, compact forms expanded.
func canonical(name string) string {
	n := strings.ToLower(name)
	if full, ok := compactNames[n]; ok {
		return full
	}
	return n
}

// get returns the first value of the header name (lower case, full form).
func (m *message) get(name string) string {
	for _, h := range m.headers {
		if canonical(h.name) == name {
			return h.value
		}
	}
	return ""
}

// all returns every value of the header name, in order.
func (m *message) all(name string) []header {
	var out []header
	for _, h := range m.headers {
		if canonical(h.name) == name {
			out = append(out, h)
		}
	}
	return out
}

// headerEnd finds the blank line that ends the header section of b: the
// index of the body and whether one was found. Lone LFs are accepted as
// line ends, as both products' parsers do.
func headerEnd(b []byte) (int, bool) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		if j := bytes.Index(b[:i+1], []byte("\n\n")); j >= 0 {
			return j + 2, true
		}
		return i + 4, true
	}
	if j := bytes.Index(b, []byte("\n\n")); j >= 0 {
		return j + 2, true
	}
	return 0, false
}

// parseHead parses a request line and header section (without the blank
// line's last line end).
func parseHead(head []byte) (*message, error) {
	if len(head) > maxHeaderBytes {
		return nil, errHeaderTooBig
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:] // keep-alive CRLFs before a request
	}
	if len(lines) == 0 {
		return nil, errRequestLine
	}
	m := &message{}
	first := lines[0]
	if len(first) > maxLine {
		return nil, errTooLong
	}
	// A lone CR or a NUL would be echoed into the replies' headers.
	if strings.ContainsAny(strings.Join(lines, ""), "\r\x00") {
		return nil, errHeaderLine
	}
	parts := strings.Split(first, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, errRequestLine
	}
	if strings.HasPrefix(parts[0], "SIP/") {
		return nil, errNotARequest
	}
	if !strings.HasPrefix(strings.ToUpper(parts[2]), "SIP/") || !isToken(parts[0]) {
		return nil, errRequestLine
	}
	m.method, m.uri, m.version = parts[0], parts[1], parts[2]
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if len(l) > maxLine {
			return nil, errTooLong
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(m.headers) == 0 {
				return nil, errHeaderLine
			}
			last := &m.headers[len(m.headers)-1]
			last.value = strings.TrimSpace(last.value + " " + strings.TrimSpace(l))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimRight(name, " \t")
		if !ok || name == "" || !isToken(name) {
			return nil, errHeaderLine
		}
		if len(m.headers) >= maxHeaders {
			return nil, errTooMany
		}
		m.headers = append(m.headers, header{name: name, value: strings.TrimSpace(value)})
	}
	for _, h := range []string{"via", "from", "to", "call-id", "cseq"} {
		if m.get(h) == "" {
			return nil, errMissing
		}
	}
	if _, _, err := m.cseq(); err != nil {
		return nil, err
	}
	return m, nil
}

// contentLength is the Content-Length header's value, -1 without one.
func (m *message) contentLength() (int, error) {
	v := m.get("content-length")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxBody {
		return 0, errLength
	}
	return n, nil
}

// parseDatagram parses a request that fills one UDP datagram: the body is
// what follows the header section, cut at Content-Length.
func parseDatagram(b []byte) (*message, error) {
	if len(b) > maxDatagram {
		b = b[:maxDatagram]
	}
	end, ok := headerEnd(b)
	if !ok {
		return nil, errNoHeaderEnd
	}
	m, err := parseHead(b[:end])
	if err != nil {
		return nil, err
	}
	n, err := m.contentLength()
	if err != nil {
		return nil, err
	}
	body := b[end:]
	if n >= 0 {
		if n > len(body) {
			return nil, errShortBody
		}
		body = body[:n]
	}
	m.body = bytes.Clone(body[:min(len(body), maxBody)])
	return m, nil
}

// cseq is the CSeq number and method.
func (m *message) cseq() (uint32, string, error) {
	num, method, ok := strings.Cut(strings.TrimSpace(m.get("cseq")), " ")
	n, err := strconv.ParseUint(num, 10, 32)
	if !ok || err != nil || !isToken(strings.TrimSpace(method)) {
		return 0, "", errHeaderLine
	}
	return uint32(n), strings.TrimSpace(method), nil
}

// isToken reports whether s is an RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
