package api

import (
	"errors"
	"net/http"
	"testing"

	"decnet/internal/store"
)

// FuzzQueryParams feeds raw query strings to the /logs and /bounty
// parameter parsers: each either refuses with a 400 or yields a query
// within the documented bounds.
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
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		lq, err := logQuery(raw)
		if err != nil {
			requireBadRequest(t, err)
		} else {
			requirePage(t, lq.Limit, lq.Offset)
			if len(lq.Search) > maxSearchBytes {
				t.Fatalf("search of %d bytes accepted", len(lq.Search))
			}
			if !lq.Since.IsZero() && !lq.Until.IsZero() && !lq.Since.Before(lq.Until) {
				t.Fatalf("empty window accepted: %v .. %v", lq.Since, lq.Until)
			}
			if lq.Since.Location().String() != "UTC" || lq.Until.Location().String() != "UTC" {
				t.Fatalf("times not in UTC: %v %v", lq.Since, lq.Until)
			}
		}
		bq, err := bountyQuery(raw)
		if err != nil {
			requireBadRequest(t, err)
			return
		}
		requirePage(t, bq.Limit, bq.Offset)
		if len(bq.Search) > maxSearchBytes || len(bq.Type) > maxTypeBytes {
			t.Fatalf("oversized bounty query accepted: %+v", bq)
		}
	})
}

func requireBadRequest(t *testing.T, err error) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != http.StatusBadRequest || ae.detail == "" {
		t.Fatalf("error %v is not a 400 with a detail", err)
	}
}

func requirePage(t *testing.T, limit, offset int) {
	t.Helper()
	if limit < 1 || limit > maxLimit || offset < 0 || offset > maxOffset {
		t.Fatalf("page out of bounds: limit %d offset %d", limit, offset)
	}
}

// FuzzLoginBody posts arbitrary bodies to /auth/login: every answer is a
// JSON error (or a token for the one right password), never a 500.
func FuzzLoginBody(f *testing.F) {
	for _, seed := range []string{
		`{"username":"alice","password":"correct horse"}`,
		`{"username":"alice","password":"wrong"}`,
		`{"username":"alice","password":"x","extra":1}`,
		`{"username":["a"]}`,
		`{"username":"a"} trailing`,
		`null`,
		``,
	} {
		f.Add([]byte(seed))
	}
	fx := &fixture{repo: newFakeRepo()}
	srv, err := New(Config{Repo: fx.repo, JWTSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	fx.srv = srv
	h, err := hashPassword("correct horse")
	if err != nil {
		f.Fatal(err)
	}
	fx.repo.CreateUser(f.Context(), store.User{UUID: "u-alice", Username: "alice", PasswordHash: string(h), Role: store.RoleViewer})
	f.Fuzz(func(t *testing.T, body []byte) {
		r := newRequest("POST", "/api/v1/auth/login", string(body))
		r.Header.Set("Content-Type", "application/json")
		rec := serve(fx, r)
		m := decode(t, rec)
		switch rec.Code {
		case http.StatusOK:
			if m["access_token"] == "" {
				t.Fatalf("200 without a token: %v", m)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			if d, _ := m["detail"].(string); d == "" {
				t.Fatalf("%d without a detail: %v", rec.Code, m)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
