package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"decnet/internal/event"
)

func openTest(t testing.TB) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

var t0 = time.Date(2026, 4, 18, 2, 22, 56, 123456000, time.UTC) // records keep microseconds, as their lines do

func rec(i int, decky, service, typ, ip string, fields map[string]string) event.Record {
	if fields == nil {
		fields = map[string]string{}
	}
	e := event.Event{Time: t0.Add(time.Duration(i) * time.Minute), Decky: decky, Service: service, Type: typ,
		Severity: event.Info, Fields: fields, Msg: ""}
	if ip != "" {
		fields[event.FieldSrcIP] = ip
	}
	return event.NewRecord(e)
}

// seed is a small fleet's worth of events the search tests select from.
func seed(t *testing.T, s *SQLite) {
	t.Helper()
	recs := []event.Record{
		rec(0, "decky-01", "ssh", "connect", "10.0.0.7", nil),                                                    // id 1
		rec(1, "decky-01", "ssh", "auth", "10.0.0.7", map[string]string{"username": "root", "password": "toor"}), // id 2
		rec(2, "decky-02", "http", "request", "10.0.0.8", map[string]string{"method": "GET", "path": "/admin",
			"headers": `{"User-Agent": "curl/8.5.0", "Host": "x"}`}), // id 3
		rec(3, "decky-02", "http", "request", "10.0.0.8", map[string]string{"method": "POST", "path": "/login 100%_done"}), // id 4
		rec(4, "decky-03", "redis", "command", "192.168.1.50", map[string]string{"command": "CONFIG SET dir /tmp"}),        // id 5
		rec(5, "decky-03", "ftp", "auth", "", map[string]string{"username": "anonymous", "password": ""}),                  // id 6
		rec(6, "decky-01", "ssh", "command", "10.0.0.7", map[string]string{"command": `echo "a b"`, "my.key": "v"}),        // id 7
	}
	if err := s.Ingest(context.Background(), recs, "ingest:test", []byte(`{"offset":7}`)); err != nil {
		t.Fatal(err)
	}
}

func ids(logs []Log) []int64 {
	out := []int64{}
	for _, l := range logs {
		out = append(out, l.ID)
	}
	return out
}

func TestLogsSearch(t *testing.T) {
	s := openTest(t)
	seed(t, s)
	tests := []struct {
		search string
		want   []int64 // newest first
	}{
		{"", []int64{7, 6, 5, 4, 3, 2, 1}},
		{"decky:decky-01", []int64{7, 2, 1}},
		{"service:http", []int64{4, 3}},
		{"event:auth", []int64{6, 2}},
		{"event_type:auth", []int64{6, 2}},
		{"attacker:10.0.0.8", []int64{4, 3}},
		{"attacker_ip:10.0.0.8", []int64{4, 3}},
		{"attacker-ip:192.168.1.50", []int64{5}},
		{"attacker:Unknown", []int64{6}},
		{"Decky:decky-03", []int64{6, 5}},             // column keys are case-insensitive
		{"decky:decky-0", nil},                        // columns match exactly
		{"username:root", []int64{2}},                 // a field
		{"password:", []int64{6}},                     // a field that is empty
		{"method:GET", []int64{3}},                    // field values match exactly
		{"method:get", nil},                           //
		{`command:"CONFIG SET dir /tmp"`, []int64{5}}, // quoted value with spaces
		{`command:"echo \"a b\""`, []int64{7}},        // escaped quotes
		{"my.key:v", []int64{7}},                      // dotted field key
		{"nosuchfield:x", nil},                        //
		{"decky-02", []int64{4, 3}},                   // bare word: substring of decky
		{"10.0.0", []int64{7, 4, 3, 2, 1}},            // bare word: substring of attacker IPs
		{"ADMIN", []int64{3}},                         // bare words ignore ASCII case (raw_line)
		{"100%_", []int64{4}},                         // % and _ are literal
		{"%", []int64{4}},                             //
		{"_", []int64{7, 5, 4, 3, 2, 1}},              // '_' is literal: in src_ip, not in id 6
		{`"CONFIG SET"`, []int64{5}},                  // quoted phrase is one bare word
		{`"decky:decky-01"`, nil},                     // quoted: a bare word, not a column match
		{"service:ssh event:command", []int64{7}},     // terms are ANDed
		{"service:ssh toor", []int64{2}},              //
		{"service:ssh service:http", nil},             //
	}
	for _, tc := range tests {
		t.Run(tc.search, func(t *testing.T) {
			p, err := s.Logs(context.Background(), LogQuery{Search: tc.search})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = []int64{}
			}
			if got := ids(p.Data); !reflect.DeepEqual(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
			if p.Total != int64(len(want)) {
				t.Errorf("total = %d, want %d", p.Total, len(want))
			}
		})
	}
}

