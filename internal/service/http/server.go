package http

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"decnet/internal/ntlmssp"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Deadlines the server keeps itself, the listener's idle limit being off
// so that the keep-alive timeouts are the product's.
const (
	bodyTimeout  = 60 * time.Second
	writeTimeout = 60 * time.Second
	lifetime     = time.Hour
	lingerTime   = 2 * time.Second // reading after an error, as Apache's lingering close
	lingerBytes  = 64 << 10
)

// connLimits are the connection limits of the web server's listeners:
// the shared ones, without their idle deadline, which ServeConn keeps
// itself as the product's keep-alive rules.
func connLimits() service.Limits {
	return service.Limits{MaxConns: service.DefaultLimits.MaxConns, MaxPerSource: service.DefaultLimits.MaxPerSource}
}

// Server is one decky's web server.
type Server struct {
	site *site
	emit event.Emitter
	now  func() time.Time
	// cfg and persona make the TLS side when a listener for HTTPSPort is
	// served (the https service): its certificate is made only then.
	cfg     service.Config
	persona *Persona
	tls     *tls.Config
	// ntlm names the machine in Windows Authentication's challenges.
	ntlm ntlmssp.Persona
}

// NewServer builds the web server for cfg; its persona is a *Persona or
// nil for the defaults. The http and https services both run it: a
// listener for HTTPSPort is served over TLS.
func NewServer(cfg service.Config) (*Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	r := resolve(p, cfg.Host.Distro)
	s := &site{
		product:   r.product,
		server:    r.server,
		app:       r.app,
		persona:   p,
		installed: installTime(cfg.Host.DataDir, cfg.Host.Name, time.Now()),
		fallback:  cfg.Host.Hostname,
		blog:      blogTitle(cfg.Host.Name),
	}
	if s.fallback == "" {
		s.fallback = "127.0.1.1" // what Debian's /etc/hosts resolves the hostname to
	}
	s.siteURL = "http://" + cfg.Host.IP
	if cfg.Host.IP == "" {
		s.siteURL = "http://" + s.fallback
	}
	names := make([]string, 0, len(p.ExtraHeaders))
	for k := range p.ExtraHeaders {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		s.extra = append(s.extra, header{k, p.ExtraHeaders[k]})
	}
	if p.Files != "" {
		root, err := os.OpenRoot(p.Files)
		if err != nil {
			return nil, fmt.Errorf("http files: %w", err)
		}
		s.root = root
	}
	// IIS on Windows Server 2019, a standalone server (its own domain).
	return &Server{site: s, emit: cfg.Emit, now: time.Now, cfg: cfg, persona: p,
		ntlm: ntlmssp.NewPersona(cmp.Or(cfg.Host.Hostname, cfg.Host.Name, "WEB"), "", ntlmssp.NewVersion(10, 0, 17763))}, nil
}

// Serve serves every TCP listener until ctx is done: HTTPSPort over TLS,
// the others in clear.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if _, ok := ls.TCP[HTTPSPort]; ok && s.tls == nil {
		c, err := newTLS(s.cfg, s.persona, s.site.product)
		if err != nil {
			return err
		}
		s.tls = c
	}
	service.ServeTCPPorts(ctx, ls, s.emit, connLimits(), func(ctx context.Context, port int, c *service.Conn) {
		if port == HTTPSPort {
			s.serveTLS(ctx, c, port)
			return
		}
		s.ServeConn(ctx, c, port)
	})
	if s.site.root != nil {
		s.site.root.Close()
	}
	return nil
}

// ServeConn speaks HTTP/1.x on c, which arrived on the declared port,
// until the client or the product's keep-alive rules end it. It sets c's
// deadlines itself.
func (s *Server) ServeConn(ctx context.Context, c net.Conn, port int) {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	end := time.Now().Add(lifetime)
	deadline := func(d time.Duration) time.Time {
		return minTime(time.Now().Add(d), end)
	}
	ka := keepAlive[s.site.product]
	br := bufio.NewReaderSize(c, 4096)
	cs := connState{}
	var nt ntlmConn
	for ; ; cs.served++ {
		wait := ka.idle
		if cs.served == 0 {
			wait = ka.firstWait
		}
		c.SetReadDeadline(deadline(wait))
		req, resp := s.next(br, c, port, cs)
		if resp == nil {
			return
		}
		if ka.maxRequests > 0 && cs.served+1 >= ka.maxRequests {
			resp.close = true
		}
		if req != nil && (req.hasToken("Connection", "close") || req.http10() && !req.hasToken("Connection", "keep-alive")) {
			resp.close = true
		}
		cs.kaSent = req != nil && req.hasToken("Connection", "keep-alive")
		s.record(c, req, resp)
		if req != nil {
			s.windowsAuth(service.ConnFields(c), req, resp, &nt)
		}
		c.SetWriteDeadline(deadline(writeTimeout))
		if _, err := io.WriteString(c, s.render(req, resp, cs)); err != nil || resp.close {
			if err == nil {
				linger(c, br, deadline(lingerTime))
			}
			return
		}
	}
}

