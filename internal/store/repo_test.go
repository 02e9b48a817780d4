package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
)

// TestRepository runs the repository suite on every database: the same
// tests, each on a fresh database, for SQLite, MySQL/MariaDB and
// PostgreSQL.
func TestRepository(t *testing.T) {
	suite := []struct {
		name string
		test func(*testing.T, freshDB)
	}{
		{"LogsSearch", testLogsSearch},
		{"LogsPaging", testLogsPaging},
		{"LogsWindowOutOfOrder", testLogsWindowOutOfOrder},
		{"LogRoundTrip", testLogRoundTrip},
		{"IngestThenLogsProperty", testIngestThenLogsProperty},
		{"BountiesStored", testBountiesStored},
		{"StatsAndState", testStatsAndState},
		{"ServiceCounts", testServiceCounts},
		{"IngestIsAtomic", testIngestIsAtomic},
		{"Users", testUsers},
		{"Histogram", testHistogram},
		{"Cursor", testCursor},
		{"IngestBatchSizes", testIngestBatchSizes},
		{"Activity", testActivity},
		{"UpsertAttacker", testUpsertAttacker},
		{"AttackersList", testAttackersList},
		{"AttackerCommandsAndArtifacts", testAttackerCommandsAndArtifacts},
		{"Purge", testPurge},
		{"ConcurrentIngestAndReads", testConcurrentIngestAndReads},
		{"Migrations", testMigrations},
	}
	for _, db := range testDBs {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.test(t, db.fresh) })
			}
		})
	}
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
func seed(t *testing.T, s *SQL) {
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
	ingest(t, s, recs...)
	if err := s.SetState(context.Background(), "ingest:test", []byte(`{"offset":7}`)); err != nil {
		t.Fatal(err)
	}
}

