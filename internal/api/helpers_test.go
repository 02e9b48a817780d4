package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

func TestMain(m *testing.M) {
	bcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

var testSecret = []byte("k3Y-for-tests-only-9f8e7d6c5b4a39281706")

type fixture struct {
	srv  *Server
	repo *fakeRepo
	// db is the store when it is not repo (see newSQLiteFixture).
	db store.Repository
}

// newFixture builds a server over a fake store; edit adjusts the config.
func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	repo := newFakeRepo()
	cfg := Config{Repo: repo, JWTSecret: testSecret}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{srv: srv, repo: repo}
}

// openSQLite opens a new SQLite store in the test's temporary directory.
func openSQLite(t *testing.T) *store.SQLite {
	t.Helper()
	repo, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "decnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// newSQLiteFixture builds a server over a new SQLite store; edit adjusts
// the config. Its repo is nil.
func newSQLiteFixture(t *testing.T, edit func(*Config)) (*fixture, *store.SQLite) {
	t.Helper()
	db := openSQLite(t)
	cfg := Config{Repo: db, JWTSecret: testSecret}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{srv: srv, db: db}, db
}

func (f *fixture) store() store.Repository {
	if f.db != nil {
		return f.db
	}
	return f.repo
}

func (f *fixture) addUser(t *testing.T, name, pw, role string, mustChange bool) store.User {
	t.Helper()
	h, err := hashPassword(pw, bcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{UUID: uuid.NewString(), Username: name, PasswordHash: string(h), Role: role, MustChangePassword: mustChange}
	if err := f.store().CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) token(t *testing.T, u store.User) string {
	t.Helper()
	tok, err := f.srv.issueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request; a non-empty body is sent as JSON.
func (f *fixture) do(t *testing.T, method, target, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := newRequest(method, target, body)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return serve(f, req)
}

func newRequest(method, target, body string) *http.Request {
	return httptest.NewRequest(method, target, strings.NewReader(body))
}

func serve(f *fixture, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, r)
	return rec
}

// unsetEnv removes an environment variable for the test's duration.
func unsetEnv(t *testing.T, key string) {
	t.Setenv(key, "")
	os.Unsetenv(key)
}

// decode parses a JSON object response, failing the test unless an error
// status comes as a problem document and any other as application/json.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	want := "application/json"
	if rec.Code >= 400 {
		want = "application/problem+json"
	}
	return decodeAs(t, rec, want)
}

// decodeAs parses a JSON object response of Content-Type ct.
func decodeAs(t *testing.T, rec *httptest.ResponseRecorder, ct string) map[string]any {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); got != ct {
		t.Fatalf("Content-Type = %q, want %s (body %q)", got, ct, rec.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, rec.Body.String())
	}
	return m
}

// expect checks status and, when want is non-empty, the detail of an
// error body.
func expect(t *testing.T, rec *httptest.ResponseRecorder, status int, want string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	m := decode(t, rec)
	if want != "" {
		if got, _ := m["detail"].(string); !strings.Contains(got, want) {
			t.Fatalf("detail = %q, want it to contain %q", got, want)
		}
	}
	return m
}

// expectJSON checks status and a JSON body that is not a problem
// document (an unhealthy /health still reports its components).
func expectJSON(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	return decodeAs(t, rec, "application/json")
}

// expectInvalid checks a refused request: status (400 or 422) with a
// problem whose errors name location and say msg.
func expectInvalid(t *testing.T, rec *httptest.ResponseRecorder, status int, location, msg string) {
	t.Helper()
	m := expect(t, rec, status, "")
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("no detail: %v", m)
	}
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		e, _ := e.(map[string]any)
		got, _ := e["message"].(string)
		if e["location"] == location && strings.Contains(got, msg) {
			return
		}
	}
	t.Fatalf("no error at %q saying %q: %s", location, msg, rec.Body.String())
}

// settableClock is a clock tests move by hand, for the login limiter and
// the read cache.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSettableClock() *settableClock {
	return &settableClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// uncached makes every read of f reach the store: its cache lives on a
// clock that moves past the cache's lifetime (stale service included) at
// each read.
func (f *fixture) uncached() {
	clk := newSettableClock()
	f.srv.cache.now = func() time.Time {
		clk.advance(cacheMaxTTL + staleForCostly + time.Second)
		return clk.now()
	}
}

// captureLogs makes cfg's logger write to the returned capture.
func captureLogs(cfg *Config) *testutil.Logs {
	c := &testutil.Logs{}
	cfg.Logger = c.Logger()
	return c
}
