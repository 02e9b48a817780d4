// Package elasticsearch is an Elasticsearch honeypot: the REST API of a
// 7.x cluster left open (or an 8.x one with security on) over bait
// indices, answering with the real product's header order, JSON layout
// and error bodies, and recording every request, every credential and
// every step of the wipe-and-ransom-note attack.
package elasticsearch

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Event field limits.
const (
	maxLogBody  = 4096
	maxLogField = 1024
)

// Server is one decky's Elasticsearch node: a single-node cluster whose
// indices all its connections share.
type Server struct {
	cfg     service.Config
	p       *Persona
	rel     release
	now     func() time.Time
	build   string // build_type
	node    string // node.name
	cluster string
	uuid    string // cluster_uuid
	nodeID  string
	started time.Time
	tls     *tls.Config // nil for plain HTTP

	mu      sync.Mutex
	indices map[string]*index
	repos   map[string]any // snapshot repositories registered by clients
	persist obj            // persistent cluster settings set by clients
	kept    int            // bytes of clients' data kept (maxKept)
}

func newServer(cfg service.Config, p *Persona) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, p: p, rel: releases[p.Version], now: time.Now, repos: map[string]any{}, build: p.buildType(cfg.Host.Distro)}
	s.node = p.NodeName
	if s.node == "" {
		s.node = cfg.Host.Hostname
	}
	if s.node == "" {
		s.node = "node-1"
	}
	s.cluster = p.ClusterName
	if s.cluster == "" {
		s.cluster = "elasticsearch"
		if s.build == "docker" {
			s.cluster = "docker-cluster"
		}
	}
	s.uuid = esUUID(cfg.Host.Name, "cluster")
	s.nodeID = esUUID(cfg.Host.Name, "node")
	now := s.now()
	s.started = now.Add(-time.Duration(seeded(cfg.Host.Name, "uptime").IntN(40*24*3600)+3600) * time.Second)
	s.indices = seedIndices(cfg.Host.Name, p.Bait, s.started, now)
	return s
}

// Serve answers the HTTP port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return errors.New("elasticsearch: no listener for port 9200")
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// handle serves one connection's requests until the client or the
// keep-alive rules of HTTP end it.
func (s *Server) handle(ctx context.Context, c *service.Conn) {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReaderSize(c, 4096)
	if s.tls != nil {
		tc, ok := s.startTLS(c, br)
		if !ok {
			return
		}
		s.serveHTTP(tc, bufio.NewReaderSize(tc, 4096))
		return
	}
	s.serveHTTP(c, br)
}

// serveHTTP reads and answers requests on c until the client or the
// keep-alive rules end the connection.
func (s *Server) serveHTTP(c net.Conn, br *bufio.Reader) {
	for {
		r, err := readRequest(br)
		var bad *badRequest
		if errors.As(err, &bad) {
			if r == nil {
				r = &request{version: "HTTP/1.1"}
			}
			resp := s.errorResp(r, 400, obj{{"type", bad.typ}, {"reason", bad.reason}})
			c.Write(render(r.version, resp, "", s.contextHeaders(resp), false))
			s.emitRequest(c, r, resp, "bad_request", "")
			return
		}
		if err != nil {
			return
		}
		if strings.EqualFold(r.get("Expect"), "100-continue") && r.version == "HTTP/1.1" {
			if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
				return
			}
		}
		if err := r.readBody(br); err != nil {
			if errors.As(err, &bad) {
				resp := s.errorResp(r, 400, obj{{"type", bad.typ}, {"reason", bad.reason}})
				c.Write(render(r.version, resp, "", s.contextHeaders(resp), false))
				s.emitRequest(c, r, resp, "bad_request", "")
			}
			return
		}
		resp, action, idx := s.serve(c, r)
		out := render(r.version, resp, r.get("X-Opaque-Id"), s.contextHeaders(resp), r.method == "HEAD")
		s.emitRequest(c, r, resp, action, idx)
		if _, err := c.Write(out); err != nil || !r.keepAlive() {
			return
		}
	}
}

// contextHeaders are the thread context's response headers in the order
// a two-entry HashMap iterates them: the product header (7.14 on), then
// the Warning values in the order they were added: on 7.13 to 7.17 with
// security implicitly off the security warning (added before any handler
// runs), then the handler's deprecation warnings.
func (s *Server) contextHeaders(resp *response) []header {
	var h []header
	if s.rel.atLeast(7, 14) {
		h = append(h, header{"X-elastic-product", "Elasticsearch"})
	}
	if s.rel.major() == 7 && s.rel.atLeast(7, 13) && !s.p.secured() && !s.p.ExplicitSecurityOff {
		h = append(h, s.warning("Elasticsearch built-in security features are not enabled. Without authentication, your cluster could be accessible to anyone. See https://www.elastic.co/guide/en/elasticsearch/reference/"+
			s.rel.number[:strings.LastIndexByte(s.rel.number, '.')]+"/security-minimal-setup.html to enable security."))
	}
	if resp != nil {
		for _, w := range resp.warnings {
			h = append(h, s.warning(w))
		}
	}
	return h
}

// warning is a Warning header as HeaderWarning formats it.
func (s *Server) warning(text string) header {
	return header{"Warning", `299 Elasticsearch-` + s.rel.number + `-` + s.rel.hash + ` "` + text + `"`}
}