func TestLogsPaging(t *testing.T) {
	s := openTest(t)
	seed(t, s)
	ctx := context.Background()
	tests := []struct {
		name      string
		q         LogQuery
		want      []int64
		total     int64
		wantLimit int
	}{
		{"limit", LogQuery{Limit: 2}, []int64{7, 6}, 7, 2},
		{"offset", LogQuery{Limit: 2, Offset: 2}, []int64{5, 4}, 7, 2},
		{"offset past end", LogQuery{Offset: 100}, []int64{}, 7, DefaultLimit},
		{"negative offset", LogQuery{Limit: 1, Offset: -5}, []int64{7}, 7, 1},
		{"limit clamped", LogQuery{Limit: 5000}, []int64{7, 6, 5, 4, 3, 2, 1}, 7, MaxLimit},
		{"ascending after id", LogQuery{AfterID: 4, Ascending: true}, []int64{5, 6, 7}, 3, DefaultLimit},
		{"since inclusive", LogQuery{Since: t0.Add(5 * time.Minute)}, []int64{7, 6}, 2, DefaultLimit},
		{"until exclusive", LogQuery{Until: t0.Add(2 * time.Minute)}, []int64{2, 1}, 2, DefaultLimit},
		{"window with search", LogQuery{Since: t0.Add(time.Minute), Until: t0.Add(6 * time.Minute), Search: "decky:decky-01"}, []int64{2}, 1, DefaultLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Logs(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p.Data); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
			if p.Total != tc.total || p.Limit != tc.wantLimit {
				t.Errorf("total, limit = %d, %d; want %d, %d", p.Total, p.Limit, tc.total, tc.wantLimit)
			}
		})
	}
	if _, err := s.Logs(ctx, LogQuery{Search: `decky:"open`}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unterminated quote: err = %v, want ErrBadQuery", err)
	}
}

