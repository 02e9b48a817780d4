// Package web is the dashboard: server-rendered pages over the REST API,
// with a little script for live updates, served at / beside the API.
//
// Every read and every change goes through the API handler in-process,
// with the signed-in user's own token, so the API's role checks, limits
// and caches are the only ones: a page never reaches the store itself.
// The browser holds that token in an HttpOnly, SameSite=Strict cookie
// and never sees it; state changes are HTML forms guarded by a CSRF token
// bound to the session and by net/http's cross-origin protection.
//
// What attackers control (usernames, passwords, commands, paths, user
// agents, keys, file names) reaches the page only through html/template's
// contextual escaping or, in the live views, through DOM text nodes.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config is what New needs.
type Config struct {
	// API is the REST API's handler (api.Server.Handler), serving
	// /api/v1. Required.
	API http.Handler
	// Secret derives the key that binds CSRF tokens to sessions; the
	// API's JWT secret serves, so tokens survive restarts. At least 32
	// bytes.
	Secret []byte
	// Logger receives the dashboard's own logs (CSP reports among them);
	// nil discards them.
	Logger *slog.Logger
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests, for a server behind a TLS-terminating proxy. Requests
	// that arrive over TLS get Secure cookies regardless.
	SecureCookies bool
}

// Server serves the dashboard. Create it with New; it is safe for
// concurrent use.
type Server struct {
	api     http.Handler
	log     *slog.Logger
	csrfKey []byte
	secure  bool
	pages   pages        // parsed templates (render.go)
	static  *staticFiles // embedded assets (static.go)
	revoked *revocations // tokens of sessions that logged out (session.go)
	handler http.Handler
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.API == nil {
		return nil, errors.New("web: no API handler")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("web: secret shorter than 32 bytes")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := loadStatic()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		api:     cfg.API,
		log:     log,
		csrfKey: deriveKey(cfg.Secret, "dashboard csrf key v1"),
		secure:  cfg.SecureCookies,
		static:  static,
		revoked: newRevocations(),
	}
	if s.pages, err = parsePages(static); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler serves the dashboard and, under /api/, the API it was given:
// mount it at the root of the server.
func (s *Server) Handler() http.Handler { return s.handler }

func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// contentSecurityPolicy admits only the dashboard's own script and style
// files: no inline script, no inline style, nothing from elsewhere, no
// framing. Violations are reported to /csp-report and logged.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; report-uri /csp-report"

// routes builds the dashboard's mux. Pages (GET) need a session; every
// other method also needs the session's CSRF token, and all of them pass
// net/http's cross-origin check first.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", s.api)
	mux.Handle("GET /static/{file}", http.HandlerFunc(s.static.serve))
	mux.HandleFunc("POST /csp-report", s.cspReport)

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("POST /logout", s.action(s.logout))
	mux.Handle("GET /password", s.session(s.passwordPage))
	mux.Handle("POST /password", s.action(s.changePassword))
	mux.Handle("POST /ui/ticket", s.action(s.streamTicket))

	s.registerPages(mux)

	mux.Handle("/", s.session(s.notFound))

	cop := http.NewCrossOriginProtection()
	// Browsers send violation reports without the page's cookies or
	// tokens, and a report carries nothing but text to log.
	cop.AddInsecureBypassPattern("POST /csp-report")
	return s.headers(cop.Handler(mux))
}

// headers sets what every dashboard response carries; the API sets its
// own (it has no pages).
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAPI(r) {
			h := w.Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// callTimeout bounds each API call of a page or form; a page whose data
// takes longer shows an error rather than hanging the browser. (A deploy
// may start many deckies; the API bounds its own work.)
const callTimeout = 2 * time.Minute
