package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"decnet/internal/event"
)

// handler is the daemon's router: the engine's routes behind its
// middleware (version prefix, Server/Api-Version/Ostype and
// Docker-Experimental headers) and its JSON error bodies.
type handler struct {
	s       *Server
	ctx     context.Context // the server's: hijacked streams end with it
	streams *sync.WaitGroup
}

// call is one request being answered.
type call struct {
	w       *statusWriter
	r       *http.Request
	body    []byte
	size    int64
	version string   // the request's API version (its /v1.xx prefix or the default)
	parts   []string // the path below the version prefix, split at "/"
	fields  map[string]string
	// recorded is set once the request event went out: a hijacked
	// stream records its request before the session, not after.
	recorded bool
}

// apiError is the engine's error: a status and {"message": ...}.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, msg string) error { return &apiError{status: status, msg: msg} }

// kind is a sort of engine object that a route names by reference: how
// the engine finds one, and the start of its 404 message.
type kind[T any] struct {
	find    func(e *engine, ref string) *T
	missing string
}

var (
	containerKind = kind[container]{(*engine).lookup, "No such container: "}
	execKind      = kind[execInst]{(*engine).exec, "No such exec instance: "}
	imageKind     = kind[image]{(*engine).imageByRef, "No such image: "}
)

// with runs fn with the engine locked and the object ref names found, or
// answers the engine's 404. Handlers that must not hold the lock while
// they answer (streams, waits) copy what they need in fn.
func (k kind[T]) with(e *engine, ref string, fn func(*T) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := k.find(e, ref)
	if v == nil {
		return errorf(http.StatusNotFound, k.missing+ref)
	}
	return fn(v)
}

var versionPrefix = regexp.MustCompile(`^/v([0-9.]+)(/.*)$`)

// route is one endpoint: a method and a path pattern whose "*" segments
// are parameters; a trailing "**" takes the rest (image names hold "/").
type route struct {
	method, pattern string
	fn              func(h *handler, c *call, args []string) error
}

// routes are the endpoints served, as dockerd 24 declares them.
var routes = []route{
	{"GET", "/_ping", (*handler).ping},
	{"HEAD", "/_ping", (*handler).ping},
	{"GET", "/version", (*handler).version},
	{"GET", "/info", (*handler).info},
	{"GET", "/containers/json", (*handler).containerList},
	{"POST", "/containers/create", (*handler).containerCreate},
	{"GET", "/containers/*/json", (*handler).containerInspect},
	{"GET", "/containers/*/logs", (*handler).containerLogs},
	{"GET", "/containers/*/top", (*handler).containerTop},
	{"POST", "/containers/*/start", (*handler).containerStart},
	{"POST", "/containers/*/stop", (*handler).containerStop},
	{"POST", "/containers/*/restart", (*handler).containerRestart},
	{"POST", "/containers/*/kill", (*handler).containerKill},
	{"POST", "/containers/*/wait", (*handler).containerWait},
	{"POST", "/containers/*/attach", (*handler).containerAttach},
	{"POST", "/containers/*/resize", (*handler).containerResize},
	{"POST", "/containers/*/exec", (*handler).execCreate},
	{"DELETE", "/containers/*", (*handler).containerDelete},
	{"POST", "/exec/*/start", (*handler).execStart},
	{"POST", "/exec/*/resize", (*handler).execResize},
	{"GET", "/exec/*/json", (*handler).execInspect},
	{"GET", "/images/json", (*handler).imageList},
	{"POST", "/images/create", (*handler).imagePull},
	{"GET", "/images/**/json", (*handler).imageInspect},
	{"DELETE", "/images/**", (*handler).imageDelete},
	{"GET", "/networks", (*handler).networkList},
	{"GET", "/volumes", (*handler).volumeList},
	{"POST", "/auth", (*handler).auth},
}

// match reports whether parts fit pattern, and its parameters.
func match(pattern string, parts []string) ([]string, bool) {
	pp := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	var args []string
	for i, p := range pp {
		if p == "**" {
			// rest, less the literal segments after "**"
			tail := pp[i+1:]
			if len(parts)-i <= len(tail) {
				return nil, false
			}
			for j, t := range tail {
				if parts[len(parts)-len(tail)+j] != t {
					return nil, false
				}
			}
			return append(args, strings.Join(parts[i:len(parts)-len(tail)], "/")), true
		}
		if i >= len(parts) {
			return nil, false
		}
		switch {
		case p == "*":
			if parts[i] == "" {
				return nil, false
			}
			args = append(args, parts[i])
		case p != parts[i]:
			return nil, false
		}
	}
	return args, len(pp) == len(parts)
}

// ServeHTTP answers one request and records it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: &statusWriter{ResponseWriter: w}, r: r, fields: map[string]string{}}
	c.body, c.size = readBody(r.Body)
	h.serve(c)
	h.record(c)
}

