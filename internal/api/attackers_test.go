package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
)

// profileRepo adds attacker profiles and the histogram to fakeRepo, and
// counts the reads that reach it (the cache tests need the count).
type profileRepo struct {
	*fakeRepo

	pmu       sync.Mutex
	attackers []store.Attacker
	commands  map[string][]store.Command // by attacker UUID
	artifacts map[string][]store.Log     // by attacker UUID
	buckets   []store.Bucket
	calls     map[string]int
	// gate, when set, holds every read until it is closed.
	gate chan struct{}

	lastAttackers store.AttackerQuery
	lastCommands  store.CommandQuery
	lastArtLimit  int
	lastHistogram store.LogQuery
	lastInterval  time.Duration
}

// newProfileFixture is a fixture over a profileRepo, with a viewer token.
func newProfileFixture(t *testing.T, edit func(*Config)) (*fixture, *profileRepo, string) {
	t.Helper()
	var pr *profileRepo
	f := newFixture(t, func(c *Config) {
		pr = &profileRepo{fakeRepo: c.Repo.(*fakeRepo), commands: map[string][]store.Command{},
			artifacts: map[string][]store.Log{}, calls: map[string]int{}}
		c.Repo = pr
		if edit != nil {
			edit(c)
		}
	})
	return f, pr, f.token(t, f.addUser(t, "viewer", "password1", store.RoleViewer, false))
}

