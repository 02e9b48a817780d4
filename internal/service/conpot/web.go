package conpot

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"

	"decnet/internal/event"
	"decnet/internal/service"
)

// HTTP bounds: a request's header and form.
const (
	maxHeaderBytes = 8 << 10
	maxFormBytes   = 8 << 10
)

type connFieldsKey struct{}

// serveWeb answers one HTTP connection: one request, parsed by net/http
// within the header and body bounds, then the answer and the close, as
// the device's HTTP/1.0 server does.
func (s *Server) serveWeb(ctx context.Context, c *service.Conn) {
	var head headBytes
	br := bufio.NewReader(io.TeeReader(io.LimitReader(c, maxHeaderBytes+maxFormBytes), &head))
	r, err := http.ReadRequest(br)
	if err != nil {
		if len(head) > 0 { // not HTTP, or cut off: what came is recorded
			f := c.Fields()
			f["error"] = "malformed request"
			f["data"] = hexHead(head)
			s.emit(typeHTTP, event.Info, f, "")
		}
		return
	}
	r.RemoteAddr = c.RemoteAddr().String()
	ctx = context.WithValue(ctx, connFieldsKey{}, c.Fields())
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	s.web(c, r.WithContext(ctx))
}

// headBytes keeps the first 64 bytes written to it.
type headBytes []byte

func (h *headBytes) Write(b []byte) (int, error) {
	*h = append(*h, b[:min(len(b), 64-len(*h))]...)
	return len(b), nil
}

// reqFields are a fresh copy of a request's connection fields.
func reqFields(r *http.Request) map[string]string {
	f, _ := r.Context().Value(connFieldsKey{}).(map[string]string)
	return event.With(f, nil)
}

// response is one answer, written byte for byte as the device writes it
// (header order, spelling and status texts net/http would change).
type response struct {
	status  string // "302 Redirect"
	proto   string // "HTTP/1.0"; empty: the request's
	headers [][2]string
	body    []byte
}

// web answers one request on c and records it.
func (s *Server) web(c io.Writer, r *http.Request) {
	var resp response
	if s.id.device == DeviceM340 {
		resp = s.m340Web(r)
	} else {
		resp = s.s7Web(r)
	}
	f := reqFields(r)
	f[event.FieldMethod] = event.Clip(r.Method, 32)
	f[event.FieldPath] = event.Clip(r.URL.RequestURI(), 1024)
	f["status"], _, _ = strings.Cut(resp.status, " ")
	if ua := r.UserAgent(); ua != "" {
		f[event.FieldUserAgent] = event.Clip(ua, 512)
	}
	if r.Host != "" {
		f["host"] = event.Clip(r.Host, 256)
	}
	s.emit(typeHTTP, event.Info, f, "")
	c.Write(rawResponse(r, resp))
}

// rawResponse is resp as the device writes it.
func rawResponse(r *http.Request, resp response) []byte {
	proto := resp.proto
	if proto == "" {
		proto = fmt.Sprintf("HTTP/1.%d", min(max(r.ProtoMinor, 0), 1))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\r\n", proto, resp.status)
	for _, h := range resp.headers {
		fmt.Fprintf(&b, "%s%s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	if r.Method != http.MethodHead {
		b.Write(resp.body)
	}
	return b.Bytes()
}

// formValues reads a bounded urlencoded POST body.
func formValues(r *http.Request) {
	r.Body = io.NopCloser(io.LimitReader(r.Body, maxFormBytes))
	r.ParseForm()
}

// login records a login attempt.
func (s *Server) login(r *http.Request, method, user, pass string, ok bool) {
	f := reqFields(r)
	f[event.FieldUsername] = event.Clip(user, 256)
	f[event.FieldPassword] = event.Clip(pass, 256)
	f[event.FieldMethod] = method
	f[event.FieldSuccess] = strconv.FormatBool(ok)
	if ua := r.UserAgent(); ua != "" {
		f[event.FieldUserAgent] = event.Clip(ua, 512)
	}
	s.emit(event.TypeAuth, event.Warning, f, "")
}

// processRows is the process view's table body: every tag's live value,
// the same the Modbus reads return.
func (s *Server) processRows() string {
	var b strings.Builder
	for _, v := range s.plant.snapshot() {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td class=\"val\" id=\"%s\">%s</td><td>%s</td></tr>\n",
			html.EscapeString(v.name), html.EscapeString(v.desc), s.address(v.tag), html.EscapeString(v.name),
			html.EscapeString(v.value), html.EscapeString(v.unit))
	}
	return b.String()
}

// address is a tag's address as the device's tools write it.
func (s *Server) address(t tag) string {
	if s.id.device == DeviceM340 {
		switch t.table {
		case tableCoil:
			return "%M" + strconv.Itoa(int(t.addr))
		case tableDiscrete:
			return "%M" + strconv.Itoa(int(t.addr)+256)
		case tableInput:
			return "%IW0.1." + strconv.Itoa(int(t.addr))
		}
		return "%MW" + strconv.Itoa(int(t.addr))
	}
	switch t.table {
	case tableCoil:
		return fmt.Sprintf("%%Q%d.%d", t.addr/8, t.addr%8)
	case tableDiscrete:
		return fmt.Sprintf("%%I%d.%d", t.addr/8, t.addr%8)
	case tableInput:
		return fmt.Sprintf("%%IW%d", 2*t.addr)
	}
	return fmt.Sprintf("%%DB1.DBW%d", 2*t.addr)
}
