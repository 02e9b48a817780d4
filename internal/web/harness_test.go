package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"decnet/internal/api"
	"decnet/internal/event"
	"decnet/internal/store"
)

// env is a dashboard over a real API and a real SQLite store, served on
// loopback by httptest.
type env struct {
	t     *testing.T
	repo  *store.SQL
	fleet *testFleet
	web   *Server
	ts    *httptest.Server
	logs  *logBuffer
}

var testSecret = []byte("0123456789abcdef0123456789abcdef-web-tests")

func newEnv(t *testing.T) *env {
	t.Helper()
	repo, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	e := &env{t: t, repo: repo, logs: &logBuffer{}}
	e.fleet = &testFleet{global: 30, deckies: []api.Decky{
		{Name: "web-01", IP: "127.77.0.10", Hostname: "web-prod-01", Distro: "debian12", Archetype: "web-server",
			OS: "linux", Services: []string{"ssh", "http"}, Active: true},
		{Name: "db-01", IP: "127.77.0.11", Hostname: "db-backup", Distro: "ubuntu22", Archetype: "database-server",
			OS: "linux", Services: []string{"ssh", "redis"}, Active: true},
	}}
	e.reconfigure(func(*api.Config) {})
	return e
}

// reconfigure serves the env's store and fleet through a new API built
// with its test configuration changed (developer mode, health checks,
// artifact directories, no fleet). Browsers keep their sessions: the
// tokens are the same store's, signed with the same secret, and cookies
// ignore the port.
func (e *env) reconfigure(change func(*api.Config)) {
	e.t.Helper()
	cfg := api.Config{Repo: e.repo, JWTSecret: testSecret, Fleet: e.fleet, Logger: e.logs.logger(),
		ArtifactDirs: func(string) []string { return nil }, PasswordCost: bcrypt.MinCost}
	change(&cfg)
	srv, err := api.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.web, err = New(Config{API: srv.Handler(), Secret: testSecret, Logger: e.logs.logger()}); err != nil {
		e.t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.web.Handler())
	e.t.Cleanup(e.ts.Close)
}

// addUser creates an account with a known password, hashed at bcrypt's
// lowest cost so that signing in costs tests little.
func (e *env) addUser(name, password, role string, mustChange bool) {
	e.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.repo.CreateUser(e.t.Context(), store.User{UUID: uuid.NewString(), Username: name, PasswordHash: string(hash),
		Role: role, MustChangePassword: mustChange}); err != nil {
		e.t.Fatal(err)
	}
}

// ingest stores events as the ingester would.
func (e *env) ingest(recs ...event.Record) {
	e.t.Helper()
	for i := range recs {
		if recs[i].Timestamp.IsZero() {
			recs[i].Timestamp = time.Now().UTC()
		}
		if recs[i].RawLine == "" {
			recs[i].RawLine = fmt.Sprintf("<134>1 %s %s %s - %s -", recs[i].Timestamp.Format(time.RFC3339),
				recs[i].Decky, recs[i].Service, recs[i].EventType)
		}
	}
	if err := e.repo.Ingest(e.t.Context(), recs, "test", []byte(uuid.NewString())); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a cookie-keeping client of the dashboard that follows
// redirects, like a browser without script.
type browser struct {
	e      *env
	client *http.Client
	// csrf is the token of the last page loaded.
	csrf string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// page is an answer: its final URL after redirects, status and body.
type page struct {
	URL    *url.URL
	Status int
	Body   string
	Header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	p := page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body), Header: resp.Header}
	if m := csrfMeta.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get loads a page.
func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(b.e.t.Context(), http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form as the page's own form would: with the CSRF token
// of the last page loaded, and the Origin a browser sends.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f["csrf"]; !ok && b.csrf != "" {
		f.Set("csrf", b.csrf)
	}
	req, err := http.NewRequestWithContext(b.e.t.Context(), http.MethodPost, b.e.ts.URL+path, strings.NewReader(f.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// login signs in through the form and fails the test unless it lands on
// a page of the dashboard.
func (b *browser) login(user, password string) page {
	b.e.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {user}, "password": {password}})
	if p.Status != http.StatusOK || p.URL.Path == "/login" {
		b.e.t.Fatalf("login as %s: %d at %s:\n%s", user, p.Status, p.URL, p.Body)
	}
	return p
}

// signedIn returns a browser logged in as a new user of role.
func (e *env) signedIn(role string) *browser {
	e.t.Helper()
	name := role + "-user"
	e.addUser(name, "password-of-"+name, role, false)
	b := e.browser()
	b.login(name, "password-of-"+name)
	return b
}

// testFleet is a FleetControl in memory that records the changes asked.
type testFleet struct {
	mu       sync.Mutex
	deckies  []api.Decky
	global   int
	mutated  []string
	deployed []string
}

func (f *testFleet) Deckies() []api.Decky {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Decky(nil), f.deckies...)
}

func (f *testFleet) Mutate(_ context.Context, name string) error {
	return f.change(name, func(d *api.Decky) {
		now := time.Now().UTC()
		d.LastMutated = &now
		f.mutated = append(f.mutated, name)
	})
}

func (f *testFleet) SetMutateInterval(_ context.Context, name string, minutes *int) error {
	return f.change(name, func(d *api.Decky) { d.MutateInterval = minutes })
}

func (f *testFleet) change(name string, do func(*api.Decky)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.deckies {
		if f.deckies[i].Name == name {
			do(&f.deckies[i])
			return nil
		}
	}
	return fmt.Errorf("decky %q: %w", name, api.ErrUnknownDecky)
}

func (f *testFleet) GlobalMutateInterval() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.global
}

func (f *testFleet) SetGlobalMutateInterval(_ context.Context, minutes int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.global = minutes
	return nil
}

func (f *testFleet) Deploy(_ context.Context, ini string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(ini, "invalid") {
		return fmt.Errorf("line 1: not an INI section: %w", api.ErrInvalid)
	}
	f.deployed = append(f.deployed, ini)
	return nil
}

var _ api.FleetControl = (*testFleet)(nil)
