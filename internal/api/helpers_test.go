package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"decnet/internal/store"
)

func TestMain(m *testing.M) {
	bcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

var testSecret = []byte("k3Y-for-tests-only-9f8e7d6c5b4a39281706")

type fixture struct {
	srv  *Server
	repo *fakeRepo
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

func (f *fixture) addUser(t *testing.T, name, pw, role string, mustChange bool) store.User {
	t.Helper()
	h, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{UUID: uuid.NewString(), Username: name, PasswordHash: string(h), Role: role, MustChangePassword: mustChange}
	if err := f.repo.CreateUser(t.Context(), u); err != nil {
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

// decode parses a JSON response into a generic map, failing the test on
// a non-JSON response.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json (body %q)", ct, rec.Body.String())
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
