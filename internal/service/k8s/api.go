package k8s

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// reply is one response in the making.
type reply struct {
	w      http.ResponseWriter
	r      *http.Request
	status int
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		cs = &connState{seen: map[string]bool{}, fields: map[string]string{}}
	}
	var body []byte
	var tooLarge bool
	if r.Body != nil {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var mbe *http.MaxBytesError
		tooLarge = errors.As(err, &mbe)
		body = b
	}
	ri := parseRequest(r.Method, r.URL.Path, r.URL.Query())
	id := s.authenticate(r, cs)
	rp := &reply{w: w, r: r}
	h := w.Header()
	h.Set("Audit-Id", newUUID())
	h.Set("Cache-Control", "no-cache, private")
	allowed := !id.failed && authorize(id, ri)
	if !allowed && ri.resource && ri.verb == "create" && ri.subresource == "" {
		// A refused creation still says what the attacker meant to run.
		s.recordCreate(ri, body, cs, false)
	}
	switch {
	case id.failed:
		s.writeStatus(rp, 401, "Unauthorized", "Unauthorized", nil)
	default:
		fs, pl := flow(id, ri)
		h.Set("X-Kubernetes-Pf-Flowschema-Uid", s.uid("flowschema/"+fs))
		h.Set("X-Kubernetes-Pf-Prioritylevel-Uid", s.uid("prioritylevel/"+pl))
		switch {
		case !allowed:
			s.forbidden(rp, id, ri)
		case tooLarge:
			s.writeStatus(rp, 413, "Request entity too large: limit is 3145728", "RequestEntityTooLarge", nil)
		case ri.resource:
			s.serveResource(rp, ri, id, body, cs)
		default:
			s.serveNonResource(rp, ri)
		}
	}
	s.record(r, rp.status, ri, id, body, cs)
}

// record emits the request event.
func (s *Server) record(r *http.Request, status int, ri reqInfo, id identity, body []byte, cs *connState) {
	f := copyMap(cs.fields)
	f[event.FieldMethod] = event.Clip(r.Method, 32)
	f[event.FieldPath] = event.Clip(r.URL.Path, 2048)
	if r.URL.RawQuery != "" {
		f["query"] = event.Clip(r.URL.RawQuery, 2048)
	}
	f["status"] = strconv.Itoa(status)
	f["proto"] = r.Proto
	if id.user != "" {
		f["user"] = event.Clip(id.user, 256)
	}
	if ri.resource {
		f["verb"] = event.Clip(ri.verb, 64)
		f["resource"] = event.Clip(ri.fullResource(), 256)
		if ri.namespace != "" {
			f["namespace"] = event.Clip(ri.namespace, 256)
		}
		if ri.name != "" {
			f["name"] = event.Clip(ri.name, 256)
		}
	}
	if ua := r.UserAgent(); ua != "" {
		f[event.FieldUserAgent] = event.Clip(ua, 512)
	}
	if hb, err := json.Marshal(r.Header); err == nil {
		f[event.FieldHeaders] = event.Clip(string(hb), 8192)
	}
	if len(body) > 0 {
		f["body"] = event.Clip(string(body), 8192)
	}
	s.emit.Emit(event.Event{Type: event.TypeRequest, Severity: event.Info, Fields: f})
}

// pretty is the apiserver's rule for indenting JSON: ?pretty, or a
// browser or command-line HTTP client.
func pretty(r *http.Request) bool {
	if p := r.URL.Query().Get("pretty"); p != "" {
		b, _ := strconv.ParseBool(p)
		return b
	}
	ua := r.UserAgent()
	return strings.HasPrefix(ua, "curl") || strings.HasPrefix(ua, "Wget") || strings.HasPrefix(ua, "Mozilla/5.0")
}

// writeJSON writes v as the apiserver's JSON serializer does: indented
// without a final newline when pretty, else compact with one.
func (s *Server) writeJSON(rp *reply, status int, v any) {
	var b []byte
	var err error
	if pretty(rp.r) {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
		b = append(b, '\n')
	}
	if err != nil {
		status, b = 500, []byte("{}\n")
	}
	s.writeRaw(rp, status, "application/json", b)
}

