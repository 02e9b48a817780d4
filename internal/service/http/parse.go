package http

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what one request may hold. The line and field limits are
// Apache's defaults (LimitRequestLine, LimitRequestFieldSize,
// LimitRequestFields), which nginx's 4 x 8k header buffers roughly match.
const (
	maxLine       = 8190
	maxFields     = 100
	maxBlankLines = 16      // empty lines tolerated before a request line
	maxBody       = 1 << 20 // body bytes kept; nginx's client_max_body_size
	maxDrain      = 8 << 20 // body bytes read and dropped before we hang up
)

// header is one request header as sent.
type header struct{ name, value string }

// request is a parsed HTTP/1.x request.
type request struct {
	line          string // the request line as sent
	method        string
	target        string // request-target as sent (path and query)
	proto         string // "HTTP/1.1"; empty for an HTTP/0.9 simple request
	minor         int    // HTTP/1.minor
	headers       []header
	body          []byte // at most maxBody bytes
	bodySize      int64  // bytes of body received, dropped ones included
	chunked       bool
	contentLength int64  // -1 when absent
	port          string // the listener's port, for Apache's signature
}

// get returns the first value of the named header.
func (r *request) get(name string) string {
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

// count returns how often the named header was sent.
func (r *request) count(name string) int {
	n := 0
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			n++
		}
	}
	return n
}

