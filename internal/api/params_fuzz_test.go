package api

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"decnet/internal/store"
)

// FuzzQueryParams sends raw query strings to /logs and /bounty: each is
// refused with a 400 or 422 problem before reaching the store, or reaches
// the store as a query within the documented bounds.
func FuzzQueryParams(f *testing.F) {
	for _, seed := range []string{
		"",
		"limit=10&offset=20&search=service%3Assh",
		"start_time=2024-05-01+10:00:00&end_time=2024-05-01T11:00:00Z",
		"start_time=2024-05-01T12:00:00+02:00",
		"limit=null&offset=undefined&bounty_type=credential",
		"limit=1&limit=2",
		"search=%zz",
		"offset=2147483648",
		"search&limit",
		"search=" + strings.Repeat("%C3%A9", 512),
	} {
		f.Add(seed)
	}
	fx := &fixture{repo: newFakeRepo()}
	srv, err := New(Config{Repo: fx.repo, JWTSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	fx.srv = srv
	fx.uncached()
	h, err := hashPassword("password1", bcryptCost)
	if err != nil {
		f.Fatal(err)
	}
	u := store.User{UUID: "u-v", Username: "v", PasswordHash: string(h), Role: store.RoleViewer}
	fx.repo.CreateUser(f.Context(), u)
	tok, err := srv.issueToken(u)
	if err != nil {
		f.Fatal(err)
	}
	unseen := store.LogQuery{Limit: -42}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsRune(raw, '#') || strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return // not a query string a client can send
		}
		fx.repo.mu.Lock()
		fx.repo.lastLogQuery, fx.repo.lastBountyQuery = unseen, store.BountyQuery{Limit: -42}
		fx.repo.mu.Unlock()
		rec := fx.do(t, "GET", "/api/v1/logs?"+raw, tok, "")
		lq := fx.repo.lastQuery()
		if !requireAnswer(t, rec) {
			if lq != unseen {
				t.Fatalf("refused query reached the store: %+v", lq)
			}
			return
		}
		requirePage(t, lq.Limit, lq.Offset)
		if n := utf8.RuneCountInString(lq.Search); n > 512 {
			t.Fatalf("search of %d characters accepted", n)
		}
		if !lq.Since.IsZero() && !lq.Until.IsZero() && !lq.Since.Before(lq.Until) {
			t.Fatalf("empty window accepted: %v .. %v", lq.Since, lq.Until)
		}
		if lq.Since.Location().String() != "UTC" || lq.Until.Location().String() != "UTC" {
			t.Fatalf("times not in UTC: %v %v", lq.Since, lq.Until)
		}
		rec = fx.do(t, "GET", "/api/v1/bounty?"+raw, tok, "")
		bq := fx.repo.lastBounty()
		if !requireAnswer(t, rec) {
			if bq.Limit != -42 {
				t.Fatalf("refused query reached the store: %+v", bq)
			}
			return
		}
		requirePage(t, bq.Limit, bq.Offset)
		if utf8.RuneCountInString(bq.Search) > 512 || utf8.RuneCountInString(bq.Type) > 64 {
			t.Fatalf("oversized bounty query accepted: %+v", bq)
		}
	})
}

// requireAnswer reports whether rec is a 200; anything else must be a
// 400 or 422 problem with a detail.
func requireAnswer(t *testing.T, rec *httptest.ResponseRecorder) bool {
	t.Helper()
	m := decode(t, rec)
	switch rec.Code {
	case http.StatusOK:
		return true
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		if d, _ := m["detail"].(string); d == "" {
			t.Fatalf("%d without a detail: %v", rec.Code, m)
		}
		return false
	}
	t.Fatalf("status %d: %s", rec.Code, rec.Body)
	return false
}

func requirePage(t *testing.T, limit, offset int) {
	t.Helper()
	if limit < 1 || limit > 1000 || offset < 0 || offset > math.MaxInt32 {
		t.Fatalf("page out of bounds: limit %d offset %d", limit, offset)
	}
}

// FuzzLoginBody posts arbitrary bodies to /auth/login: every answer is a
// problem with a detail (or a token for the one right password), never a
// 500. Each input meets a limiter with no failures counted, so inputs
// judge the body, not the ones fuzzed before them.
func FuzzLoginBody(f *testing.F) {
	for _, seed := range []string{
		`{"username":"alice","password":"correct horse"}`,
		`{"username":"alice","password":"wrong"}`,
		`{"username":"alice","password":"x","extra":1}`,
		`{"username":["a"]}`,
		`{"username":"a"} trailing`,
		`null`,
		``,
		`{"username":"alice","password":"` + strings.Repeat("é", 37) + `"}`,
		`{"username":"alice","password":"correct horse","password":"wrong"}`,
	} {
		f.Add([]byte(seed))
	}
	fx := &fixture{repo: newFakeRepo()}
	srv, err := New(Config{Repo: fx.repo, JWTSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	fx.srv = srv
	clk := newSettableClock()
	srv.logins.now = clk.now
	h, err := hashPassword("correct horse", bcryptCost)
	if err != nil {
		f.Fatal(err)
	}
	fx.repo.CreateUser(f.Context(), store.User{UUID: "u-alice", Username: "alice", PasswordHash: string(h), Role: store.RoleViewer})
	f.Fuzz(func(t *testing.T, body []byte) {
		clk.advance(loginWindow)
		r := newRequest("POST", "/api/v1/auth/login", string(body))
		r.Header.Set("Content-Type", "application/json")
		rec := serve(fx, r)
		m := decode(t, rec)
		switch rec.Code {
		case http.StatusOK:
			if tok, _ := m["access_token"].(string); tok == "" {
				t.Fatalf("200 without a token: %v", m)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if d, _ := m["detail"].(string); d == "" {
				t.Fatalf("%d without a detail: %v", rec.Code, m)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