// jsonType is the content type of JSON answers: 8.x dropped the charset,
// and echoes the compatible-with media type its own clients ask for.
func (s *Server) jsonType(r *request) string {
	if s.rel.major() < 8 {
		return "application/json; charset=UTF-8"
	}
	for _, h := range []string{r.get("Accept"), r.get("Content-Type")} {
		if i := strings.Index(h, "compatible-with="); i >= 0 && strings.Contains(h, "vnd.elasticsearch+") {
			v := strings.TrimSpace(h[i+len("compatible-with="):])
			if len(v) > 0 && v[0] >= '7' && v[0] <= '8' {
				return "application/vnd.elasticsearch+json;compatible-with=" + v[:1]
			}
		}
	}
	return "application/json"
}

const textType = "text/plain; charset=UTF-8"

// credentials are what a request's Authorization header carried.
type credentials struct {
	scheme, user, pass, token string
}

func parseAuthorization(v string) credentials {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return credentials{scheme: "basic", token: rest}
		}
		u, p, _ := strings.Cut(string(raw), ":")
		return credentials{scheme: "basic", user: u, pass: p}
	case "apikey":
		return credentials{scheme: "api_key", token: rest}
	case "bearer":
		return credentials{scheme: "bearer", token: rest}
	case "":
		return credentials{}
	}
	return credentials{scheme: strings.ToLower(scheme), token: rest}
}

// authenticate records the request's credentials and decides, when
// security is on, whether it may proceed; the user is "" for anonymous.
func (s *Server) authenticate(c net.Conn, r *request) (user string, denied *response) {
	cr := parseAuthorization(r.get("Authorization"))
	ok := false
	if cr.scheme == "basic" && cr.token == "" {
		for _, u := range s.p.Users {
			name, pass, _ := strings.Cut(u, ":")
			if name == cr.user && pass == cr.pass {
				ok = true
			}
		}
	}
	if cr.scheme != "" {
		s.emitAuth(c, r, cr, ok || !s.p.secured())
	}
	if !s.p.secured() {
		return cr.user, nil
	}
	if ok {
		return cr.user, nil
	}
	uri := r.target
	reason := "missing authentication credentials for REST request [" + uri + "]"
	switch {
	case cr.scheme == "basic" && cr.token == "":
		reason = "unable to authenticate user [" + cr.user + "] for REST request [" + uri + "]"
	case cr.scheme != "":
		reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
	}
	basic := `Basic realm="security" charset="UTF-8"`
	var hdr any = basic
	hs := []header{{"WWW-Authenticate", basic}}
	if s.rel.major() >= 8 {
		hdr = []any{basic, "ApiKey"}
		hs = append(hs, header{"WWW-Authenticate", "ApiKey"})
	}
	resp := s.errorResp(r, 401, obj{{"type", "security_exception"}, {"reason", reason}, {"header", obj{{"WWW-Authenticate", hdr}}}})
	resp.headers = hs
	return "", resp
}

func (s *Server) emitAuth(c net.Conn, r *request, cr credentials, success bool) {
	f := service.ConnFields(c)
	f["method"] = cr.scheme
	f[event.FieldPath] = event.Clip(r.target, maxLogField)
	f[event.FieldSuccess] = strconv.FormatBool(success)
	if cr.scheme == "basic" && cr.token == "" {
		f[event.FieldUsername] = event.Clip(cr.user, maxLogField)
		f[event.FieldPassword] = event.Clip(cr.pass, maxLogField)
	} else {
		f[event.FieldToken] = event.Clip(cr.token, maxLogField)
		f[event.FieldTokenType] = cr.scheme
		if cr.scheme == "api_key" {
			if raw, err := base64.StdEncoding.DecodeString(cr.token); err == nil {
				id, _, _ := strings.Cut(string(raw), ":")
				f["api_key_id"] = event.Clip(id, maxLogField)
			}
		}
	}
	s.cfg.Emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
}

// destructive actions are what ransomware crews and wipers do.
var destructive = map[string]bool{
	"index_delete": true, "index_create": true, "document_write": true, "bulk": true,
	"snapshot_repository": true, "snapshot_create": true, "cluster_settings_write": true, "delete_by_query": true,
}

func (s *Server) emitRequest(c net.Conn, r *request, resp *response, action, idx string) {
	f := service.ConnFields(c)
	f[event.FieldMethod] = event.Clip(r.method, 32)
	f[event.FieldPath] = event.Clip(r.path, maxLogField)
	f["query"] = event.Clip(r.rawQ, maxLogField)
	f["status"] = strconv.Itoa(resp.status)
	f["action"] = action
	if ua := r.get("User-Agent"); ua != "" {
		f[event.FieldUserAgent] = event.Clip(ua, maxLogField)
	}
	if ct := r.get("Content-Type"); ct != "" {
		f["content_type"] = event.Clip(ct, 256)
	}
	if len(r.body) > 0 {
		f["body"] = event.Clip(strings.ToValidUTF8(string(r.body), "\ufffd"), maxLogBody)
		f["body_size"] = strconv.FormatInt(r.size, 10)
	}
	if idx != "" {
		f["index"] = event.Clip(idx, maxLogField)
	}
	if len(r.headers) > 0 {
		hs := make([][2]string, 0, len(r.headers))
		for _, h := range r.headers[:min(len(r.headers), 32)] {
			hs = append(hs, [2]string{event.Clip(h.name, 128), event.Clip(h.value, 512)})
		}
		b, _ := json.Marshal(hs)
		f[event.FieldHeaders] = string(b)
	}
	sev := event.Info
	if destructive[action] {
		sev = event.Warning
	}
	s.cfg.Emit.Emit(event.Event{Type: event.TypeRequest, Severity: sev, Fields: f})
}