// next reads one request and decides its response; a nil response means
// the connection is over without one (closed, timed out or unusable).
func (s *Server) next(br *bufio.Reader, c net.Conn, port int, cs connState) (*request, *response) {
	req, err := readHead(br)
	if req == nil {
		req = &request{contentLength: -1}
	}
	req.port = strconv.Itoa(port)
	var pe *parseError
	if errors.As(err, &pe) {
		return req, s.refuse(req, pe)
	}
	if err != nil {
		return nil, nil
	}
	if s.site.product == nginx && req.contentLength > maxBody {
		return req, s.site.errorResp(req, 413, true)
	}
	if req.expectsBody() && req.minor >= 1 && req.hasToken("Expect", "100-continue") {
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return nil, nil
		}
	}
	c.SetReadDeadline(time.Now().Add(bodyTimeout))
	if err := readBody(br, req); err != nil {
		if errors.As(err, &pe) {
			return req, s.refuse(req, pe)
		}
		if errors.Is(err, errBodyTooLarge) {
			r := s.site.respond(req)
			r.close = true
			return req, r
		}
		return nil, nil
	}
	return req, s.site.respond(req)
}

// refuse is the product's answer to a request it cannot parse.
func (s *Server) refuse(req *request, pe *parseError) *response {
	if s.site.product == iis {
		title, text := "Bad Request", "The request is badly formed."
		if pe.reason == "no Host header" {
			title, text = "Bad Request - Invalid Hostname", "The request hostname is invalid."
		}
		status := 400
		if pe.status == 414 {
			status, title, text = 414, "Request URL Too Long", "The request URL is too long."
		}
		body := `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">` + "\r\n" +
			"<HTML><HEAD><TITLE>" + strings.SplitN(title, " - ", 2)[0] + "</TITLE>\r\n" +
			`<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>` + "\r\n" +
			"<BODY><h2>" + title + "</h2>\r\n<hr><p>HTTP Error " + strconv.Itoa(status) + ". " + text + "</p>\r\n</BODY></HTML>\r\n"
		return &response{status: status, ctype: "text/html; charset=us-ascii", body: []byte(body), httpsys: true, close: true, refusal: pe.reason}
	}
	r := s.site.errorResp(req, pe.status, true)
	r.allow = "" // a refused request reaches no handler
	r.refusal = pe.reason
	return r
}

// render lays out the response in the product's wire format.
func (s *Server) render(req *request, resp *response, cs connState) string {
	var b strings.Builder
	if req.proto == "" && req.method != "" {
		return string(resp.body) // HTTP/0.9: the body alone
	}
	s.site.product.head(&b, s.now(), s.site.server, s.site.extra, req, resp, cs)
	if req.method != "HEAD" {
		b.Write(resp.body)
	}
	return b.String()
}

// record emits the request event, and an auth event for credentials.
func (s *Server) record(c net.Conn, req *request, resp *response) {
	f := service.ConnFields(c)
	for k, v := range requestFields(req, resp.status) {
		f[k] = v
	}
	if resp.refusal != "" {
		f["error"] = resp.refusal
		if req.method == "" {
			f["line"] = strings.ToValidUTF8(req.line[:min(len(req.line), previewSize)], "\ufffd")
		}
	}
	s.emit.Emit(event.Event{Type: event.TypeRequest, Severity: event.Info, Fields: f})
	if req.method == "" {
		return
	}
	if user, pass, ok := basicCredentials(req); ok {
		s.emitAuth(c, req, user, pass, "basic")
	}
	if user, pass := formCredentials(req); user != "" {
		s.emitAuth(c, req, user, pass, "form")
	}
}

func (s *Server) emitAuth(c net.Conn, req *request, user, pass, scheme string) {
	f := service.ConnFields(c)
	f[event.FieldUsername] = user
	f[event.FieldPassword] = pass
	f[event.FieldSuccess] = "false"
	f["scheme"] = scheme
	f[event.FieldPath] = req.target
	if scheme == "form" {
		f["form"] = req.path()
	}
	s.emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
}

// linger reads what the client still sends for a moment before the close,
// so that the response is not lost to a reset.
func linger(c net.Conn, br *bufio.Reader, until time.Time) {
	inner := c
	if sc, ok := c.(*service.Conn); ok {
		inner = sc.Conn
	}
	if cw, ok := inner.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(until)
	io.CopyN(io.Discard, br, lingerBytes)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// blogTitle is a plausible site title, fixed per decky.
func blogTitle(name string) string {
	titles := []string{"Company Blog", "Intranet", "News and Updates", "IT Department", "Staff Portal", "Team Notes"}
	h := 0
	for _, c := range name {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return titles[h%len(titles)]
}
