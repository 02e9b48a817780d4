// Package api is decnet's REST API under /api/v1: auth, logs, bounties,
// attackers, fleet, configuration, users, health and a live stream, all
// JSON, described by an OpenAPI 3.1 document generated from the same Go
// types that serve the routes (huma on net/http's ServeMux).
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

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"golang.org/x/crypto/bcrypt"

	"decnet/internal/store"
)

// Prefix is the path every route lives under.
const Prefix = "/api/v1"

// Decky is one decky of the fleet as the API shows it.
type Decky struct {
	Name      string `json:"name"`
	IP        string `json:"ip"`
	Hostname  string `json:"hostname"`
	Distro    string `json:"distro"`
	Archetype string `json:"archetype,omitempty"`
	OS        string `json:"os"`
	// MAC is the decky's own hardware address, where the runtime gives it
	// one (docker on macvlan): what the LAN's switches and IDS see.
	MAC      string   `json:"mac,omitempty"`
	Services []string `json:"services"`
	// ServiceConfig holds the persona keys per service.
	ServiceConfig map[string]map[string]string `json:"service_config"`
	// Ports maps each service to the TCP port it actually listens on (after
	// any shift of the runtime), for commands that attack the decky.
	Ports map[string]int `json:"ports"`
	// MutateInterval is in minutes; nil means the fleet's global interval.
	MutateInterval *int       `json:"mutate_interval"`
	LastMutated    *time.Time `json:"last_mutated"`
	// Active is true while the runtime serves the decky; a decky that is
	// deployed but stopped or failed counts in deployed_deckies only.
	Active bool `json:"active"`
}

// Errors a FleetControl returns, tested with errors.Is.
var (
	// ErrUnknownDecky: no decky has that name (404).
	ErrUnknownDecky = errors.New("unknown decky")
	// ErrNotSupported: the runtime cannot do this (501).
	ErrNotSupported = errors.New("not supported by this runtime")
	// ErrInvalid: the request is understood but refused, with the reason
	// in the error text (409), e.g. a bad INI or a fleet over its limit.
	ErrInvalid = errors.New("invalid")
)

// FleetControl is the running fleet as the API reads and steers it.
// Implementations are safe for concurrent use.
type FleetControl interface {
	Deckies() []Decky
	// Mutate gives a decky a new service set now.
	Mutate(ctx context.Context, name string) error
	// SetMutateInterval sets a decky's interval in minutes; nil returns
	// it to the global interval.
	SetMutateInterval(ctx context.Context, name string, minutes *int) error
	// GlobalMutateInterval is the interval in minutes of deckies without
	// their own; 0 disables scheduled mutation.
	GlobalMutateInterval() int
	SetGlobalMutateInterval(ctx context.Context, minutes int) error
	// Deploy adds or replaces the deckies an INI document describes
	// (ErrNotSupported when the runtime cannot, ErrInvalid for a bad
	// document).
	Deploy(ctx context.Context, ini string) error
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
	// Fleet is the running fleet; nil means none (the API alone).
	Fleet FleetControl
	// ArtifactDirs returns the directories that may hold a decky's
	// captured files (the file_captured event's stored_as names a file
	// in one of them); nil means artifacts cannot be downloaded.
	ArtifactDirs func(decky string) []string
	// Developer enables routes for development only (DELETE /config/reinit
	// needs it besides the admin role).
	Developer bool
	// Checks are the health components besides the database, typically
	// the workers (see WorkerHealth). Names must be unique.
	Checks []Check
	// Version is the program version the OpenAPI document names.
	Version string
	// PasswordCost is the bcrypt work factor of the hashes the server
	// makes (new and reset passwords, the unknown-user decoy); 0 means 12.
	// Tests lower it to bcrypt's minimum of 4.
	PasswordCost int
}

// Server serves the API. Create it with New; it is safe for concurrent use.
type Server struct {
	repo    store.Repository
	log     *slog.Logger
	secret  []byte
	fleet   FleetControl
	artDirs func(decky string) []string
	dev     bool
	checks  []Check
	api     huma.API
	handler http.Handler

	// hashSlots bounds concurrent bcrypt work: each hash costs a core
	// for a quarter second, so a login flood must queue, not pile up.
	hashSlots chan struct{}
	// dummyHash is compared against when the username is unknown, so a
	// failed login takes as long whether or not the account exists.
	dummyHash []byte
	hashCost  int        // bcrypt cost of new hashes
	streams   *streamHub // live streams (stream.go)
	cache     respCache  // recent reads shared between requests (cache.go)

	logins   *loginLimiter // failed logins per user and source (ratelimit.go)
	userLock chan struct{} // one user change at a time (users.go)
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
	cost := cfg.PasswordCost
	if cost == 0 {
		cost = bcryptCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("api: password cost %d outside bcrypt's %d–%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	dummy, err := hashPassword(randomPassword(), cost)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{
		repo:      cfg.Repo,
		log:       log,
		secret:    append([]byte(nil), cfg.JWTSecret...),
		fleet:     cfg.Fleet,
		artDirs:   cfg.ArtifactDirs,
		dev:       cfg.Developer,
		checks:    checks,
		hashSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		dummyHash: dummy,
		hashCost:  cost,
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	s.handler = s.routes(version)
	return s, nil
}

// Handler returns the API's handler. Mount it at the root of the server
// (routes carry their /api/v1 prefix). The caller owns the http.Server and
// its timeouts; see the package README for recommended values.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI returns the API's OpenAPI 3.1 document, as served at
// /api/v1/openapi.json.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// securityScheme is the OpenAPI name of bearer-token authentication.
const securityScheme = "bearer"

func (s *Server) routes(version string) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("decnet API", version)
	cfg.Info.Description = "Events, bounties and attacker profiles of a decoy fleet, and its administration. " +
		"Every route but login needs `Authorization: Bearer <token>`; errors are RFC 9457 problem documents."
	cfg.Servers = []*huma.Server{{URL: Prefix}}
	cfg.OpenAPIPath = "/openapi"
	// Our own docs page is rendered from the document (docs.go); huma's
	// loads its renderer from a CDN, which an offline sensor cannot reach.
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	// No $schema links in bodies: the response shapes are the documented
	// ones and nothing else.
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	s.api = humago.NewWithPrefix(mux, Prefix, cfg)
	s.registerAuth()
	s.registerFeeds()
	s.registerHealth()
	s.registerAttackers()
	s.registerFleet()
	s.registerStream()
	s.registerUsers()
	s.registerConfig()
	s.registerDocs()
	return s.recoverer(s.accessLog(jsonErrors(mux)))
}

// jsonErrors answers what mux cannot route (unknown path, wrong method)
// with our problem documents instead of Go's plain text pages, and sets
// the headers every response carries. Unclean paths ("//logs", "/./") are
// not found rather than redirected: API clients build their paths, and
// the redirect would carry Go's HTML body.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if path.Clean(r.URL.Path) != r.URL.Path {
			writeProblem(w, http.StatusNotFound, "Not Found")
			return
		}
		handler, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &discardWriter{header: http.Header{}}
		handler.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		writeProblem(w, http.StatusNotFound, "Not Found")
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
				writeProblem(w, http.StatusInternalServerError, "Internal server error")
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
	status      int
	wroteHeader bool
}

// WriteHeader forwards the first status only: when a client leaves in the
// middle of a body, huma answers the write error with an error status,
// which net/http would log as a superfluous WriteHeader on every
// disconnect.
func (w *statusWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.status, w.wroteHeader = code, true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (flushing,
// per-request deadlines for streams).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