// read counts a read of kind and waits at the gate.
func (r *profileRepo) read(ctx context.Context, kind string) error {
	r.pmu.Lock()
	r.calls[kind]++
	gate := r.gate
	r.pmu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// failure is the error fakeRepo's reads are told to return.
func (r *profileRepo) failure() error {
	r.fakeRepo.mu.Lock()
	defer r.fakeRepo.mu.Unlock()
	return r.fakeRepo.err
}

func (r *profileRepo) count(kind string) int {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	return r.calls[kind]
}

func (r *profileRepo) Logs(ctx context.Context, q store.LogQuery) (store.Page[store.Log], error) {
	if err := r.read(ctx, "logs"); err != nil {
		return store.Page[store.Log]{}, err
	}
	return r.fakeRepo.Logs(ctx, q)
}

func (r *profileRepo) Bounties(ctx context.Context, q store.BountyQuery) (store.Page[store.Bounty], error) {
	if err := r.read(ctx, "bounty"); err != nil {
		return store.Page[store.Bounty]{}, err
	}
	return r.fakeRepo.Bounties(ctx, q)
}

func (r *profileRepo) Stats(ctx context.Context) (store.Stats, error) {
	if err := r.read(ctx, "stats"); err != nil {
		return store.Stats{}, err
	}
	return r.fakeRepo.Stats(ctx)
}

func (r *profileRepo) ServiceCounts(ctx context.Context, limit int) ([]store.ServiceCount, error) {
	if err := r.read(ctx, "services"); err != nil {
		return nil, err
	}
	return r.fakeRepo.ServiceCounts(ctx, limit)
}

func (r *profileRepo) Histogram(ctx context.Context, q store.LogQuery, iv time.Duration) ([]store.Bucket, error) {
	if err := r.read(ctx, "histogram"); err != nil {
		return nil, err
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	r.lastHistogram, r.lastInterval = q, iv
	return append([]store.Bucket(nil), r.buckets...), r.failure()
}

func (r *profileRepo) Attackers(ctx context.Context, q store.AttackerQuery) (store.Page[store.Attacker], error) {
	if err := r.read(ctx, "attackers"); err != nil {
		return store.Page[store.Attacker]{}, err
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	r.lastAttackers = q
	p := store.Page[store.Attacker]{Limit: q.Limit, Offset: q.Offset}
	for _, a := range r.attackers {
		if strings.Contains(a.IP, q.Search) {
			p.Data = append(p.Data, a)
		}
	}
	p.Total = int64(len(p.Data))
	return p, r.failure()
}

func (r *profileRepo) find(id string) (store.Attacker, error) {
	for _, a := range r.attackers {
		if a.UUID == id {
			return a, nil
		}
	}
	return store.Attacker{}, fmt.Errorf("attacker %q: %w", id, store.ErrNotFound)
}

func (r *profileRepo) Attacker(ctx context.Context, id string) (store.Attacker, error) {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	return r.find(id)
}

func (r *profileRepo) AttackerCommands(ctx context.Context, id string, q store.CommandQuery) (store.Page[store.Command], error) {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	r.lastCommands = q
	if _, err := r.find(id); err != nil {
		return store.Page[store.Command]{}, err
	}
	cs := r.commands[id]
	return store.Page[store.Command]{Total: int64(len(cs)), Limit: q.Limit, Offset: q.Offset, Data: cs}, nil
}

func (r *profileRepo) AttackerArtifacts(ctx context.Context, id string, limit int) (store.Page[store.Log], error) {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	r.lastArtLimit = limit
	if _, err := r.find(id); err != nil {
		return store.Page[store.Log]{}, err
	}
	ls := r.artifacts[id]
	return store.Page[store.Log]{Total: int64(len(ls)), Limit: limit, Data: ls}, nil
}

const (
	attackerA = "0b0e2f4c-8d6e-4f3a-9c1b-2a3b4c5d6e7f"
	attackerB = "1c1f3a5d-9e7f-4a4b-8d2c-3b4c5d6e7f80"
)

var cest = time.FixedZone("CEST", 2*3600)

func seedProfiles(r *profileRepo) {
	seen := time.Date(2024, 5, 1, 12, 0, 0, 0, cest)
	hops := 12
	r.attackers = []store.Attacker{
		{UUID: attackerA, IP: "192.0.2.7", FirstSeen: seen, LastSeen: seen.Add(time.Hour), EventCount: 9,
			Services: []string{"ssh"}, Deckies: []string{"web-01", "db-01"}, IsTraversal: true, TraversalPath: "web-01 → db-01",
			Fingerprints: []store.Bounty{{BountyType: "fingerprint", Timestamp: seen}},
			Behavior:     &store.Behavior{BehaviorClass: "interactive", HopDistance: &hops, UpdatedAt: seen}},
		{UUID: attackerB, IP: "198.51.100.3", FirstSeen: seen, LastSeen: seen},
	}
	r.commands[attackerA] = []store.Command{{Timestamp: seen, Decky: "web-01", Service: "ssh", Command: "uname -a"}}
	r.artifacts[attackerA] = []store.Log{{ID: 4, Timestamp: seen, Decky: "web-01", Service: "ssh", EventType: "file_captured",
		Fields: map[string]string{"stored_as": "2024-05-01T10:03:00Z_0123456789ab_x.sh"}}}
}

func TestAttackersList(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	seedProfiles(r)
	tests := []struct {
		name   string
		query  string
		status int
		want   store.AttackerQuery
	}{
		{"defaults", "", 200, store.AttackerQuery{SortBy: store.SortRecent, Limit: 50}},
		{"all parameters", "search=192.0&sort_by=traversals&service=ssh&limit=1000&offset=3", 200,
			store.AttackerQuery{Search: "192.0", SortBy: store.SortTraversals, Service: "ssh", Limit: 1000, Offset: 3}},
		{"active", "sort_by=active", 200, store.AttackerQuery{SortBy: store.SortActive, Limit: 50}},
		{"traversals only", "traversal=true", 200, store.AttackerQuery{SortBy: store.SortRecent, Traversal: true, Limit: 50}},
		{"traversal false is everyone", "traversal=false&search=198", 200, store.AttackerQuery{Search: "198", SortBy: store.SortRecent, Limit: 50}},
		{"traversal not a boolean", "traversal=yes", 422, store.AttackerQuery{}},
		{"unknown sort", "sort_by=oldest", 422, store.AttackerQuery{}},
		{"search too long", "search=" + strings.Repeat("1", 65), 422, store.AttackerQuery{}},
		{"service too long", "service=" + strings.Repeat("s", 65), 422, store.AttackerQuery{}},
		{"limit too big", "limit=1001", 422, store.AttackerQuery{}},
		{"limit zero", "limit=0", 422, store.AttackerQuery{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.pmu.Lock()
			r.lastAttackers = store.AttackerQuery{Limit: -1}
			r.pmu.Unlock()
			rec := f.do(t, "GET", "/api/v1/attackers?"+tt.query, tok, "")
			expect(t, rec, tt.status, "")
			r.pmu.Lock()
			got := r.lastAttackers
			r.pmu.Unlock()
			if tt.status != 200 {
				if got.Limit != -1 {
					t.Fatalf("a refused query reached the store: %+v", got)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("store got %+v, want %+v", got, tt.want)
			}
		})
	}

	var page store.Page[store.Attacker]
	rec := f.do(t, "GET", "/api/v1/attackers?search=192.0.2", tok, "")
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Data[0].UUID != attackerA || page.Data[0].Behavior == nil || *page.Data[0].Behavior.HopDistance != 12 {
		t.Fatalf("page %+v", page)
	}
	body := rec.Body.String()
	for _, want := range []string{`"first_seen":"2024-05-01T10:00:00Z"`, `"tool_guesses":[]`, `"payload":{}`, `"commands":[]`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
	rec = f.do(t, "GET", "/api/v1/attackers?search=203.0.113", tok, "")
	if !strings.Contains(rec.Body.String(), `"data":[]`) {
		t.Fatalf("empty page must have data []: %s", rec.Body.String())
	}
}

func TestAttackerDetail(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	seedProfiles(r)
	tests := []struct {
		name, path string
		status     int
		want       []string // substrings of the body
	}{
		{"with behaviour", "/attackers/" + attackerA, 200, []string{`"ip":"192.0.2.7"`, `"behavior_class":"interactive"`, `"last_seen":"2024-05-01T11:00:00Z"`}},
		{"without behaviour", "/attackers/" + attackerB, 200, []string{`"behavior":null`, `"services":[]`, `"deckies":[]`}},
		{"unknown", "/attackers/" + strings.Repeat("0", 8) + "-0000-0000-0000-000000000000", 404, nil},
		{"not a uuid", "/attackers/zz-nope", 422, nil},
		{"upper case", "/attackers/" + strings.ToUpper(attackerA), 422, nil},
		{"commands", "/attackers/" + attackerA + "/commands", 200, []string{`"total":1`, `"command":"uname -a"`, `"timestamp":"2024-05-01T10:00:00Z"`}},
		{"commands of nobody", "/attackers/" + attackerA[:35] + "0/commands", 404, nil},
		{"commands limit 200", "/attackers/" + attackerA + "/commands?limit=200&service=ssh&offset=1", 200, []string{`"limit":200`, `"offset":1`}},
		{"commands limit 201", "/attackers/" + attackerA + "/commands?limit=201", 422, nil},
		{"commands of someone quiet", "/attackers/" + attackerB + "/commands", 200, []string{`"data":[]`}},
		{"artifacts", "/attackers/" + attackerA + "/artifacts", 200, []string{`"total":1`, `"event_type":"file_captured"`, `"stored_as":"2024-05-01T10:03:00Z_0123456789ab_x.sh"`}},
		{"no artifacts", "/attackers/" + attackerB + "/artifacts", 200, []string{`"data":[]`}},
		{"artifacts of nobody", "/attackers/" + attackerA[:35] + "0/artifacts", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(t, "GET", "/api/v1"+tt.path, tok, "")
			expect(t, rec, tt.status, "")
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body lacks %s: %s", w, rec.Body.String())
				}
			}
		})
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	if r.lastArtLimit != maxArtifactRows {
		t.Errorf("artifacts asked with limit %d", r.lastArtLimit)
	}
	if want := (store.CommandQuery{Limit: 50}); r.lastCommands != want {
		t.Errorf("last commands query %+v, want %+v", r.lastCommands, want)
	}
}

// TestAttackersAgainstSQLite reads profiles the real store keeps.
func TestAttackersAgainstSQLite(t *testing.T) {
	repo, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "decnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ip := "192.0.2.7"
	stored := "2024-05-01T10:02:00Z_0123456789ab_x.sh"
	recs := []event.Record{
		{Timestamp: base, Decky: "web-01", Service: "ssh", EventType: "command", AttackerIP: ip,
			Fields: map[string]string{"src_ip": ip, "command": "id"}, RawLine: "a"},
		{Timestamp: base.Add(time.Minute), Decky: "db-01", Service: "mysql", EventType: "query", AttackerIP: ip,
			Fields: map[string]string{"src_ip": ip, "query": "select 1"}, RawLine: "b"},
		{Timestamp: base.Add(2 * time.Minute), Decky: "web-01", Service: "ssh", EventType: "file_captured", AttackerIP: ip,
			Fields: map[string]string{"src_ip": ip, "stored_as": stored}, RawLine: "c"},
		{Timestamp: base.Add(20 * time.Minute), Decky: "web-01", Service: "ssh", EventType: "auth", AttackerIP: "192.0.2.8",
			Fields: map[string]string{"src_ip": "192.0.2.8"}, RawLine: "d"},
	}
	if err := repo.Ingest(t.Context(), recs, "ingest", []byte("4")); err != nil {
		t.Fatal(err)
	}
	act, err := repo.Activity(t.Context(), ip, 10)
	if err != nil {
		t.Fatal(err)
	}
	id, err := repo.UpsertAttacker(t.Context(), store.Attacker{IP: ip, FirstSeen: act.FirstSeen, LastSeen: act.LastSeen,
		EventCount: act.EventCount, Services: act.Services, Deckies: act.Deckies, DeckyCount: len(act.Deckies),
		IsTraversal: true, TraversalPath: "web-01 → db-01", CommandCount: act.CommandCount, Commands: act.Commands, UpdatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.UpsertAttacker(t.Context(), store.Attacker{IP: "192.0.2.8", FirstSeen: base.Add(20 * time.Minute),
		LastSeen: base.Add(20 * time.Minute), EventCount: 1, Services: []string{"ssh"}, Deckies: []string{"web-01"},
		DeckyCount: 1, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{repo: newFakeRepo()}
	srv, err := New(Config{Repo: repo, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	u := store.User{UUID: "u-viewer", Username: "viewer", Role: store.RoleViewer}
	if err := repo.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	tok := f.token(t, u)

	get := func(path string, status int, out any) {
		t.Helper()
		rec := f.do(t, "GET", "/api/v1"+path, tok, "")
		if rec.Code != status {
			t.Fatalf("%s: status %d, want %d: %s", path, rec.Code, status, rec.Body)
		}
		if out != nil {
			if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var page store.Page[store.Attacker]
	get("/attackers?sort_by=traversals&service=mysql", 200, &page)
	if page.Total != 1 || page.Data[0].UUID != id || page.Data[0].Behavior != nil {
		t.Fatalf("attackers %+v", page)
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"192.0.2.8", ip}},
		{"?traversal=false", []string{"192.0.2.8", ip}},
		{"?traversal=true", []string{ip}},
		{"?traversal=true&service=ssh", []string{ip}},
	} {
		get("/attackers"+tt.query, 200, &page)
		got := []string{}
		for _, a := range page.Data {
			got = append(got, a.IP)
		}
		if !slices.Equal(got, tt.want) || page.Total != int64(len(tt.want)) {
			t.Fatalf("attackers%s: %v (total %d), want %v", tt.query, got, page.Total, tt.want)
		}
	}
	var services []store.ServiceCount
	get("/stats/services?limit=1", 200, &services)
	if !slices.Equal(services, []store.ServiceCount{{Service: "ssh", Count: 3}}) {
		t.Fatalf("top service %+v, want ssh 3", services)
	}
	var a store.Attacker
	get("/attackers/"+id, 200, &a)
	if a.IP != ip || a.EventCount != 3 || !a.IsTraversal {
		t.Fatalf("attacker %+v", a)
	}
	var cmds store.Page[store.Command]
	get("/attackers/"+id+"/commands?service=ssh", 200, &cmds)
	if cmds.Total != 1 || cmds.Data[0].Command != "id" {
		t.Fatalf("commands %+v", cmds)
	}
	var arts store.Page[store.Log]
	get("/attackers/"+id+"/artifacts", 200, &arts)
	if arts.Total != 1 || arts.Data[0].Fields["stored_as"] != stored {
		t.Fatalf("artifacts %+v", arts)
	}
	get("/attackers/"+strings.Repeat("0", 8)+"-0000-0000-0000-000000000000", 404, nil)
	get("/attackers/"+strings.Repeat("0", 8)+"-0000-0000-0000-000000000000/commands", 404, nil)

	var buckets []store.Bucket
	get("/logs/histogram?interval_minutes=15&search="+url.QueryEscape("service:ssh"), 200, &buckets)
	want := []store.Bucket{{Time: base, Count: 2}, {Time: base.Add(15 * time.Minute), Count: 1}}
	if len(buckets) != len(want) || !buckets[0].Time.Equal(want[0].Time) || buckets[0].Count != 2 ||
		!buckets[1].Time.Equal(want[1].Time) || buckets[1].Count != 1 {
		t.Fatalf("histogram %+v, want %+v", buckets, want)
	}
}
