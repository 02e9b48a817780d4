// Package api is decnet's REST API: login and password change, the log
// and bounty feeds, dashboard counters and health, all under /api/v1 and
// all answering JSON, errors included.
//
// The API speaks to operators, never to attackers, but it still follows
// the project's rules: every body and parameter is bounded, decoding is
// strict, and no response carries Go's default texts.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"time"

	"decnet/internal/store"
)

// Prefix is the path every route lives under.
const Prefix = "/api/v1"

// DeckyInfo is what the API needs to know of one decky of the fleet.
type DeckyInfo struct {
	Name     string
	IP       string
	Services []string
	// Active is true while the runtime serves the decky; a decky that is
	// deployed but stopped or failed counts in deployed_deckies only.
	Active bool
}

// Check is one component /health reports.
type Check struct {
	Name string
	// Critical components make the API unhealthy (503) when failing;
	// others only make it degraded.
	Critical bool
	// Probe returns nil when the component works. It gets a context with
	// a short deadline and must honour it.
	Probe func(ctx context.Context) error
}

// Config is what New needs.
type Config struct {
	// Repo is the store; required. Its Ping is the "database" health
	// component (critical).
	Repo store.Repository
	// Logger receives the API's own logs; nil discards them.
	Logger *slog.Logger
	// JWTSecret signs access tokens (HS256); at least 32 bytes. See
	// LoadOrCreateJWTSecret.
	JWTSecret []byte
	// Fleet lists the deckies for /stats; nil means none.
	Fleet func() []DeckyInfo
	// Checks are the health components besides the database, typically
	// the workers (see WorkerHealth). Names must be unique.
	Checks []Check
}

// Server serves the API. Create it with New; it is safe for concurrent use.
type Server struct {
	repo    store.Repository
	log     *slog.Logger
	secret  []byte
	fleet   func() []DeckyInfo
	checks  []Check
	handler http.Handler

	// hashSlots bounds concurrent bcrypt work: each hash costs a core
	// for a quarter second, so a login flood must queue, not pile up.
	hashSlots chan struct{}
	// dummyHash is compared against when the username is unknown, so a
	// failed login takes as long whether or not the account exists.
	dummyHash []byte
}

// New checks cfg and builds the server. It spends one bcrypt hash
// (about a quarter second) preparing the timing decoy for unknown users.
func New(cfg Config) (*Server, error) {
	if cfg.Repo == nil {
		return nil, errors.New("api: no repository")
	}
	if len(cfg.JWTSecret) < minSecretBytes {
		return nil, fmt.Errorf("api: JWT secret shorter than %d bytes", minSecretBytes)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	checks := []Check{{Name: "database", Critical: true, Probe: cfg.Repo.Ping}}
	seen := map[string]bool{"database": true}
	for _, c := range cfg.Checks {
		switch {
		case c.Name == "" || c.Probe == nil:
			return nil, fmt.Errorf("api: health check %q needs a name and a probe", c.Name)
		case seen[c.Name]:
			return nil, fmt.Errorf("api: health check %q given twice", c.Name)
		}
		seen[c.Name] = true
		checks = append(checks, c)
	}
	dummy, err := hashPassword(randomPassword())
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{
		repo:      cfg.Repo,
		log:       log,
		secret:    append([]byte(nil), cfg.JWTSecret...),
		fleet:     cfg.Fleet,
		checks:    checks,
		hashSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		dummyHash: dummy,
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the API's handler. Mount it at the root of the server
// (routes carry their /api/v1 prefix). The caller owns the http.Server and
// its timeouts; see the package README for recommended values.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Prefix+"/auth/login", s.login)
	mux.Handle("POST "+Prefix+"/auth/change-password", s.guard(anyUser, s.changePassword))
	mux.Handle("GET "+Prefix+"/logs", s.guard(viewer, s.logs))
	mux.Handle("GET "+Prefix+"/bounty", s.guard(viewer, s.bounties))
	mux.Handle("GET "+Prefix+"/stats", s.guard(viewer, s.stats))
	mux.Handle("GET "+Prefix+"/health", s.guard(viewer, s.health))
	return s.recoverer(s.accessLog(jsonErrors(mux)))
}

// jsonErrors answers what mux cannot route (unknown path, wrong method)
// with our JSON errors instead of Go's plain text pages. Unclean paths
// ("//logs", "/./") are not found rather than redirected: API clients
// build their paths, and the redirect would carry Go's HTML body.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Clean(r.URL.Path) != r.URL.Path {
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &discardWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		writeError(w, http.StatusNotFound, "Not Found")
	})
}

// discardWriter records the status and headers a handler would send.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(p), nil
}

// recoverer turns a handler panic into a logged 500, not a dropped
// connection with Go's stack trace in our logs only.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, "Internal server error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog logs each request at debug level. The query is left out: it
// may hold search terms an operator would rather not see in logs.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Debug("api request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

// statusWriter remembers the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushing,
// per-request deadlines for streams).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