func TestLogRoundTrip(t *testing.T) {
	s := openTest(t)
	r := rec(0, "decky-01", "http", "request", "10.0.0.9", map[string]string{"path": "/\x00'; DROP TABLE logs;--", "q": `"]\`})
	r.Msg = "message ü"
	r.Severity = event.Warning
	if err := s.Ingest(context.Background(), []event.Record{r}, "", nil); err != nil {
		t.Fatal(err)
	}
	p, err := s.Logs(context.Background(), LogQuery{})
	if err != nil || len(p.Data) != 1 {
		t.Fatalf("logs = %+v, %v", p, err)
	}
	want := Log{ID: 1, Timestamp: r.Timestamp, Decky: r.Decky, Service: r.Service, EventType: r.EventType,
		Severity: int(r.Severity), AttackerIP: "10.0.0.9", Fields: r.Fields, Msg: r.Msg, RawLine: r.RawLine}
	if !reflect.DeepEqual(p.Data[0], want) {
		t.Errorf("got  %+v\nwant %+v", p.Data[0], want)
	}
}

func TestBountiesStored(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seed(t, s)
	// The same credential again, from the same attacker: not a new bounty;
	// from another attacker: a new one.
	again := []event.Record{
		rec(10, "decky-02", "ssh", "auth", "10.0.0.7", map[string]string{"username": "root", "password": "toor"}),
		rec(11, "decky-02", "ssh", "auth", "10.0.0.99", map[string]string{"username": "root", "password": "toor"}),
	}
	if err := s.Ingest(ctx, again, "", nil); err != nil {
		t.Fatal(err)
	}
	all, err := s.Bounties(ctx, BountyQuery{})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ typ, ip, payload string }
	var got []key
	for _, b := range all.Data {
		got = append(got, key{b.BountyType, b.AttackerIP, fmt.Sprint(b.Payload)})
	}
	want := []key{
		{"credential", "10.0.0.99", "map[password:toor username:root]"},
		{"credential", "Unknown", "map[password: username:anonymous]"},
		{"fingerprint", "10.0.0.8", "map[fingerprint_type:http_useragent value:curl/8.5.0]"},
		{"credential", "10.0.0.7", "map[password:toor username:root]"},
	}
	if !reflect.DeepEqual(got, want) || all.Total != 4 {
		t.Errorf("bounties = %v (total %d), want %v", got, all.Total, want)
	}
	// The first sighting is the one kept.
	if b := all.Data[3]; b.Decky != "decky-01" || !b.Timestamp.Equal(t0.Add(time.Minute)) {
		t.Errorf("kept bounty %+v, want the first sighting", b)
	}
	for _, tc := range []struct {
		q    BountyQuery
		want int64
	}{
		{BountyQuery{Type: "credential"}, 3},
		{BountyQuery{Type: "fingerprint"}, 1},
		{BountyQuery{Type: "payload"}, 0},
		{BountyQuery{Search: "curl"}, 1},
		{BountyQuery{Search: "10.0.0"}, 3},
		{BountyQuery{Search: "decky-03"}, 1},
		{BountyQuery{Type: "credential", Search: "toor"}, 2},
		{BountyQuery{Search: "%"}, 0},
	} {
		p, err := s.Bounties(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != tc.want || len(p.Data) != int(tc.want) {
			t.Errorf("%+v: total %d, rows %d, want %d", tc.q, p.Total, len(p.Data), tc.want)
		}
	}
}

func TestStatsAndState(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seed(t, s)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{TotalLogs: 7, UniqueAttackers: 3, TotalBounties: 3}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if v, err := s.State(ctx, "ingest:test"); err != nil || string(v) != `{"offset":7}` {
		t.Errorf("checkpoint = %q, %v", v, err)
	}
	if _, err := s.State(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing state: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"one", "two", ""} {
		if err := s.SetState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.State(ctx, "k"); err != nil || string(got) != v {
			t.Errorf("state = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func TestIngestIsAtomic(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Ingest(ctx, []event.Record{rec(0, "d", "ssh", "connect", "1.2.3.4", nil)}, "cp", []byte("1"))
	if err == nil {
		t.Fatal("ingest with a cancelled context succeeded")
	}
	st, _ := s.Stats(context.Background())
	if _, serr := s.State(context.Background(), "cp"); st.TotalLogs != 0 || !errors.Is(serr, ErrNotFound) {
		t.Errorf("after a failed ingest: %+v, checkpoint err %v", st, serr)
	}
}

func TestUsers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	admin := User{UUID: "u-1", Username: "admin", PasswordHash: "h1", Role: RoleAdmin, MustChangePassword: true, CreatedAt: created}
	if err := s.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, User{UUID: "u-2", Username: "admin", PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate username: %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx, User{UUID: "u-1", Username: "other", PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate uuid: %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx, User{Username: "bad", Role: "root"}); err == nil {
		t.Error("unknown role accepted")
	}
	if err := s.CreateUser(ctx, User{Username: "viewer", PasswordHash: "h2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByName(ctx, "admin"); err != nil || got != admin {
		t.Errorf("by name = %+v, %v; want %+v", got, err, admin)
	}
	v, err := s.UserByName(ctx, "viewer")
	if err != nil || v.Role != RoleViewer || len(v.UUID) != 36 || v.CreatedAt.IsZero() {
		t.Errorf("defaults: %+v, %v", v, err)
	}
	if got, err := s.UserByUUID(ctx, v.UUID); err != nil || got != v {
		t.Errorf("by uuid = %+v, %v", got, err)
	}
	for _, err := range []error{
		func() error { _, err := s.UserByName(ctx, "nobody"); return err }(),
		func() error { _, err := s.UserByUUID(ctx, "nope"); return err }(),
		s.SetPassword(ctx, "nope", "h", false),
		s.SetRole(ctx, "nope", RoleAdmin),
		s.DeleteUser(ctx, "nope"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("missing user: %v, want ErrNotFound", err)
		}
	}
	if err := s.SetPassword(ctx, "u-1", "h3", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, v.UUID, RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, v.UUID, "god"); err == nil {
		t.Error("unknown role accepted")
	}
	got, _ := s.UserByUUID(ctx, "u-1")
	if got.PasswordHash != "h3" || got.MustChangePassword {
		t.Errorf("after SetPassword: %+v", got)
	}
	if n, err := s.CountUsers(ctx); n != 2 || err != nil {
		t.Errorf("count = %d, %v", n, err)
	}
	if err := s.DeleteUser(ctx, "u-1"); err != nil {
		t.Fatal(err)
	}
	us, err := s.ListUsers(ctx)
	if err != nil || len(us) != 1 || us[0].Username != "viewer" || us[0].Role != RoleAdmin {
		t.Errorf("list = %+v, %v", us, err)
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Ingest(ctx, []event.Record{rec(i, "d", "ssh", "connect", "1.2.3.4", nil)}, "", nil); err != nil {
			t.Fatal(err)
		}
		var versions int
		if err := s.r.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != 1 {
			t.Errorf("schema_migrations rows = %d, %v", versions, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenSQLite(ctx, path+"?mode=ro"); err == nil {
		t.Error("a path with '?' was accepted")
	}
}
