package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/event"
	"decnet/internal/store"
)

// TestAgainstSQLite runs the newcomer's path over the real store through
// a real listener: seed, first login, forced password change, then the
// feeds over ingested events.
func TestAgainstSQLite(t *testing.T) {
	repo := openSQLite(t)

	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	recs := []event.Record{
		{Timestamp: base, Decky: "web-01", Service: "ssh", EventType: "auth", AttackerIP: "192.0.2.7",
			Fields:  map[string]string{"src_ip": "192.0.2.7", "username": "root", "password": "toor", "success": "false"},
			RawLine: "<38>1 2024-05-01T10:00:00Z web-01 ssh - auth [x@1 username=\"root\"]"},
		{Timestamp: base.Add(time.Minute), Decky: "db-01", Service: "mysql", EventType: "connect", AttackerIP: "192.0.2.8",
			Fields: map[string]string{"src_ip": "192.0.2.8"}, RawLine: "<134>1 2024-05-01T10:01:00Z db-01 mysql - connect -"},
		{Timestamp: base.Add(2 * time.Minute), Decky: "db-01", Service: "mysql", EventType: "query", AttackerIP: event.Unknown,
			RawLine: "<134>1 2024-05-01T10:02:00Z db-01 mysql - query -"},
	}
	if err := repo.Ingest(t.Context(), recs, "ingest", []byte("3")); err != nil {
		t.Fatal(err)
	}

	unsetEnv(t, EnvAdminUser)
	unsetEnv(t, EnvAdminPassword)
	created, pw, err := SeedAdmin(t.Context(), repo, nil)
	if err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	var ingester WorkerHealth
	srv, err := New(Config{
		Repo:      repo,
		JWTSecret: testSecret,
		Fleet:     newFakeFleet(Decky{Name: "web-01", IP: "127.77.0.10", Active: true}, Decky{Name: "db-01", IP: "127.77.0.11"}),
		Checks:    []Check{{Name: "ingester", Critical: true, Probe: ingester.Check}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	call := func(method, path, token, body string, wantStatus int, out any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, wantStatus)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}

	var tok tokenBody
	call("POST", "/api/v1/auth/login", "", `{"username":"admin","password":"`+pw+`"}`, 200, &tok)
	if !tok.MustChangePassword {
		t.Fatal("seeded admin must change the password")
	}
	var e huma.ErrorModel
	call("GET", "/api/v1/logs", tok.AccessToken, "", 403, &e)
	var changed struct {
		Message string `json:"message"`
		tokenBody
	}
	call("POST", "/api/v1/auth/change-password", tok.AccessToken, `{"old_password":"`+pw+`","new_password":"a-new-password"}`, 200, &changed)
	bearer := changed.AccessToken

	var logs store.Page[store.Log]
	call("GET", "/api/v1/logs", bearer, "", 200, &logs)
	if logs.Total != 3 || len(logs.Data) != 3 || logs.Data[0].EventType != "query" {
		t.Fatalf("logs %+v", logs)
	}
	call("GET", "/api/v1/logs?search="+url.QueryEscape("service:ssh username:root"), bearer, "", 200, &logs)
	if logs.Total != 1 || logs.Data[0].Fields["password"] != "toor" || !logs.Data[0].Timestamp.Equal(base) {
		t.Fatalf("search %+v", logs)
	}
	call("GET", "/api/v1/logs?start_time=2024-05-01+10:01:00&end_time=2024-05-01+10:01:00", bearer, "", 200, &logs)
	if logs.Total != 1 || logs.Data[0].EventType != "connect" {
		t.Fatalf("inclusive time window %+v", logs)
	}
	call("GET", "/api/v1/logs?search="+url.QueryEscape(`"unterminated`), bearer, "", 422, &e)
	if e.Status != 422 || !strings.Contains(e.Detail, "unterminated") {
		t.Fatalf("bad search answer %+v", e)
	}

	var bounties store.Page[store.Bounty]
	call("GET", "/api/v1/bounty?bounty_type=credential", bearer, "", 200, &bounties)
	if bounties.Total != 1 || bounties.Data[0].Payload["username"] != "root" || bounties.Data[0].Payload["password"] != "toor" {
		t.Fatalf("bounties %+v", bounties)
	}

	var st StatsBody
	call("GET", "/api/v1/stats", bearer, "", 200, &st)
	if st != (StatsBody{TotalLogs: 3, UniqueAttackers: 2, ActiveDeckies: 1, DeployedDeckies: 2, TotalBounties: 1}) {
		t.Fatalf("stats %+v", st)
	}

	var h HealthBody
	call("GET", "/api/v1/health", bearer, "", 503, &h) // the ingester never started
	if h.Components["database"].Status != statusOK || h.Components["ingester"].Detail != "not started" {
		t.Fatalf("health %+v", h)
	}
	ctx, cancel := context.WithCancel(t.Context())
	running := make(chan struct{})
	go ingester.Run(ctx, func(ctx context.Context) error { close(running); <-ctx.Done(); return nil })
	<-running
	call("GET", "/api/v1/health", bearer, "", 200, &h)
	if h.Status != healthy {
		t.Fatalf("health %+v", h)
	}
	cancel()
}
