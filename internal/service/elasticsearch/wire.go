package elasticsearch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Limits of Elasticsearch's HTTP decoder (http.max_initial_line_length,
// http.max_header_size) and what the honeypot keeps of a body.
const (
	maxInitialLine = 4096
	maxHeaderSize  = 8192
	maxBody        = 1 << 20 // body bytes kept
	maxDrain       = 8 << 20 // body bytes read and dropped before hanging up
	maxSkippedLine = 64      // non-HTTP lines ignored before giving up
)

// request is one parsed HTTP/1.x request.
type request struct {
	method  string
	target  string // as sent
	path    string // decoded path, without the query
	rawPath string
	query   url.Values
	rawQ    string
	version string // "HTTP/1.1"
	headers []header
	body    []byte
	size    int64 // body bytes received
}

type header struct{ name, value string }

// get returns the first value of the named header.
func (r *request) get(name string) string {
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

// keepAlive reports whether the connection stays open after the answer,
// as HttpUtil.isKeepAlive decides.
func (r *request) keepAlive() bool {
	c := strings.ToLower(r.get("Connection"))
	if strings.Contains(c, "close") {
		return false
	}
	if r.version == "HTTP/1.0" {
		return strings.Contains(c, "keep-alive")
	}
	return true
}

// flag reads a boolean query parameter as Elasticsearch does: present
// and empty, or anything but "false", "0", "no" and "off", is true.
func (r *request) flag(name string) bool {
	v, ok := r.query[name]
	if !ok {
		return false
	}
	s := ""
	if len(v) > 0 {
		s = v[0]
	}
	switch s {
	case "false", "0", "no", "off":
		return false
	}
	return true
}

// badRequest is a request the decoder refuses; Elasticsearch answers it
// with a 400 naming the exception and closes.
type badRequest struct {
	typ, reason string
}

func (e *badRequest) Error() string { return e.typ + ": " + e.reason }

// readRequest reads one request. io.EOF means the peer left between
// requests.
func readRequest(br *bufio.Reader) (*request, error) {
	r := &request{}
	for skipped := 0; ; skipped++ {
		line, err := readLine(br, maxInitialLine, "An HTTP line is larger than 4096 bytes.")
		if err != nil {
			return nil, err
		}
		// Netty skips control characters and whitespace before a request
		// and ignores an initial line of fewer than three words.
		parts := strings.Fields(string(line))
		if len(parts) >= 3 {
			r.method, r.target, r.version = parts[0], parts[1], parts[2]
			break
		}
		if skipped >= maxSkippedLine {
			return nil, io.ErrUnexpectedEOF
		}
	}
	if err := r.checkVersion(); err != nil {
		return r, err
	}
	size := 0
	for {
		line, err := readLine(br, maxHeaderSize, "HTTP header is larger than 8192 bytes.")
		if err != nil {
			return r, err
		}
		if len(line) == 0 {
			break
		}
		if size += len(line); size > maxHeaderSize {
			return r, &badRequest{"too_long_frame_exception", "HTTP header is larger than 8192 bytes."}
		}
		if (line[0] == ' ' || line[0] == '\t') && len(r.headers) > 0 {
			r.headers[len(r.headers)-1].value += " " + strings.TrimSpace(string(line))
			continue
		}
		name, value, _ := strings.Cut(string(line), ":")
		r.headers = append(r.headers, header{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	r.splitTarget()
	return r, nil
}

// checkVersion accepts what Netty's HttpVersion.valueOf accepts.
func (r *request) checkVersion() error {
	v := strings.ToUpper(r.version)
	proto, nums, ok := strings.Cut(v, "/")
	major, minor, ok2 := strings.Cut(nums, ".")
	if !ok || !ok2 || proto == "" || !digits(major) || !digits(minor) {
		return &badRequest{"illegal_argument_exception", "invalid version format: " + v}
	}
	r.version = v
	return nil
}

func digits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitTarget separates path and query the way RestUtils does: the raw
// path is routed, its segments decoded.
func (r *request) splitTarget() {
	t := r.target
	if i := strings.Index(t, "://"); i > 0 && t[0] != '/' {
		rest := t[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			t = rest[j:]
		} else {
			t = "/"
		}
	}
	p, q, _ := strings.Cut(t, "?")
	r.rawPath, r.rawQ = p, q
	r.path = p
	if d, err := url.PathUnescape(p); err == nil {
		r.path = d
	}
	r.query, _ = url.ParseQuery(q)
	if r.query == nil {
		r.query = url.Values{}
	}
}

// readLine returns a line without CRLF, refusing one longer than max with
// Netty's TooLongFrameException text.
func readLine(br *bufio.Reader, max int, tooLong string) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max+2 {
			return nil, &badRequest{"too_long_frame_exception", tooLong}
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
	return bytes.TrimRight(line, "\r\n"), nil
}

var errBodyTooLarge = errors.New("request body too large")

// readBody reads a Content-Length or chunked body, keeping maxBody bytes.
func (r *request) readBody(br *bufio.Reader) error {
	if strings.EqualFold(strings.TrimSpace(r.get("Transfer-Encoding")), "chunked") {
		return r.readChunked(br)
	}
	cl := r.get("Content-Length")
	if cl == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
	if err != nil || n < 0 {
		return &badRequest{"illegal_argument_exception", fmt.Sprintf("For input string: \"%s\"", cl)}
	}
	return r.take(br, n)
}

func (r *request) take(br *bufio.Reader, n int64) error {
	if r.size+n > maxDrain {
		return errBodyTooLarge
	}
	// The body grows as bytes arrive, so a large Content-Length that is
	// never sent costs nothing.
	buf := bytes.NewBuffer(r.body)
	kept, err := io.CopyN(buf, br, min(n, int64(maxBody-len(r.body))))
	r.body = buf.Bytes()
	r.size += kept
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	dropped, err := io.CopyN(io.Discard, br, n-kept)
	r.size += dropped
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	return nil
}

func (r *request) readChunked(br *bufio.Reader) error {
	for {
		line, err := readLine(br, maxInitialLine, "An HTTP line is larger than 4096 bytes.")
		if err != nil {
			return err
		}
		hexSize, _, _ := strings.Cut(string(line), ";")
		n, err := strconv.ParseInt(strings.TrimSpace(hexSize), 16, 64)
		if err != nil || n < 0 {
			return &badRequest{"illegal_argument_exception", "invalid chunk size"}
		}
		if n == 0 {
			break
		}
		if err := r.take(br, n); err != nil {
			return err
		}
		if _, err := readLine(br, 0, "invalid chunk"); err != nil {
			return err
		}
	}
	for range 100 { // trailer fields
		line, err := readLine(br, maxHeaderSize, "HTTP header is larger than 8192 bytes.")
		if err != nil || len(line) == 0 {
			return err
		}
	}
	return &badRequest{"too_long_frame_exception", "HTTP header is larger than 8192 bytes."}
}

// response is what a handler answers.
type response struct {
	status   int
	ctype    string
	body     []byte
	headers  []header // the response's own headers, before the thread context's
	warnings []string // deprecation warnings the handler added
}

// statusText is Netty's HttpResponseStatus reason phrases.
var statusText = map[int]string{
	100: "Continue", 200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 413: "Request Entity Too Large",
	500: "Internal Server Error", 503: "Service Unavailable",
}

// render lays the response out as DefaultRestChannel does: X-Opaque-Id,
// the response's headers, the thread context's (product, warnings), then
// content-type and content-length in lower case. There is no Date,
// Server or Connection header.
func render(version string, resp *response, opaque string, ctx []header, head bool) []byte {
	var b bytes.Buffer
	if version != "HTTP/1.0" {
		version = "HTTP/1.1"
	}
	b.WriteString(version + " " + strconv.Itoa(resp.status) + " " + statusText[resp.status] + "\r\n")
	if opaque != "" {
		b.WriteString("X-Opaque-Id: " + opaque + "\r\n")
	}
	for _, hs := range [][]header{resp.headers, ctx} {
		for _, h := range hs {
			b.WriteString(h.name + ": " + h.value + "\r\n")
		}
	}
	b.WriteString("content-type: " + resp.ctype + "\r\n")
	b.WriteString("content-length: " + strconv.Itoa(len(resp.body)) + "\r\n\r\n")
	if !head {
		b.Write(resp.body)
	}
	return b.Bytes()
}
