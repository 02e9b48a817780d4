package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

// viewerFixture is a fixture whose reads all reach the fake store, with
// a viewer's token.
func viewerFixture(t *testing.T, edit func(*Config)) (*fixture, string) {
	t.Helper()
	f := newFixture(t, edit)
	f.uncached()
	return f, f.token(t, f.addUser(t, "viewer", "password1", store.RoleViewer, false))
}

func TestLogsParams(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	inclusive := func(s string) time.Time { return utc(s).Add(time.Nanosecond) }
	tests := []struct {
		name  string
		query string
		want  store.LogQuery
		// location non-empty: a 422 whose errors say msg at location.
		location, msg string
	}{
		{name: "defaults", want: store.LogQuery{Limit: 50}},
		{name: "limit 1", query: "limit=1", want: store.LogQuery{Limit: 1}},
		{name: "limit 1000", query: "limit=1000", want: store.LogQuery{Limit: 1000}},
		{name: "limit 0", query: "limit=0", location: "query.limit", msg: "expected number >= 1"},
		{name: "limit 1001", query: "limit=1001", location: "query.limit", msg: "expected number <= 1000"},
		{name: "limit -1", query: "limit=-1", location: "query.limit", msg: "expected number >= 1"},
		{name: "limit text", query: "limit=ten", location: "query.limit", msg: "invalid integer"},
		{name: "limit float", query: "limit=1.5", location: "query.limit", msg: "invalid integer"},
		{name: "limit twice: the first counts", query: "limit=1&limit=2", want: store.LogQuery{Limit: 1}},
		{name: "limit twice, the second bad", query: "limit=1&limit=ten", want: store.LogQuery{Limit: 1}},
		{name: "offset", query: "offset=2147483647", want: store.LogQuery{Limit: 50, Offset: 2147483647}},
		{name: "offset too big", query: "offset=2147483648", location: "query.offset", msg: "expected number <= 2.147483647e+09"},
		{name: "offset negative", query: "offset=-1", location: "query.offset", msg: "expected number >= 0"},
		{name: "limit null is not absent", query: "limit=null", location: "query.limit", msg: "invalid integer"},
		{name: "offset undefined is not absent", query: "offset=undefined", location: "query.offset", msg: "invalid integer"},
		{name: "null-ish search is a search", query: "search=null", want: store.LogQuery{Limit: 50, Search: "null"}},
		{name: "null-ish time is a bad time", query: "start_time=NULL", location: "query.start_time", msg: "must be RFC 3339"},
		{name: "empty values are absent", query: "limit=&offset=&search=&start_time=&end_time=", want: store.LogQuery{Limit: 50}},
		{name: "search passthrough", query: "search=" + url.QueryEscape(`service:ssh "a b" user:root`),
			want: store.LogQuery{Limit: 50, Search: `service:ssh "a b" user:root`}},
		{name: "search 512 characters", query: "search=" + strings.Repeat("é", 512), want: store.LogQuery{Limit: 50, Search: strings.Repeat("é", 512)}},
		{name: "search 513 characters", query: "search=" + strings.Repeat("a", 513), location: "query.search", msg: "expected length <= 512"},
		{name: "dashboard times", query: "start_time=2024-05-01+10:00:00&end_time=2024-05-01%2011:00:00",
			want: store.LogQuery{Limit: 50, Since: utc("2024-05-01T10:00:00Z"), Until: inclusive("2024-05-01T11:00:00Z")}},
		{name: "rfc3339 with offset", query: "start_time=2024-05-01T12:00:00%2B02:00",
			want: store.LogQuery{Limit: 50, Since: utc("2024-05-01T10:00:00Z")}},
		{name: "unescaped plus", query: "start_time=2024-05-01T12:00:00+02:00",
			want: store.LogQuery{Limit: 50, Since: utc("2024-05-01T10:00:00Z")}},
		{name: "rfc3339 fraction", query: "end_time=2024-05-01T10:00:00.25Z",
			want: store.LogQuery{Limit: 50, Until: inclusive("2024-05-01T10:00:00.25Z")}},
		{name: "naive T", query: "start_time=2024-05-01T10:00:00", want: store.LogQuery{Limit: 50, Since: utc("2024-05-01T10:00:00Z")}},
		{name: "bad time", query: "start_time=yesterday", location: "query.start_time", msg: "must be RFC 3339 or YYYY-MM-DD HH:MM:SS"},
		{name: "bad month", query: "end_time=2024-13-01+00:00:00", location: "query.end_time", msg: "must be RFC 3339"},
		{name: "end before start", query: "start_time=2024-05-02+00:00:00&end_time=2024-05-01+00:00:00", location: "query.end_time", msg: "is before start_time"},
		// A value that does not unescape is read as empty: the filter is
		// dropped, never passed on raw.
		{name: "malformed escape", query: "search=%zz&limit=3", want: store.LogQuery{Limit: 3}},
		{name: "semicolon is not a separator", query: "limit=5;offset=3", location: "query.limit", msg: "invalid integer"},
		{name: "unknown params ignored", query: "foo=bar&limit=5", want: store.LogQuery{Limit: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.repo.lastLogQuery = store.LogQuery{Limit: -42}
			rec := f.do(t, "GET", "/api/v1/logs?"+tt.query, tok, "")
			if tt.location != "" {
				expectInvalid(t, rec, 422, tt.location, tt.msg)
				if f.repo.lastLogQuery.Limit != -42 {
					t.Fatal("bad parameters reached the store")
				}
				return
			}
			m := expect(t, rec, 200, "")
			// The page is read without its count (counted apart, cached).
			tt.want.NoTotal = true
			if got := f.repo.lastLogQuery; got != tt.want {
				t.Fatalf("store got %+v\nwant %+v", got, tt.want)
			}
			if m["limit"] != float64(tt.want.Limit) || m["offset"] != float64(tt.want.Offset) {
				t.Fatalf("page %v", m)
			}
		})
	}
}