// hasToken reports whether a comma-list header holds tok.
func (r *request) hasToken(name, tok string) bool {
	for _, h := range r.headers {
		if !strings.EqualFold(h.name, name) {
			continue
		}
		for _, t := range strings.Split(h.value, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// path is the target without its query.
func (r *request) path() string {
	p, _, _ := strings.Cut(r.target, "?")
	return p
}

// http10 reports an HTTP/1.0 (or 0.9) request.
func (r *request) http10() bool { return r.proto == "" || r.minor == 0 }

// parseError is a request the server must refuse; status is how.
type parseError struct {
	status int
	reason string
}

func (e *parseError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.reason) }

func badRequest(format string, args ...any) error {
	return &parseError{status: 400, reason: fmt.Sprintf(format, args...)}
}

var errLineTooLong = errors.New("line too long")

// readLine returns one line without its CRLF or LF, refusing lines longer
// than max. io.EOF means the peer closed before sending anything.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max+2 {
			return nil, errLineTooLong
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if len(line) > max {
		return nil, errLineTooLong
	}
	return line, nil
}

// readHead reads a request line and its header fields. Errors are either a
// *parseError, to be answered, or a read error, to hang up on.
func readHead(br *bufio.Reader) (*request, error) {
	var line []byte
	for blanks := 0; ; blanks++ {
		l, err := readLine(br, maxLine)
		if errors.Is(err, errLineTooLong) {
			return nil, &parseError{status: 414, reason: "request line too long"}
		}
		if err != nil {
			return nil, err
		}
		if len(l) > 0 {
			line = l
			break
		}
		if blanks >= maxBlankLines {
			return nil, badRequest("no request line")
		}
	}
	r := &request{line: string(line), contentLength: -1}
	if err := r.parseLine(); err != nil {
		return r, err
	}
	if r.proto == "" {
		return r, r.checkPath() // HTTP/0.9 has no header fields
	}
	for {
		l, err := readLine(br, maxLine)
		if errors.Is(err, errLineTooLong) {
			return r, &parseError{status: 400, reason: "header field too long"}
		}
		if err != nil {
			return r, err
		}
		if len(l) == 0 {
			break
		}
		if len(r.headers) >= maxFields {
			return r, badRequest("too many header fields")
		}
		if l[0] == ' ' || l[0] == '\t' {
			return r, badRequest("folded header field")
		}
		name, value, ok := bytes.Cut(l, []byte{':'})
		if !ok || !isToken(string(name)) {
			return r, badRequest("malformed header field")
		}
		value = bytes.Trim(value, " \t")
		if bytes.ContainsFunc(value, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
			return r, badRequest("control character in header field")
		}
		r.headers = append(r.headers, header{string(name), string(value)})
	}
	return r, r.checkFraming()
}

func (r *request) parseLine() error {
	parts := strings.Split(r.line, " ")
	switch len(parts) {
	case 2:
		if parts[0] != "GET" {
			return badRequest("malformed request line")
		}
	case 3:
		r.proto = parts[2]
		if len(r.proto) != 8 || !strings.HasPrefix(r.proto, "HTTP/1.") || r.proto[7] < '0' || r.proto[7] > '9' {
			return badRequest("unsupported protocol")
		}
		r.minor = int(r.proto[7] - '0')
	default:
		return badRequest("malformed request line")
	}
	r.method, r.target = parts[0], parts[1]
	if !isToken(r.method) {
		return badRequest("malformed method")
	}
	if r.target == "" || strings.ContainsFunc(r.target, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		return badRequest("malformed request target")
	}
	if i := strings.Index(r.target, "://"); i > 0 && r.target[0] != '/' {
		// absolute-form: the path starts after the authority
		rest := r.target[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			r.target = "/"
		} else {
			r.target = "/" + strings.TrimPrefix(rest[j:], "/")
		}
	}
	if r.target != "*" && r.target[0] != '/' {
		return badRequest("malformed request target")
	}
	return nil
}

// checkPath refuses dot segments that climb above "/", as Apache and
// nginx do once the header fields are in.
func (r *request) checkPath() error {
	if r.target != "*" && escapesRoot(r.path()) {
		return badRequest("path above the root")
	}
	return nil
}

func (r *request) checkFraming() error {
	if err := r.checkPath(); err != nil {
		return err
	}
	if r.minor >= 1 && r.count("Host") == 0 {
		return badRequest("no Host header")
	}
	if r.count("Host") > 1 {
		return badRequest("more than one Host header")
	}
	if te := r.get("Transfer-Encoding"); te != "" {
		if r.count("Content-Length") > 0 {
			return badRequest("both Transfer-Encoding and Content-Length")
		}
		if !strings.EqualFold(strings.TrimSpace(te), "chunked") || r.count("Transfer-Encoding") > 1 {
			return &parseError{status: 501, reason: "unsupported transfer coding"}
		}
		r.chunked = true
		return nil
	}
	for _, h := range r.headers {
		if !strings.EqualFold(h.name, "Content-Length") {
			continue
		}
		n, err := strconv.ParseInt(h.value, 10, 64)
		if err != nil || n < 0 || h.value[0] == '+' || (r.contentLength >= 0 && n != r.contentLength) {
			return badRequest("bad Content-Length")
		}
		r.contentLength = n
	}
	return nil
}

// expectsBody reports whether a body follows the header fields.
func (r *request) expectsBody() bool { return r.chunked || r.contentLength > 0 }

// errBodyTooLarge means the body went past maxDrain; the connection cannot
// be reused.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads the body, keeping its first maxBody bytes.
func readBody(br *bufio.Reader, r *request) error {
	if r.chunked {
		return r.readChunked(br)
	}
	if r.contentLength <= 0 {
		return nil
	}
	return r.take(br, r.contentLength)
}

// take reads n body bytes, keeping what fits under maxBody.
func (r *request) take(br *bufio.Reader, n int64) error {
	if r.bodySize+n > maxDrain {
		return errBodyTooLarge
	}
	if keep := min(n, maxBody-int64(len(r.body))); keep > 0 {
		start := len(r.body)
		r.body = append(r.body, make([]byte, keep)...)
		got, err := io.ReadFull(br, r.body[start:])
		r.body = r.body[:start+got]
		r.bodySize += int64(got)
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		n -= keep
	}
	got, err := io.CopyN(io.Discard, br, n)
	r.bodySize += got
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	return nil
}

func (r *request) readChunked(br *bufio.Reader) error {
	for {
		l, err := readLine(br, 1024)
		if errors.Is(err, errLineTooLong) {
			return badRequest("chunk size line too long")
		}
		if err != nil {
			return fmt.Errorf("read chunk size: %w", err)
		}
		hexSize, _, _ := bytes.Cut(l, []byte{';'})
		hexSize = bytes.TrimRight(hexSize, " \t")
		if len(hexSize) == 0 || len(hexSize) > 15 {
			return badRequest("bad chunk size")
		}
		n, err := strconv.ParseInt(string(hexSize), 16, 64)
		if err != nil || n < 0 {
			return badRequest("bad chunk size")
		}
		if n == 0 {
			break
		}
		if err := r.take(br, n); err != nil {
			return err
		}
		crlf, err := readLine(br, 0)
		if err != nil || len(crlf) != 0 {
			return badRequest("chunk not followed by CRLF")
		}
	}
	for trailers := 0; ; trailers++ {
		l, err := readLine(br, maxLine)
		if err != nil {
			return badRequest("bad chunked trailer")
		}
		if len(l) == 0 {
			return nil
		}
		if trailers >= maxFields {
			return badRequest("too many trailer fields")
		}
	}
}

// escapesRoot reports whether dot segments in p climb above "/", which
// both Apache and nginx refuse with 400. %2e counts as a dot, as in their
// normalisation.
func escapesRoot(p string) bool {
	depth := 0
	for _, seg := range strings.Split(p, "/")[1:] {
		switch strings.ToLower(strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")) {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