func (h *handler) serve(c *call) {
	p := c.r.URL.Path
	if p == "" {
		p = "/"
	}
	// gorilla/mux, the engine's router, redirects unclean paths.
	if cp := cleanPath(p); cp != p {
		u := *c.r.URL
		u.Path = cp
		u.RawPath = ""
		c.w.Header().Set("Location", u.String())
		c.w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	c.version = h.s.p.APIVersion
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		c.version, p = m[1], m[2]
	}
	c.parts = strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, rt := range routes {
		if rt.method != c.r.Method {
			continue
		}
		args, ok := match(rt.pattern, c.parts)
		if !ok {
			continue
		}
		hd := c.w.Header()
		hd.Set("Server", "Docker/"+h.s.p.Version+" (linux)")
		hd.Set("Api-Version", h.s.p.APIVersion)
		hd.Set("Ostype", "linux")
		if err := h.checkVersion(c.version); err != nil {
			h.fail(c, err)
			return
		}
		hd.Set("Docker-Experimental", "false")
		if err := rt.fn(h, c, args); err != nil {
			h.fail(c, err)
		}
		return
	}
	// Unknown routes and methods: the engine's not-found handler, which
	// runs outside the middleware, so without its headers.
	writeJSON(c.w, http.StatusNotFound, message{"page not found"})
}

func (h *handler) checkVersion(v string) error {
	p := h.s.p
	if versionLess(v, p.MinAPIVersion) {
		return errorf(http.StatusBadRequest, "client version "+v+" is too old. Minimum supported API version is "+p.MinAPIVersion+", please upgrade your client to a newer version")
	}
	if versionLess(p.APIVersion, v) {
		return errorf(http.StatusBadRequest, "client version "+v+" is too new. Maximum supported API version is "+p.APIVersion)
	}
	return nil
}

// fail answers err as the engine does: its status and message as JSON.
func (h *handler) fail(c *call, err error) {
	if c.w.hijacked {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	c.fields["error"] = event.Clip(ae.msg, 512)
	if c.w.status != 0 {
		return // already streaming
	}
	writeJSON(c.w, ae.status, message{ae.msg})
}

// message is the engine's error body.
type message struct {
	Message string `json:"message"`
}

// writeJSON writes v as httputils.WriteJSON does: no HTML escaping, a
// trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// record emits the request event.
func (h *handler) record(c *call) {
	if c.recorded {
		return
	}
	c.recorded = true
	r := c.r
	hdr := map[string]string{}
	for k, v := range r.Header {
		hdr[k] = event.Clip(strings.Join(v, ", "), 1024)
	}
	hj, _ := json.Marshal(hdr)
	f := map[string]string{
		event.FieldMethod:    r.Method,
		event.FieldPath:      event.Clip(r.RequestURI, 2048),
		event.FieldHeaders:   event.Clip(string(hj), 8192),
		event.FieldUserAgent: event.Clip(r.UserAgent(), 512),
		"host":               event.Clip(r.Host, 256),
		"api_version":        event.Clip(c.version, 16),
		"status":             itoa(c.w.code()),
	}
	if r.TLS != nil {
		f["tls"] = "true"
	}
	if c.size > 0 {
		f["body"], f["body_encoding"] = printable(c.body, 4096)
		f["body_size"] = itoa(int(c.size))
	}
	for k, v := range c.fields {
		f[k] = v
	}
	h.s.emit(r, event.TypeRequest, event.Info, f)
}

// printable clips a body for an event, hex when it is not text.
func printable(b []byte, n int) (string, string) {
	if len(b) > n {
		b = b[:n]
	}
	for _, ch := range string(b) {
		if ch == 0xfffd || (ch < ' ' && ch != '\n' && ch != '\r' && ch != '\t') {
			return hexString(b), "hex"
		}
	}
	return string(b), ""
}

// readBody reads up to maxBody bytes of a body and counts the rest up to
// 16 times that; past it the connection is not worth keeping.
func readBody(r io.Reader) ([]byte, int64) {
	if r == nil {
		return nil, 0
	}
	b, _ := io.ReadAll(io.LimitReader(r, maxBody))
	n, _ := io.Copy(io.Discard, io.LimitReader(r, 16*maxBody))
	return b, int64(len(b)) + n
}

// cleanPath is gorilla/mux's cleanPath: path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// statusWriter remembers the status written and passes through hijacking
// and flushing.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack takes the connection over for a raw stream.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	nc, rw, err := hj.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return nc, rw, err
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// decodeJSON decodes a request body as the engine's loadJSON: an empty
// body is an error, and so is anything after the value.
func decodeJSON(c *call, v any) error {
	if err := checkJSON(c); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, "invalid JSON: got EOF while reading request body")
		}
		return errorf(http.StatusBadRequest, "invalid JSON: "+err.Error())
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "unexpected content after JSON")
	}
	return nil
}

// decodeOptional is httputils.ReadJSON: an empty body is no error.
func decodeOptional(c *call, v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// checkJSON is httputils.CheckForJSON: a body's Content-Type must be
// JSON when it is given.
func checkJSON(c *call) error {
	ct := c.r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, _ := strings.Cut(ct, ";")
	if strings.TrimSpace(strings.ToLower(mt)) == "application/json" {
		return nil
	}
	return errorf(http.StatusBadRequest, "unsupported Content-Type header ("+ct+"): must be 'application/json'")
}