func TestLogsRows(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	cest := time.FixedZone("CEST", 2*3600)
	f.repo.logs = []store.Log{
		{ID: 2, Timestamp: time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, cest), Decky: "web-01", Service: "http",
			EventType: "request", AttackerIP: "10.0.0.9", Fields: map[string]string{"path": "/admin", "headers": `{"A":"b"}`},
			RawLine: "<134>1 ... GET /admin"},
		{ID: 1, Timestamp: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC), Decky: "web-01", Service: "ssh",
			EventType: "connect", AttackerIP: "Unknown", RawLine: "<134>1 ... connect"},
	}
	rec := f.do(t, "GET", "/api/v1/logs?search=GET", tok, "")
	body := rec.Body.String()
	expect(t, rec, 200, "")
	want := `{"total":1,"limit":50,"offset":0,"data":[{"id":2,"timestamp":"2024-05-01T10:00:00.5Z","decky":"web-01",` +
		`"service":"http","event_type":"request","severity":0,"attacker_ip":"10.0.0.9",` +
		`"fields":{"headers":"{\"A\":\"b\"}","path":"/admin"},"msg":"","raw_line":"<134>1 ... GET /admin"}]}` + "\n"
	if body != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}

	rec = f.do(t, "GET", "/api/v1/logs?search=connect", tok, "")
	m := expect(t, rec, 200, "")
	row := m["data"].([]any)[0].(map[string]any)
	if fields, ok := row["fields"].(map[string]any); !ok || len(fields) != 0 {
		t.Fatalf("nil fields must encode as {}: %s", rec.Body.String())
	}

	rec = f.do(t, "GET", "/api/v1/logs?search=nothing-matches", tok, "")
	if !strings.Contains(rec.Body.String(), `"data":[]`) {
		t.Fatalf("empty page must have data []: %s", rec.Body.String())
	}
}

