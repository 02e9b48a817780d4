package k8s

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// identity is who the authenticator says made a request.
type identity struct {
	user   string
	groups []string
	admin  bool // authorized for everything
	failed bool // authentication failed: 401
}

var anonymous = identity{user: "system:anonymous", groups: []string{"system:unauthenticated"}}

// publicPaths are what system:public-info-viewer lets anyone GET.
var publicPaths = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/version": true, "/version/": true}

// authenticate reads the request's credentials as the apiserver's
// authenticators do (client certificate, then bearer token; basic auth is
// gone since v1.19, so its header is ignored), recording each credential
// the first time a connection shows it.
func (s *Server) authenticate(r *http.Request, cs *connState) identity {
	if cs.port == InsecurePort {
		return identity{user: "kubernetes-admin", groups: []string{"system:masters", "system:authenticated"}, admin: true}
	}
	id := anonymous
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		id = s.certIdentity(r, cs)
	}
	if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
		switch strings.ToLower(scheme) {
		case "bearer":
			if tok, _, _ := strings.Cut(cred, " "); tok != "" {
				return s.tokenIdentity(tok, cs)
			}
		case "basic":
			s.recordBasic(cred, cs)
		}
	}
	return id
}

func (s *Server) tokenIdentity(tok string, cs *connState) identity {
	user := jwtSubject(tok)
	accepted := s.p.Auth == authAccept
	if cs.firstSight("bearer " + tok) {
		f := copyMap(cs.fields)
		f[event.FieldToken] = event.Clip(tok, 8192)
		f[event.FieldTokenType] = "bearer"
		f[event.FieldSuccess] = strconv.FormatBool(accepted)
		if user != "" {
			f["subject"] = event.Clip(user, 256)
		}
		s.emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
	}
	if !accepted {
		return identity{failed: true}
	}
	if user == "" {
		user = "kubernetes-admin"
	}
	return identity{user: user, groups: []string{"system:authenticated"}, admin: true}
}

func (s *Server) certIdentity(r *http.Request, cs *connState) identity {
	leaf := r.TLS.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	fp := hex.EncodeToString(sum[:])
	_, err := leaf.Verify(x509.VerifyOptions{Roots: s.clientCAs, Intermediates: pool(r.TLS.PeerCertificates[1:]), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	accepted := err == nil || s.p.Auth == authAccept
	if cs.firstSight("cert " + fp) {
		f := copyMap(cs.fields)
		f[event.FieldToken] = fp
		f[event.FieldTokenType] = "client_cert"
		f[event.FieldUsername] = event.Clip(leaf.Subject.CommonName, 256)
		f[event.FieldSuccess] = strconv.FormatBool(accepted)
		groups, _ := json.Marshal(leaf.Subject.Organization)
		f["groups"] = event.Clip(string(groups), 1024)
		f["issuer"] = event.Clip(leaf.Issuer.String(), 512)
		f["not_after"] = stamp(leaf.NotAfter)
		s.emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
	}
	if !accepted {
		return identity{failed: true}
	}
	return identity{user: leaf.Subject.CommonName, groups: append(slices.Clone(leaf.Subject.Organization), "system:authenticated"), admin: true}
}

func (s *Server) recordBasic(cred string, cs *connState) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil || !cs.firstSight("basic "+string(raw)) {
		return
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	f := copyMap(cs.fields)
	f[event.FieldUsername] = event.Clip(user, 256)
	f[event.FieldPassword] = event.Clip(pass, 256)
	f[event.FieldMethod] = "basic"
	f[event.FieldSuccess] = "false"
	s.emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f})
}

// jwtSubject is the sub claim of a JWT (a service account token), unverified.
func jwtSubject(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// authorize is RBAC's answer for the request.
func authorize(id identity, ri reqInfo) bool {
	return id.admin || (!ri.resource && ri.verb == "get" && publicPaths[ri.path])
}

// flow is the API Priority and Fairness flow schema and priority level a
// request falls in, as kubeadm's default configuration classifies it.
func flow(id identity, ri reqInfo) (schema, level string) {
	switch {
	case slices.Contains(id.groups, "system:masters"):
		return "exempt", "exempt"
	case !ri.resource && (ri.path == "/healthz" || ri.path == "/livez" || ri.path == "/readyz"):
		return "probes", "exempt"
	case strings.HasPrefix(id.user, "system:serviceaccount:kube-system:"):
		return "kube-system-service-accounts", "workload-high"
	case strings.HasPrefix(id.user, "system:serviceaccount:"):
		return "service-accounts", "workload-low"
	}
	return "global-default", "global-default"
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}