func (s *Server) writeRaw(rp *reply, status int, ctype string, b []byte) {
	rp.status = status
	rp.w.Header().Set("Content-Type", ctype)
	rp.w.WriteHeader(status)
	if rp.r.Method != http.MethodHead {
		rp.w.Write(b)
	}
}

// writeStatus writes a failure Status.
func (s *Server) writeStatus(rp *reply, code int, msg, reason string, details obj) {
	st := obj{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", obj{}}, {"status", "Failure"}, {"message", msg}}
	if reason != "" {
		st = append(st, kv{"reason", reason})
	}
	if details != nil {
		st = append(st, kv{"details", details})
	}
	s.writeJSON(rp, code, append(st, kv{"code", code}))
}

func details(name, group, kind string) obj {
	d := obj{}
	if name != "" {
		d = append(d, kv{"name", name})
	}
	if group != "" {
		d = append(d, kv{"group", group})
	}
	if kind != "" {
		d = append(d, kv{"kind", kind})
	}
	return d
}

// qualified is a GroupResource's String: "pods", "deployments.apps".
func qualified(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// forbidden is responsewriters.Forbidden with RBAC's message.
func (s *Server) forbidden(rp *reply, id identity, ri reqInfo) {
	rp.w.Header().Set("X-Content-Type-Options", "nosniff")
	var msg string
	switch {
	case !ri.resource:
		msg = fmt.Sprintf("User %q cannot %s path %q", id.user, ri.verb, ri.path)
	case ri.namespace != "":
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", id.user, ri.verb, ri.fullResource(), ri.group, ri.namespace)
	default:
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", id.user, ri.verb, ri.fullResource(), ri.group)
	}
	qr := qualified(ri.group, ri.kind)
	switch {
	case qr == "":
		msg = "forbidden: " + msg
	case ri.name != "":
		msg = fmt.Sprintf("%s %q is forbidden: %s", qr, ri.name, msg)
	default:
		msg = qr + " is forbidden: " + msg
	}
	s.writeStatus(rp, 403, msg, "Forbidden", details(ri.name, ri.group, ri.kind))
}

// notFound is the apiserver's answer for a path it does not serve.
func (s *Server) notFound(rp *reply) {
	s.writeStatus(rp, 404, "the server could not find the requested resource", "NotFound", obj{})
}

func (s *Server) objectNotFound(rp *reply, ri reqInfo) {
	s.writeStatus(rp, 404, fmt.Sprintf("%s %q not found", qualified(ri.group, ri.kind), ri.name), "NotFound", details(ri.name, ri.group, ri.kind))
}

func (s *Server) serveNonResource(rp *reply, ri reqInfo) {
	p := strings.TrimSuffix(ri.path, "/")
	if rp.r.Method != http.MethodGet && rp.r.Method != http.MethodHead {
		s.notFound(rp)
		return
	}
	switch {
	case ri.path == "/":
		s.writeJSON(rp, 200, obj{{"paths", rootPaths()}})
	case p == "/version":
		v := obj{{"major", "1"}, {"minor", strings.Split(s.rel.GitVersion, ".")[1]}, {"gitVersion", s.rel.GitVersion}, {"gitCommit", s.rel.GitCommit},
			{"gitTreeState", "clean"}, {"buildDate", s.rel.BuildDate}, {"goVersion", s.rel.GoVersion}, {"compiler", "gc"}, {"platform", "linux/amd64"}}
		b, _ := json.MarshalIndent(v, "", "  ")
		s.writeRaw(rp, 200, "application/json", b)
	case p == "/healthz" || p == "/livez" || p == "/readyz" || strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/"):
		rp.w.Header().Set("X-Content-Type-Options", "nosniff")
		s.writeRaw(rp, 200, "text/plain; charset=utf-8", []byte("ok"))
	case p == "/api":
		s.writeJSON(rp, 200, obj{{"kind", "APIVersions"}, {"versions", []string{"v1"}},
			{"serverAddressByClientCIDRs", []obj{{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", s.ip + ":6443"}}}}})
	case p == "/apis":
		s.writeJSON(rp, 200, obj{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups(discovery128)}})
	case p == "/openapi/v2":
		if strings.Contains(rp.r.Header.Get("Accept"), "protobuf") {
			s.writeRaw(rp, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", s.openAPIv2())
			return
		}
		s.writeJSON(rp, 200, obj{{"swagger", "2.0"}, {"info", obj{{"title", "Kubernetes"}, {"version", s.rel.GitVersion}}}, {"paths", obj{}}})
	case p == "/openapi/v3":
		s.writeJSON(rp, 200, s.openAPIRoot())
	case strings.HasPrefix(p, "/openapi/v3/"):
		if doc, ok := s.openAPIDoc(strings.TrimPrefix(p, "/openapi/v3/")); ok {
			s.writeJSON(rp, 200, doc)
			return
		}
		s.notFound(rp)
	case p == "/api/v1":
		s.resourceList(rp, "", "v1")
	case strings.HasPrefix(p, "/apis/"):
		parts := strings.Split(strings.TrimPrefix(p, "/apis/"), "/")
		if len(parts) == 2 {
			s.resourceList(rp, parts[0], parts[1])
			return
		}
		for _, g := range groups(discovery128) {
			if g.Name == parts[0] {
				g.Kind, g.APIVersion = "APIGroup", "v1"
				s.writeJSON(rp, 200, g)
				return
			}
		}
		s.notFound(rp)
	default:
		s.notFound(rp)
	}
}

func (s *Server) resourceList(rp *reply, group, version string) {
	gv, ok := lookup(discovery128, group, version)
	if !ok {
		s.notFound(rp)
		return
	}
	l := obj{{"kind", "APIResourceList"}}
	if group != "" {
		l = append(l, kv{"apiVersion", "v1"})
	}
	s.writeJSON(rp, 200, append(l, kv{"groupVersion", gv.String()}, kv{"resources", gv.resources}))
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// healthChecks are the checks of /healthz, /livez and /readyz that a
// v1.28 apiserver lists at its root.
var healthChecks = []string{"autoregister-completion", "etcd", "log", "ping", "poststarthook/aggregator-reload-proxy-client-cert",
	"poststarthook/apiservice-discovery-controller", "poststarthook/apiservice-openapi-controller", "poststarthook/apiservice-openapiv3-controller",
	"poststarthook/apiservice-registration-controller", "poststarthook/apiservice-status-available-controller", "poststarthook/bootstrap-controller",
	"poststarthook/crd-informer-synced", "poststarthook/generic-apiserver-start-informers", "poststarthook/kube-apiserver-autoregistration",
	"poststarthook/priority-and-fairness-config-consumer", "poststarthook/priority-and-fairness-config-producer", "poststarthook/priority-and-fairness-filter",
	"poststarthook/rbac/bootstrap-roles", "poststarthook/scheduling/bootstrap-system-priority-classes", "poststarthook/start-apiextensions-controllers",
	"poststarthook/start-apiextensions-informers", "poststarthook/start-cluster-authentication-info-controller", "poststarthook/start-deprecated-kube-apiserver-identity-lease-garbage-collector",
	"poststarthook/start-kube-aggregator-informers", "poststarthook/start-kube-apiserver-admission-initializer", "poststarthook/start-kube-apiserver-identity-lease-controller",
	"poststarthook/start-kube-apiserver-identity-lease-garbage-collector", "poststarthook/start-legacy-token-tracking-controller", "poststarthook/start-service-ip-repair-controllers",
	"poststarthook/start-system-namespaces-controller", "poststarthook/storage-object-count-tracker-hook"}

// rootPaths is what GET / lists to an authorized user, sorted as the
// apiserver sorts them.
func rootPaths() []string {
	paths := []string{"/.well-known/openid-configuration", "/api", "/api/v1", "/apis", "/apis/", "/logs", "/metrics",
		"/openapi/v2", "/openapi/v3", "/openapi/v3/", "/openid/v1/jwks", "/version"}
	for _, g := range groups(discovery128) {
		paths = append(paths, "/apis/"+g.Name)
		for _, v := range g.Versions {
			paths = append(paths, "/apis/"+v.GroupVersion)
		}
	}
	for _, h := range []string{"/healthz", "/livez", "/readyz"} {
		paths = append(paths, h)
		for _, c := range healthChecks {
			paths = append(paths, h+"/"+c)
		}
	}
	slices.Sort(paths)
	return paths
}