func TestStoreErrors(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	for _, tt := range []struct {
		err    error
		status int
		detail string
	}{
		{fmt.Errorf("%w: unterminated quote", store.ErrBadQuery), 422, "unterminated quote"},
		{errors.New("database is locked at /secret/path"), 500, "Internal server error"},
	} {
		f.repo.err = tt.err
		for _, path := range []string{"/api/v1/logs", "/api/v1/bounty"} {
			rec := f.do(t, "GET", path, tok, "")
			expect(t, rec, tt.status, tt.detail)
			if tt.status == 500 && strings.Contains(rec.Body.String(), "secret") {
				t.Fatal("internal error leaked")
			}
		}
	}
}

func TestBounty(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	f.repo.bounties = []store.Bounty{
		{ID: 7, Timestamp: time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("X", -3600)), Decky: "db-01", Service: "mysql",
			AttackerIP: "10.0.0.9", BountyType: store.BountyCredential, Payload: map[string]any{"username": "root", "password": "toor"}},
		{ID: 6, Timestamp: time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC), BountyType: store.BountyFingerprint},
	}
	tests := []struct {
		query    string
		want     store.BountyQuery
		location string // non-empty: a 422 naming it
	}{
		{"", store.BountyQuery{Limit: 50}, ""},
		{"bounty_type=credential&search=root&limit=10&offset=5", store.BountyQuery{Type: "credential", Search: "root", Limit: 10, Offset: 5}, ""},
		{"bounty_type=null", store.BountyQuery{Type: "null", Limit: 50}, ""},
		{"bounty_type=" + strings.Repeat("x", 64) + "&bounty_type=y", store.BountyQuery{Type: strings.Repeat("x", 64), Limit: 50}, ""},
		{"bounty_type=" + strings.Repeat("x", 65), store.BountyQuery{}, "query.bounty_type"},
		{"search=" + strings.Repeat("x", 513), store.BountyQuery{}, "query.search"},
		{"limit=0", store.BountyQuery{}, "query.limit"},
	}
	for _, tt := range tests {
		f.repo.lastBountyQuery = store.BountyQuery{Limit: -42}
		rec := f.do(t, "GET", "/api/v1/bounty?"+tt.query, tok, "")
		if tt.location != "" {
			expectInvalid(t, rec, 422, tt.location, "expected")
			if f.repo.lastBountyQuery.Limit != -42 {
				t.Fatalf("%q reached the store", tt.query)
			}
			continue
		}
		m := expect(t, rec, 200, "")
		if f.repo.lastBountyQuery != tt.want {
			t.Fatalf("%q: store got %+v want %+v", tt.query, f.repo.lastBountyQuery, tt.want)
		}
		rows := m["data"].([]any)
		first := rows[0].(map[string]any)
		if first["timestamp"] != "2024-05-01T13:00:00Z" || first["payload"].(map[string]any)["password"] != "toor" {
			t.Fatalf("row %v", first)
		}
		if p, ok := rows[1].(map[string]any)["payload"].(map[string]any); !ok || len(p) != 0 {
			t.Fatalf("nil payload must encode as {}: %v", rows[1])
		}
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		name  string
		fleet FleetControl
		want  string
	}{
		{"no fleet", nil, `{"total_logs":120,"unique_attackers":3,"active_deckies":0,"deployed_deckies":0,"total_bounties":4}`},
		{"fleet", newFakeFleet(
			Decky{Name: "a", IP: "127.77.0.10", Services: []string{"ssh"}, Active: true},
			Decky{Name: "b", IP: "127.77.0.11", Services: []string{"http", "ftp"}, Active: true},
			Decky{Name: "c", IP: "127.77.0.12", Active: false},
		), `{"total_logs":120,"unique_attackers":3,"active_deckies":2,"deployed_deckies":3,"total_bounties":4}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, tok := viewerFixture(t, func(c *Config) { c.Fleet = tt.fleet })
			f.repo.stats = store.Stats{TotalLogs: 120, UniqueAttackers: 3, TotalBounties: 4}
			rec := f.do(t, "GET", "/api/v1/stats", tok, "")
			expect(t, rec, 200, "")
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestServiceCounts(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	f.repo.services = []store.ServiceCount{{Service: "ssh", Count: 1234}, {Service: "http", Count: 56}, {Service: "ftp", Count: 7}}
	all := `[{"service":"ssh","count":1234},{"service":"http","count":56},{"service":"ftp","count":7}]`
	tests := []struct {
		query  string
		status int
		want   string // the body of a 200
	}{
		{"", 200, all},
		{"?limit=2", 200, `[{"service":"ssh","count":1234},{"service":"http","count":56}]`},
		{"?limit=1", 200, `[{"service":"ssh","count":1234}]`},
		{"?limit=100", 200, all},
		{"?limit=0", 422, ""},
		{"?limit=101", 422, ""},
		{"?limit=ten", 422, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			f.repo.mu.Lock()
			f.repo.lastServiceLimit = -1
			f.repo.mu.Unlock()
			rec := f.do(t, "GET", "/api/v1/stats/services"+tt.query, tok, "")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			f.repo.mu.Lock()
			asked := f.repo.lastServiceLimit
			f.repo.mu.Unlock()
			if tt.status != 200 {
				if asked != -1 {
					t.Fatalf("a refused query reached the store (limit %d)", asked)
				}
				return
			}
			// Every limit is cut from the longest list, so all share one cached read.
			if asked != maxServiceCounts {
				t.Fatalf("store asked for %d services, want %d", asked, maxServiceCounts)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
	f.repo.services = nil
	rec := f.do(t, "GET", "/api/v1/stats/services", tok, "")
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != "[]" {
		t.Fatalf("no logs: %d %s, want 200 []", rec.Code, got)
	}
	f.repo.err = errors.New("database is locked")
	expect(t, f.do(t, "GET", "/api/v1/stats/services", tok, ""), 500, "Internal server error")
}

func TestRouting(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	tests := []struct {
		method, path string
		status       int
		detail       string
		allow        string
	}{
		{"GET", "/api/v1/nope", 404, "Not Found", ""},
		{"GET", "/", 404, "Not Found", ""},
		{"GET", "/api/v1/logs/", 404, "Not Found", ""},
		{"GET", "/api/v1//logs", 404, "Not Found", ""},
		{"GET", "/api/v1/./logs", 404, "Not Found", ""},
		{"GET", "/api/v1/bounty/../logs", 404, "Not Found", ""},
		{"DELETE", "/api/v1/logs", 405, "Method Not Allowed", "GET, HEAD"},
		{"GET", "/api/v1/auth/login", 405, "Method Not Allowed", "POST"},
		{"PUT", "/api/v1/auth/change-password", 405, "Method Not Allowed", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := f.do(t, tt.method, tt.path, tok, "")
			expect(t, rec, tt.status, tt.detail)
			if rec.Header().Get("Allow") != tt.allow {
				t.Fatalf("Allow = %q, want %q", rec.Header().Get("Allow"), tt.allow)
			}
		})
	}
}

func TestPanicIsJSON500(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	f.repo.panics = true
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 500, "Internal server error")
}

func TestResponseHeaders(t *testing.T) {
	f, tok := viewerFixture(t, nil)
	rec := f.do(t, "GET", "/api/v1/stats", tok, "")
	for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if rec.Header().Get(k) != v {
			t.Errorf("%s = %q, want %q", k, rec.Header().Get(k), v)
		}
	}
}

// A stream handler needs to flush through the access-log wrapper.
func TestStatusWriterUnwraps(t *testing.T) {
	rc := http.NewResponseController(&statusWriter{ResponseWriter: httptest.NewRecorder()})
	if err := rc.Flush(); err != nil {
		t.Fatalf("flush through statusWriter: %v", err)
	}
}

// BenchmarkAuthenticatedStats measures one authenticated request: token
// check, user lookup, handler and JSON.
func BenchmarkAuthenticatedStats(b *testing.B) {
	repo := newFakeRepo()
	srv, err := New(Config{Repo: repo, JWTSecret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	u := store.User{UUID: "u1", Username: "v", PasswordHash: "x", Role: store.RoleViewer}
	repo.CreateUser(b.Context(), u)
	tok, err := srv.issueToken(u)
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/api/v1/stats", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