func ingest(t testing.TB, s *SQL, recs ...event.Record) {
	t.Helper()
	if err := s.Ingest(context.Background(), recs, "", nil); err != nil {
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

func testLogsSearch(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
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
		{"decky:DECKY-01", nil},                       // and with their case
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
		{"DeCkY-03", []int64{6, 5}},                   // (decky)
		{"100%_", []int64{4}},                         // % and _ are literal
		{"%", []int64{4}},                             //
		{"_", []int64{7, 5, 4, 3, 2, 1}},              // '_' is literal: in src_ip, not in id 6
		{`\`, []int64{7, 3}},                          // so is '\' (escaped quotes in the lines of 3 and 7)
		{`"CONFIG SET"`, []int64{5}},                  // quoted phrase is one bare word
		{`"decky:decky-01"`, nil},                     // quoted: a bare word, not a column match
		{"service:ssh event:command", []int64{7}},     // terms are ANDed
		{"service:ssh toor", []int64{2}},              //
		{"service:ssh service:http", nil},             //
		{"nul\x00byte", nil},                          // odd bytes are no error
		{"bad\xffutf8:\xfe", nil},                     //
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

func testLogsPaging(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
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
		{"until a microsecond later", LogQuery{Until: t0.Add(2*time.Minute + time.Microsecond)}, []int64{3, 2, 1}, 3, DefaultLimit},
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
			// The same page without its count, and the count alone.
			q := tc.q
			q.NoTotal = true
			np, err := s.Logs(ctx, q)
			if err != nil || np.Total != 0 || !reflect.DeepEqual(ids(np.Data), tc.want) {
				t.Errorf("NoTotal: total %d ids %v, %v; want 0, %v", np.Total, ids(np.Data), err, tc.want)
			}
			if n, err := s.CountLogs(ctx, tc.q); err != nil || n != tc.total {
				t.Errorf("CountLogs = %d, %v; want %d", n, err, tc.total)
			}
		})
	}
	if _, err := s.CountLogs(ctx, LogQuery{Search: `decky:"open`}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("CountLogs, unterminated quote: err = %v, want ErrBadQuery", err)
	}
	if _, err := s.Logs(ctx, LogQuery{Search: `decky:"open`}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unterminated quote: err = %v, want ErrBadQuery", err)
	}
}

func testLogRoundTrip(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	r := rec(0, "decky-01", "http", "request", "10.0.0.9", map[string]string{"path": "/\x00'; DROP TABLE logs;--", "q": `"]\`, "ü": "ß"})
	r.Msg = "message ü"
	r.Severity = event.Warning
	ingest(t, s, r)
	p, err := s.Logs(context.Background(), LogQuery{})
	if err != nil || len(p.Data) != 1 {
		t.Fatalf("logs = %+v, %v", p, err)
	}
	want := Log{ID: 1, Timestamp: r.Timestamp, Decky: r.Decky, Service: r.Service, EventType: r.EventType,
		Severity: int(r.Severity), AttackerIP: "10.0.0.9", Fields: r.Fields, Msg: r.Msg, RawLine: r.RawLine}
	if s.Dialect() == TypePostgres { // its text cannot hold NUL
		want.Fields = map[string]string{"path": "/\uFFFD'; DROP TABLE logs;--", "q": `"]\`, "ü": "ß", "src_ip": "10.0.0.9"}
		want.RawLine = strings.ReplaceAll(r.RawLine, "\x00", "\uFFFD")
	}
	if !reflect.DeepEqual(p.Data[0], want) {
		t.Errorf("got  %+v\nwant %+v", p.Data[0], want)
	}
	if p, err := s.Logs(context.Background(), LogQuery{Search: "ü:ß"}); err != nil || p.Total != 0 {
		// "ü" is not a valid key: the term is a bare word, found nowhere.
		t.Errorf("search ü:ß = %d, %v", p.Total, err)
	}

	// An indexed column past what a server indexes is cut, on writing and
	// on searching alike.
	long := strings.Repeat("a", 300)
	ingest(t, s, rec(1, "decky-01", "http", "request", long, nil))
	want.AttackerIP = long
	if s.d.maxKey > 0 {
		want.AttackerIP = long[:s.d.maxKey]
	}
	p, err = s.Logs(context.Background(), LogQuery{Search: "attacker:" + long})
	if err != nil || len(p.Data) != 1 || p.Data[0].AttackerIP != want.AttackerIP || p.Data[0].Fields["src_ip"] != long {
		t.Errorf("long attacker IP: %+v, %v", p.Data, err)
	}
}

func testBountiesStored(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	seed(t, s)
	// The same credential again, from the same attacker: not a new bounty;
	// from another attacker: a new one.
	ingest(t, s,
		rec(10, "decky-02", "ssh", "auth", "10.0.0.7", map[string]string{"username": "root", "password": "toor"}),
		rec(11, "decky-02", "ssh", "auth", "10.0.0.99", map[string]string{"username": "root", "password": "toor"}),
	)
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
		{BountyQuery{Search: "CURL"}, 1},
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
	byIP, err := s.BountiesByIP(ctx, "10.0.0.7")
	if err != nil || len(byIP) != 1 || byIP[0].BountyType != BountyCredential {
		t.Errorf("bounties of 10.0.0.7 = %+v, %v", byIP, err)
	}
	ingest(t, s, rec(12, "decky-01", "http", "request", "10.0.0.7", map[string]string{"user_agent": "sqlmap"}))
	byIP, err = s.BountiesByIP(ctx, "10.0.0.7")
	if err != nil || len(byIP) != 2 || byIP[0].BountyType != BountyCredential || byIP[1].Payload["value"] != "sqlmap" {
		t.Errorf("bounties of 10.0.0.7, oldest first = %+v, %v", byIP, err)
	}
	if none, err := s.BountiesByIP(ctx, "10.9.9.9"); err != nil || none == nil || len(none) != 0 {
		t.Errorf("bounties of an unknown IP = %#v, %v; want an empty list", none, err)
	}
}

func testStatsAndState(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
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
	for _, v := range []string{"one", "two", "", "\x00\xff binary"} {
		if err := s.SetState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.State(ctx, "k"); err != nil || string(got) != v {
			t.Errorf("state = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.Ingest(ctx, nil, "cp", []byte("moved")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.State(ctx, "cp"); err != nil || string(v) != "moved" {
		t.Errorf("checkpoint of an empty ingest = %q, %v", v, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func testServiceCounts(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	if got, err := s.ServiceCounts(ctx, 10); err != nil || got == nil || len(got) != 0 {
		t.Errorf("service counts of an empty store = %#v, %v; want an empty list", got, err)
	}
	seed(t, s) // ssh 3, http 2, ftp 1, redis 1
	all := []ServiceCount{{"ssh", 3}, {"http", 2}, {"ftp", 1}, {"redis", 1}}
	tests := []struct {
		name  string
		limit int
		want  []ServiceCount
	}{
		{"all, ties by name", 10, all},
		{"exactly all", 4, all},
		{"cut inside a tie", 3, all[:3]},
		{"top one", 1, all[:1]},
		{"none", 0, []ServiceCount{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ServiceCounts(ctx, tc.limit)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ServiceCounts(%d) = %v, %v; want %v", tc.limit, got, err, tc.want)
			}
		})
	}

	// The counts are kept at ingest: a later batch adds to them, a failed
	// one adds nothing, and they always equal a count of the logs.
	more := []event.Record{rec(10, "d", "ssh", "connect", "1.2.3.4", nil), rec(11, "d", "ssh", "auth", "1.2.3.4", nil),
		rec(12, "d", "smb", "connect", "1.2.3.5", nil)}
	if err := s.Ingest(ctx, more, "cp", []byte("2")); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ingest(cancelled, more, "cp", []byte("3")); err == nil {
		t.Fatal("a cancelled ingest succeeded")
	}
	want := []ServiceCount{{"ssh", 5}, {"http", 2}, {"ftp", 1}, {"redis", 1}, {"smb", 1}}
	if got, err := s.ServiceCounts(ctx, 10); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after another batch: %v, %v; want %v", got, err, want)
	}
	for _, c := range want {
		if n, err := s.CountLogs(ctx, LogQuery{Search: "service:" + c.Service}); err != nil || n != c.Count {
			t.Errorf("%s: %d logs (%v), counted %d", c.Service, n, err, c.Count)
		}
	}
	if _, err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ServiceCounts(ctx, 10); err != nil || len(got) != 0 {
		t.Errorf("after a purge: %v, %v; want none", got, err)
	}
}

// testLogsWindowOutOfOrder: a page of a time window holds every log of
// the window, newest id first, even when timestamps do not follow the
// ids (late events from a sensor).
func testLogsWindowOutOfOrder(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	minutes := []int{5, 1, 9, 2, 8, 3} // ids 1 to 6
	var recs []event.Record
	for i, m := range minutes {
		r := rec(i, "d", "ssh", "connect", "1.2.3.4", nil)
		r.Timestamp = t0.Add(time.Duration(m) * time.Minute)
		recs = append(recs, r)
	}
	if err := s.Ingest(ctx, recs, "cp", []byte("1")); err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		name string
		q    LogQuery
		want []int64
	}{
		{"window", LogQuery{Since: at(2), Until: at(6)}, []int64{6, 4, 1}},
		{"window with a search", LogQuery{Since: at(2), Until: at(6), Search: "service:ssh"}, []int64{6, 4, 1}},
		{"since", LogQuery{Since: at(8)}, []int64{5, 3}},
		{"until", LogQuery{Until: at(2)}, []int64{2}},
		{"one row", LogQuery{Since: at(9), Until: at(10)}, []int64{3}},
		{"empty", LogQuery{Since: at(6), Until: at(8)}, []int64{}},
		{"paged", LogQuery{Since: at(2), Until: at(6), Limit: 1, Offset: 1}, []int64{4}},
	} {
		p, err := s.Logs(ctx, tc.q)
		if err != nil || !reflect.DeepEqual(ids(p.Data), tc.want) || p.Total != int64(len(tc.want)) && tc.q.Limit == 0 {
			t.Errorf("%s: ids %v total %d (%v); want %v", tc.name, ids(p.Data), p.Total, err, tc.want)
		}
	}
}

func testIngestIsAtomic(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
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

func testUsers(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
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
	if err := s.CreateUser(ctx, User{Username: "bad", Role: "root"}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown role: %v, want ErrBadQuery", err)
	}
	if err := s.CreateUser(ctx, User{Username: "viewer", PasswordHash: "h2", CreatedAt: created.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, User{Username: "Admin", PasswordHash: "h4", Role: RoleAnalyst, CreatedAt: created.Add(2 * time.Second)}); err != nil {
		t.Errorf("usernames differing in case: %v", err)
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
	// Setting what is already there still finds the user (MySQL counts
	// changed rows unless told otherwise).
	for range 2 {
		if err := s.SetPassword(ctx, "u-1", "h3", false); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range []string{RoleAnalyst, RoleAdmin, RoleViewer, RoleViewer} {
		if err := s.SetRole(ctx, v.UUID, role); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByUUID(ctx, v.UUID); got.Role != role {
			t.Errorf("role = %q, want %q", got.Role, role)
		}
	}
	if err := s.SetRole(ctx, v.UUID, "god"); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown role: %v, want ErrBadQuery", err)
	}
	got, _ := s.UserByUUID(ctx, "u-1")
	if got.PasswordHash != "h3" || got.MustChangePassword {
		t.Errorf("after SetPassword: %+v", got)
	}
	if n, err := s.CountUsers(ctx); n != 3 || err != nil {
		t.Errorf("count = %d, %v", n, err)
	}
	// u-1 is the only admin: it can be neither demoted nor deleted.
	for _, err := range []error{s.SetRole(ctx, "u-1", RoleAnalyst), s.DeleteUser(ctx, "u-1")} {
		if !errors.Is(err, ErrLastAdmin) {
			t.Errorf("last admin: %v, want ErrLastAdmin", err)
		}
	}
	if err := s.SetRole(ctx, "u-1", RoleAdmin); err != nil {
		t.Errorf("an admin kept admin: %v", err)
	}
	spare := User{UUID: "u-9", Username: "spare", PasswordHash: "h", Role: RoleAdmin, CreatedAt: created.Add(time.Hour)}
	if err := s.CreateUser(ctx, spare); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "u-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, spare.UUID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("the new last admin: %v, want ErrLastAdmin", err)
	}
	us, err := s.ListUsers(ctx)
	var names []string
	for _, u := range us {
		names = append(names, u.Username+"/"+u.Role)
	}
	if err != nil || !reflect.DeepEqual(names, []string{"viewer/viewer", "Admin/analyst", "spare/admin"}) {
		t.Errorf("list = %v, %v", names, err)
	}
}

func testHistogram(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	seed(t, s) // t0 = 02:22:56.123456 and a log a minute until 02:28:56
	at := func(h, m, sec int) time.Time { return time.Date(2026, 4, 18, h, m, sec, 0, time.UTC) }
	type b = []Bucket
	// 90 s does not divide an hour's offset from the epoch evenly here:
	// buckets start at multiples of 90 s since 1970, computed apart.
	var want90 b
	for m := range 7 {
		start := t0.Add(time.Duration(m) * time.Minute).Truncate(90 * time.Second)
		if n := len(want90); n > 0 && want90[n-1].Time.Equal(start) {
			want90[n-1].Count++
		} else {
			want90 = append(want90, Bucket{start, 1})
		}
	}
	tests := []struct {
		name     string
		q        LogQuery
		interval time.Duration
		want     b
	}{
		{"5 minutes", LogQuery{}, 5 * time.Minute, b{{at(2, 20, 0), 3}, {at(2, 25, 0), 4}}},
		{"1 minute", LogQuery{}, time.Minute, b{{at(2, 22, 0), 1}, {at(2, 23, 0), 1}, {at(2, 24, 0), 1}, {at(2, 25, 0), 1},
			{at(2, 26, 0), 1}, {at(2, 27, 0), 1}, {at(2, 28, 0), 1}}},
		{"90 seconds, aligned on the epoch", LogQuery{}, 90 * time.Second, want90},
		{"hour", LogQuery{}, time.Hour, b{{at(2, 0, 0), 7}}},
		{"day", LogQuery{}, 24 * time.Hour, b{{at(0, 0, 0), 7}}},
		{"search", LogQuery{Search: "decky:decky-01"}, 5 * time.Minute, b{{at(2, 20, 0), 2}, {at(2, 25, 0), 1}}},
		{"window", LogQuery{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, 5 * time.Minute, b{{at(2, 20, 0), 2}}},
		{"paging ignored", LogQuery{Limit: 1, Offset: 3, AfterID: 6, Ascending: true}, time.Hour, b{{at(2, 0, 0), 7}}},
		{"nothing", LogQuery{Search: "nothing-matches"}, time.Hour, b{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Histogram(context.Background(), tc.q, tc.interval)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
	// Two logs eight days apart in minute buckets: more buckets than
	// SQLite counts by range.
	far := rec(0, "decky-09", "ssh", "connect", "10.9.9.9", nil)
	far.Timestamp = t0.Add(8 * 24 * time.Hour)
	ingest(t, s, far)
	got, err := s.Histogram(context.Background(), LogQuery{Since: t0.Add(6 * time.Minute)}, time.Minute)
	if want := (b{{at(2, 28, 0), 1}, {far.Timestamp.Truncate(time.Minute), 1}}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("sparse: %v, %v; want %v", got, err, want)
	}
	for _, bad := range []time.Duration{0, -time.Minute, 59 * time.Second, time.Minute + time.Millisecond} {
		if _, err := s.Histogram(context.Background(), LogQuery{}, bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("interval %v: err = %v, want ErrBadQuery", bad, err)
		}
	}
	if _, err := s.Histogram(context.Background(), LogQuery{Search: `"open`}, time.Hour); !errors.Is(err, ErrBadQuery) {
		t.Errorf("bad search: err = %v, want ErrBadQuery", err)
	}
}

// testIngestBatchSizes: batches below, at and past the rows of one
// multi-row INSERT keep every row, in order.
func testIngestBatchSizes(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	seq := 0
	for _, n := range []int{1, logChunk - 1, logChunk, logChunk + 1, 2*logChunk + 7, 500} {
		recs := make([]event.Record, n)
		for i := range recs {
			recs[i] = rec(seq, "decky-01", "ssh", "auth", fmt.Sprintf("10.0.%d.%d", seq/250, seq%250),
				map[string]string{"username": "u", "password": fmt.Sprint(seq)})
			seq++
		}
		if err := s.Ingest(ctx, recs, "cp", []byte(fmt.Sprint(n))); err != nil {
			t.Fatalf("batch of %d: %v", n, err)
		}
	}
	var got []Log
	for after := int64(0); ; {
		logs, err := s.LogsAfter(ctx, after, MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) == 0 {
			break
		}
		got = append(got, logs...)
		after = logs[len(logs)-1].ID
	}
	if len(got) != seq {
		t.Fatalf("%d logs, want %d", len(got), seq)
	}
	for i, l := range got {
		if l.ID != int64(i+1) || l.Fields["password"] != fmt.Sprint(i) || !l.Timestamp.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("log %d: %+v", i, l)
		}
	}
	if st, _ := s.Stats(ctx); st.TotalBounties != int64(seq) {
		t.Errorf("%d bounties, want %d", st.TotalBounties, seq)
	}
}

func testCursor(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	if id, err := s.MaxLogID(ctx); id != 0 || err != nil {
		t.Errorf("empty store: max id %d, %v", id, err)
	}
	if logs, err := s.LogsAfter(ctx, 0, 10); err != nil || logs == nil || len(logs) != 0 {
		t.Errorf("empty store: logs after 0 = %#v, %v", logs, err)
	}
	seed(t, s)
	if id, err := s.MaxLogID(ctx); id != 7 || err != nil {
		t.Errorf("max id %d, %v; want 7", id, err)
	}
	for _, tc := range []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 3, []int64{1, 2, 3}},
		{3, 3, []int64{4, 5, 6}},
		{6, 3, []int64{7}},
		{7, 3, []int64{}},
		{5, 0, []int64{6, 7}}, // no limit is the default page
	} {
		logs, err := s.LogsAfter(ctx, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(logs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("after %d limit %d: %v, want %v", tc.after, tc.limit, got, tc.want)
		}
	}
}

// attackerTimeline is one attacker's events across three deckies (first
// contact order 03, 01, 02), with commands of several kinds.
func attackerTimeline() []event.Record {
	const ip = "10.1.1.1"
	var recs []event.Record
	add := func(decky, service, typ string, fields map[string]string) {
		recs = append(recs, rec(len(recs), decky, service, typ, ip, fields))
	}
	add("decky-03", "ssh", "connect", nil)
	add("decky-01", "redis", "redis_command", map[string]string{"command": "KEYS *"})
	add("decky-03", "ssh", "command", map[string]string{"command": ""}) // empty: not a command
	for i := range MaxProfileCommands + 5 {
		add("decky-03", "ssh", "command", map[string]string{"command": fmt.Sprintf("cmd %d", i)})
	}
	add("decky-02", "imap", "input", map[string]string{"cmd": "LOGIN"}) // the first non-empty field wins
	add("decky-02", "mysql", "query", map[string]string{"query": "", "sql": "SELECT 1"})
	add("decky-01", "ssh", "file_captured", map[string]string{"stored_as": "a", "sha256": "x"})
	add("decky-01", "ssh", "file_captured", map[string]string{"stored_as": "b", "sha256": "y"})
	add("decky-01", "http", "request", map[string]string{"command": "not a command event"})
	// Another attacker, whose events must not leak in.
	recs = append(recs, rec(len(recs), "decky-09", "ssh", "command", "10.1.1.2", map[string]string{"command": "whoami"}))
	return recs
}

func testActivity(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	recs := attackerTimeline()
	ingest(t, s, recs...)
	a, err := s.Activity(ctx, "10.1.1.1", 3)
	if err != nil {
		t.Fatal(err)
	}
	last := len(recs) - 2 // the last event of 10.1.1.1
	if a.IP != "10.1.1.1" || a.EventCount != int64(last+1) || !a.FirstSeen.Equal(recs[0].Timestamp) || !a.LastSeen.Equal(recs[last].Timestamp) {
		t.Errorf("counts: ip %s, %d events, %v – %v", a.IP, a.EventCount, a.FirstSeen, a.LastSeen)
	}
	if want := []string{"decky-03", "decky-01", "decky-02"}; !reflect.DeepEqual(a.Deckies, want) {
		t.Errorf("deckies %v, want %v", a.Deckies, want)
	}
	if want := []string{"http", "imap", "mysql", "redis", "ssh"}; !reflect.DeepEqual(a.Services, want) {
		t.Errorf("services %v, want %v", a.Services, want)
	}
	// KEYS *, 55 ssh commands, LOGIN, SELECT 1.
	if a.CommandCount != MaxProfileCommands+8 {
		t.Errorf("command count %d, want %d", a.CommandCount, MaxProfileCommands+8)
	}
	var texts []string
	for _, c := range a.Commands {
		texts = append(texts, c.Command)
	}
	var want []string
	for i := 7; i < MaxProfileCommands+5; i++ { // 48 of the 55, then 2 more
		want = append(want, fmt.Sprintf("cmd %d", i))
	}
	want = append(want, "LOGIN", "SELECT 1")
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("commands (newest %d, oldest first)\n got %q\nwant %q", MaxProfileCommands, texts, want)
	}
	if c := a.Commands[len(a.Commands)-1]; c.Decky != "decky-02" || c.Service != "mysql" || !c.Timestamp.Equal(recs[last-3].Timestamp) {
		t.Errorf("last command %+v", c)
	}
	if got, want := ids(a.Recent), []int64{int64(last - 1), int64(last), int64(last + 1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("recent ids %v, want %v", got, want)
	}
	none, err := s.Activity(ctx, "10.9.9.9", 10)
	if err != nil || none.EventCount != 0 || len(none.Deckies) != 0 || len(none.Recent) != 0 || !none.FirstSeen.IsZero() {
		t.Errorf("unknown IP: %+v, %v", none, err)
	}
}

func ptr[T any](v T) *T { return &v }

// fullAttacker has every field set, behaviour included.
func fullAttacker(ip string) Attacker {
	recon := t0.Add(time.Minute)
	return Attacker{
		IP: ip, FirstSeen: t0, LastSeen: t0.Add(time.Hour), EventCount: 42, ServiceCount: 2, DeckyCount: 2,
		Services: []string{"http", "ssh"}, Deckies: []string{"decky-02", "decky-01"},
		TraversalPath: "decky-02 → decky-01", IsTraversal: true, BountyCount: 3, CredentialCount: 2,
		Fingerprints: []Bounty{{ID: 9, Timestamp: t0, Decky: "decky-01", Service: "http", AttackerIP: ip,
			BountyType: BountyFingerprint, Payload: map[string]any{"fingerprint_type": "http_useragent", "value": "curl"}}},
		CommandCount: 1, Commands: []Command{{Timestamp: t0, Decky: "decky-01", Service: "ssh", Command: "id; \x00 uname -a"}},
		UpdatedAt: t0.Add(2 * time.Hour),
		Behavior: &Behavior{OSGuess: "linux", HopDistance: ptr(3),
			TCPFingerprint:  &TCPFingerprint{Window: ptr(64240), WScale: ptr(7), MSS: ptr(1460), OptionsSig: "M,S,T,N,W", HasSACK: true, HasTimestamps: true},
			RetransmitCount: 1, BehaviorClass: "beaconing", BeaconIntervalS: ptr(30.5), BeaconJitterPct: ptr(2.25),
			ToolGuesses: []string{"cobalt_strike"},
			TimingStats: TimingStats{EventCount: 42, DurationS: 3600, MeanIATS: ptr(30.1), MedianIATS: ptr(30.0),
				StdevIATS: ptr(0.5), MinIATS: ptr(29.0), MaxIATS: ptr(31.0), CV: ptr(0.01)},
			PhaseSequence: PhaseSequence{ReconEndTS: &recon, ExfilLatencyS: ptr(12.5), LargePayloadCount: 2},
			UpdatedAt:     t0.Add(2 * time.Hour)},
	}
}

func testUpsertAttacker(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	a := fullAttacker("10.2.2.2")
	uuid, err := s.UpsertAttacker(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(uuid) != 36 {
		t.Fatalf("uuid %q", uuid)
	}
	got, err := s.Attacker(ctx, uuid)
	if err != nil {
		t.Fatal(err)
	}
	a.UUID = uuid
	if !reflect.DeepEqual(got, a) {
		t.Errorf("got  %+v\nwant %+v\nbehavior got %+v\n        want %+v", got, a, *got.Behavior, *a.Behavior)
	}

	// An update keeps the UUID (whatever the caller passes), replaces
	// every field and keeps the behaviour when none is given.
	upd := Attacker{UUID: "ignored", IP: "10.2.2.2", FirstSeen: t0, LastSeen: t0.Add(3 * time.Hour), EventCount: 50,
		UpdatedAt: t0.Add(3 * time.Hour)}
	if again, err := s.UpsertAttacker(ctx, upd); err != nil || again != uuid {
		t.Fatalf("update: uuid %q, %v; want %q", again, err, uuid)
	}
	got, _ = s.Attacker(ctx, uuid)
	if got.EventCount != 50 || got.IsTraversal || got.TraversalPath != "" || len(got.Services) != 0 || got.Services == nil ||
		got.Behavior == nil || got.Behavior.BehaviorClass != "beaconing" {
		t.Errorf("after update: %+v", got)
	}
	// A behaviour with nothing known stores as such.
	upd.Behavior = &Behavior{BehaviorClass: "unknown", UpdatedAt: t0}
	if _, err := s.UpsertAttacker(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Attacker(ctx, uuid)
	if want := (Behavior{BehaviorClass: "unknown", UpdatedAt: t0}); got.Behavior == nil || !reflect.DeepEqual(*got.Behavior, want) {
		t.Errorf("behaviour %+v, want %+v", got.Behavior, want)
	}

	// A new IP with a caller-chosen UUID, and one without behaviour.
	if u, err := s.UpsertAttacker(ctx, Attacker{UUID: "chosen-uuid", IP: "10.3.3.3", FirstSeen: t0, LastSeen: t0}); err != nil || u != "chosen-uuid" {
		t.Errorf("new attacker with a uuid: %q, %v", u, err)
	}
	if got, err := s.Attacker(ctx, "chosen-uuid"); err != nil || got.Behavior != nil || got.IP != "10.3.3.3" {
		t.Errorf("attacker without behaviour: %+v, %v", got, err)
	}
	if _, err := s.Attacker(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown uuid: %v, want ErrNotFound", err)
	}
	if _, err := s.UpsertAttacker(ctx, Attacker{}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("no IP: %v, want ErrBadQuery", err)
	}

	// Concurrent upserts of one new IP make one row.
	var wg sync.WaitGroup
	uuids := make([]string, 8)
	for i := range uuids {
		wg.Go(func() {
			var err error
			if uuids[i], err = s.UpsertAttacker(ctx, Attacker{IP: "10.4.4.4", FirstSeen: t0, LastSeen: t0, EventCount: int64(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, u := range uuids {
		if u != uuids[0] {
			t.Errorf("concurrent upserts gave uuids %v", uuids)
			break
		}
	}
	if p, err := s.Attackers(ctx, AttackerQuery{Search: "10.4.4.4"}); err != nil || p.Total != 1 {
		t.Errorf("rows for 10.4.4.4: %d, %v", p.Total, err)
	}
}

func testAttackersList(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	for _, a := range []Attacker{
		{IP: "10.0.0.1", LastSeen: t0.Add(1 * time.Hour), EventCount: 5, Services: []string{"ssh"}},
		{IP: "10.0.0.2", LastSeen: t0.Add(4 * time.Hour), EventCount: 1, Services: []string{"http", "ssh"}},
		{IP: "10.0.0.3", LastSeen: t0.Add(2 * time.Hour), EventCount: 9, Services: []string{"sshd"}, IsTraversal: true},
		{IP: "192.168.0.4", LastSeen: t0.Add(3 * time.Hour), EventCount: 5, Services: []string{`"ssh"`}, IsTraversal: true},
		{IP: "192.168.0.5", LastSeen: t0.Add(3 * time.Hour), EventCount: 2},
	} {
		a.FirstSeen = t0
		if _, err := s.UpsertAttacker(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		q     AttackerQuery
		want  []string
		total int64
	}{
		{"recent by default", AttackerQuery{}, []string{"10.0.0.2", "192.168.0.5", "192.168.0.4", "10.0.0.3", "10.0.0.1"}, 5},
		{"recent", AttackerQuery{SortBy: SortRecent}, []string{"10.0.0.2", "192.168.0.5", "192.168.0.4", "10.0.0.3", "10.0.0.1"}, 5},
		{"active", AttackerQuery{SortBy: SortActive}, []string{"10.0.0.3", "192.168.0.4", "10.0.0.1", "192.168.0.5", "10.0.0.2"}, 5},
		{"traversals", AttackerQuery{SortBy: SortTraversals}, []string{"192.168.0.4", "10.0.0.3", "10.0.0.2", "192.168.0.5", "10.0.0.1"}, 5},
		{"page", AttackerQuery{SortBy: SortActive, Limit: 2, Offset: 1}, []string{"192.168.0.4", "10.0.0.1"}, 5},
		{"search", AttackerQuery{Search: "192.168"}, []string{"192.168.0.5", "192.168.0.4"}, 2},
		{"search is literal", AttackerQuery{Search: "10_0"}, []string{}, 0},
		{"service exact", AttackerQuery{Service: "ssh"}, []string{"10.0.0.2", "10.0.0.1"}, 2},
		{"service with quotes", AttackerQuery{Service: `"ssh"`}, []string{"192.168.0.4"}, 1},
		{"service and search", AttackerQuery{Service: "ssh", Search: ".2"}, []string{"10.0.0.2"}, 1},
		{"no such service", AttackerQuery{Service: "ss"}, []string{}, 0},
		{"traversals only", AttackerQuery{Traversal: true}, []string{"192.168.0.4", "10.0.0.3"}, 2},
		{"traversals, active", AttackerQuery{Traversal: true, SortBy: SortActive}, []string{"10.0.0.3", "192.168.0.4"}, 2},
		{"traversals and service", AttackerQuery{Traversal: true, Service: "sshd"}, []string{"10.0.0.3"}, 1},
		{"traversals and search", AttackerQuery{Traversal: true, Search: "10.0"}, []string{"10.0.0.3"}, 1},
		{"traversals page", AttackerQuery{Traversal: true, Limit: 1, Offset: 1}, []string{"10.0.0.3"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Attackers(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, a := range p.Data {
				got = append(got, a.IP)
			}
			if !reflect.DeepEqual(got, tc.want) || p.Total != tc.total {
				t.Errorf("got %v (total %d), want %v (total %d)", got, p.Total, tc.want, tc.total)
			}
		})
	}
	if _, err := s.Attackers(ctx, AttackerQuery{SortBy: "name"}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown sort: %v, want ErrBadQuery", err)
	}
}

func testAttackerCommandsAndArtifacts(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	recs := attackerTimeline()
	ingest(t, s, recs...)
	uuid, err := s.UpsertAttacker(ctx, Attacker{IP: "10.1.1.1", FirstSeen: t0, LastSeen: t0})
	if err != nil {
		t.Fatal(err)
	}
	texts := func(cs []Command) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Command)
		}
		return out
	}
	tests := []struct {
		q     CommandQuery
		want  []string
		total int64
	}{
		{CommandQuery{Limit: 3}, []string{"SELECT 1", "LOGIN", fmt.Sprintf("cmd %d", MaxProfileCommands+4)}, MaxProfileCommands + 8},
		{CommandQuery{Limit: 2, Offset: MaxProfileCommands + 6}, []string{"cmd 0", "KEYS *"}, MaxProfileCommands + 8},
		{CommandQuery{Service: "redis"}, []string{"KEYS *"}, 1},
		{CommandQuery{Service: "http"}, []string{}, 0},
		{CommandQuery{Service: "SSH"}, []string{}, 0},
	}
	for _, tc := range tests {
		p, err := s.AttackerCommands(ctx, uuid, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(p.Data); !reflect.DeepEqual(got, tc.want) || p.Total != tc.total {
			t.Errorf("%+v: %q (total %d), want %q (total %d)", tc.q, got, p.Total, tc.want, tc.total)
		}
	}
	p, _ := s.AttackerCommands(ctx, uuid, CommandQuery{Service: "redis"})
	if c := p.Data[0]; c.Decky != "decky-01" || !c.Timestamp.Equal(recs[1].Timestamp) {
		t.Errorf("command %+v", c)
	}
	if _, err := s.AttackerCommands(ctx, "nope", CommandQuery{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("commands of an unknown attacker: %v, want ErrNotFound", err)
	}

	arts, err := s.AttackerArtifacts(ctx, uuid, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts.Data) != 2 || arts.Total != 2 || arts.Data[0].Fields["stored_as"] != "b" || arts.Data[1].Fields["stored_as"] != "a" {
		t.Errorf("artifacts, newest first: %+v", arts)
	}
	if arts, _ := s.AttackerArtifacts(ctx, uuid, 1); len(arts.Data) != 1 || arts.Total != 2 || arts.Limit != 1 {
		t.Errorf("artifacts limited to 1: %+v", arts)
	}
	if _, err := s.AttackerArtifacts(ctx, "nope", 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("artifacts of an unknown attacker: %v, want ErrNotFound", err)
	}
	other, _ := s.UpsertAttacker(ctx, Attacker{IP: "10.1.1.2", FirstSeen: t0, LastSeen: t0})
	if arts, err := s.AttackerArtifacts(ctx, other, 10); err != nil || arts.Total != 0 || arts.Data == nil {
		t.Errorf("no artifacts: %+v, %v", arts, err)
	}
}

func testPurge(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	seed(t, s)
	if err := s.CreateUser(ctx, User{Username: "keep", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"10.0.0.7", "10.0.0.8"} {
		a := fullAttacker(ip)
		if _, err := s.UpsertAttacker(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Purged{Logs: 7, Bounties: 3, Attackers: 2}); p != want {
		t.Errorf("purged %+v, want %+v", p, want)
	}
	st, _ := s.Stats(ctx)
	as, _ := s.Attackers(ctx, AttackerQuery{})
	if st != (Stats{}) || as.Total != 0 {
		t.Errorf("after purge: %+v, %d attackers", st, as.Total)
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Errorf("users after purge: %d", n)
	}
	if v, err := s.State(ctx, "ingest:test"); err != nil || len(v) == 0 {
		t.Errorf("state after purge: %q, %v", v, err)
	}
	// Ids go on from where they were: a stream that saw id 7 must see the
	// next log.
	ingest(t, s, rec(20, "decky-01", "ssh", "auth", "10.0.0.7", map[string]string{"username": "a", "password": "b"}))
	logs, _ := s.LogsAfter(ctx, 7, 10)
	if len(logs) != 1 || logs[0].ID <= 7 {
		t.Errorf("after purge, logs after id 7: %v", ids(logs))
	}
	bs, _ := s.Bounties(ctx, BountyQuery{})
	if len(bs.Data) != 1 || bs.Data[0].ID <= 3 {
		t.Errorf("after purge, bounty ids %+v", bs.Data)
	}
	if p, err := s.Purge(ctx); err != nil || p != (Purged{Logs: 1, Bounties: 1}) {
		t.Errorf("second purge %+v, %v", p, err)
	}
}

// testConcurrentIngestAndReads ingests from several goroutines while
// others page, count and chart: nothing fails, every read is consistent
// (a page never holds more than its total, totals never shrink) and every
// row arrives once.
func testConcurrentIngestAndReads(t *testing.T, fresh freshDB) {
	s := openFresh(t, fresh)
	ctx := context.Background()
	const writers, batches, per = 3, 15, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := make([]event.Record, per)
				for i := range recs {
					recs[i] = rec(b, fmt.Sprintf("decky-%02d", w), "ssh", "auth", fmt.Sprintf("10.9.%d.%d", w, i),
						map[string]string{"username": "root", "password": fmt.Sprint(b*per + i)})
				}
				if err := s.Ingest(ctx, recs, fmt.Sprintf("cp:%d", w), []byte(fmt.Sprint(b))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Go(func() {
			var lastTotal int64
			for {
				select {
				case <-done:
					return
				default:
				}
				var total int64
				switch r {
				case 0:
					p, err := s.Logs(ctx, LogQuery{Limit: 25, Search: "decky-0"})
					if err != nil {
						t.Error(err)
						return
					}
					if int64(len(p.Data)) > p.Total || (p.Total > 0 && len(p.Data) == 0) {
						t.Errorf("page of %d rows, total %d", len(p.Data), p.Total)
					}
					total = p.Total
				case 1:
					st, err := s.Stats(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					total = st.TotalLogs
				default:
					bs, err := s.Histogram(ctx, LogQuery{}, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					for _, b := range bs {
						total += b.Count
					}
				}
				if total < lastTotal {
					t.Errorf("reader %d: total went from %d to %d", r, lastTotal, total)
				}
				lastTotal = total
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	st, err := s.Stats(ctx)
	if want := (Stats{TotalLogs: writers * batches * per, UniqueAttackers: writers * per, TotalBounties: writers * batches * per}); err != nil || st != want {
		t.Errorf("stats %+v, %v; want %+v", st, err, want)
	}
	seen := map[int64]bool{}
	for after := int64(0); ; {
		logs, err := s.LogsAfter(ctx, after, MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) == 0 {
			break
		}
		for _, l := range logs {
			if seen[l.ID] {
				t.Fatalf("id %d twice", l.ID)
			}
			seen[l.ID] = true
		}
		after = logs[len(logs)-1].ID
	}
	if len(seen) != writers*batches*per {
		t.Errorf("%d distinct rows, want %d", len(seen), writers*batches*per)
	}
}

// testMigrations: the schema functions on an empty database, then a
// store opened on what they made.
func testMigrations(t *testing.T, fresh freshDB) {
	ctx := context.Background()
	typ, url := fresh(t)
	ms, err := loadMigrations(mustDialect(t, typ).name)
	if err != nil {
		t.Fatal(err)
	}
	latest := len(ms)
	if cur, l, err := SchemaVersion(ctx, typ, url); err != nil || cur != 0 || l != latest {
		t.Errorf("empty database: version %d of %d, %v; want 0 of %d", cur, l, err, latest)
	}
	if from, to, err := Migrate(ctx, typ, url); err != nil || from != 0 || to != latest {
		t.Errorf("migrate: %d → %d, %v; want 0 → %d", from, to, err, latest)
	}
	if from, to, err := Migrate(ctx, typ, url); err != nil || from != latest || to != latest {
		t.Errorf("migrate again: %d → %d, %v", from, to, err)
	}
	if cur, _, err := SchemaVersion(ctx, typ, url); err != nil || cur != latest {
		t.Errorf("after migrate: version %d, %v", cur, err)
	}
	for i := range 2 { // reopening keeps the data and the schema
		s, err := Open(ctx, typ, url)
		if err != nil {
			t.Fatal(err)
		}
		ingest(t, s, rec(i, "d", "ssh", "connect", "1.2.3.4", nil))
		if st, _ := s.Stats(ctx); st.TotalLogs != int64(i+1) {
			t.Errorf("open %d: %d logs", i, st.TotalLogs)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func mustDialect(t testing.TB, typ string) *dialect {
	t.Helper()
	d, err := dialectOf(typ)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
