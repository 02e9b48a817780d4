package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"decnet/internal/event"
	"decnet/internal/store"
)

// streamRepo is the real SQLite store with a switch that makes MaxLogID
// fail, for the stream's error path.
type streamRepo struct {
	*store.SQLite
	fail atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (r *streamRepo) MaxLogID(ctx context.Context) (int64, error) {
	if r.fail.Load() {
		return 0, errInjected
	}
	return r.SQLite.MaxLogID(ctx)
}

// streamEnv is a server over a real SQLite store behind a real listener
// whose read and write timeouts are far shorter than a stream lives.
type streamEnv struct {
	repo *streamRepo
	srv  *Server
	ts   *httptest.Server
	seq  int
}

// testTiming keeps production values except where a test needs speed.
var testTiming = streamTiming{
	keepalive:    15 * time.Second,
	poll:         500 * time.Millisecond,
	fallbackPoll: time.Second,
	minCheck:     20 * time.Millisecond,
	summary:      10 * time.Second,
	summaryGap:   2 * time.Second,
	write:        10 * time.Second,
}

func newStreamEnv(t *testing.T, edit func(*streamHub)) *streamEnv {
	t.Helper()
	sq, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "decnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	repo := &streamRepo{SQLite: sq}
	srv, err := New(Config{Repo: repo, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	srv.streams.timing = testTiming
	if edit != nil {
		edit(srv.streams)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Config.WriteTimeout = 300 * time.Millisecond
	ts.Config.RegisterOnShutdown(srv.CloseStreams)
	ts.Start()
	t.Cleanup(ts.Close)
	return &streamEnv{repo: repo, srv: srv, ts: ts}
}

func (e *streamEnv) user(t *testing.T, role string, mustChange bool) store.User {
	t.Helper()
	h, err := hashPassword("password1", bcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{UUID: uuid.NewString(), Username: "u-" + uuid.NewString()[:8], PasswordHash: string(h),
		Role: role, MustChangePassword: mustChange}
	if err := e.repo.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *streamEnv) token(t *testing.T, u store.User) string {
	t.Helper()
	tok, err := e.srv.issueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *streamEnv) ticket(t *testing.T, u store.User, issued time.Time) string {
	t.Helper()
	tok, err := e.srv.issueTicket(u, issued)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ingest stores one log per service named and returns their raw lines.
func (e *streamEnv) ingest(t *testing.T, services ...string) []string {
	t.Helper()
	recs := make([]event.Record, len(services))
	lines := make([]string, len(services))
	for i, svc := range services {
		e.seq++
		lines[i] = fmt.Sprintf("<134>1 line %d of %s", e.seq, svc)
		recs[i] = event.Record{Timestamp: time.Now().UTC(), Decky: "web-01", Service: svc, EventType: "connect",
			AttackerIP: "192.0.2.9", Fields: map[string]string{"src_ip": "192.0.2.9", "n": strconv.Itoa(e.seq)},
			RawLine: lines[i]}
	}
	if err := e.repo.Ingest(t.Context(), recs, "", nil); err != nil {
		t.Fatal(err)
	}
	return lines
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// get requests the stream; the caller closes the body.
func (e *streamEnv) get(t *testing.T, path string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// sseFrame is one parsed event-stream block.
type sseFrame struct {
	id       string
	hasID    bool
	event    string
	data     string
	retry    string
	comments []string
}

type sseClient struct {
	resp   *http.Response
	frames chan sseFrame
}

// open starts a stream that must be accepted and parses it in the
// background; closing the test ends it.
func (e *streamEnv) open(t *testing.T, path string, header http.Header) *sseClient {
	t.Helper()
	resp := e.get(t, path, header)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	c := &sseClient{resp: resp, frames: make(chan sseFrame, 1024)}
	t.Cleanup(func() { resp.Body.Close() })
	go c.parse()
	return c
}

// parse reads frames as the WHATWG event-stream grammar defines them
// (for the fields this server sends) until the body ends.
func (c *sseClient) parse() {
	defer close(c.frames)
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(nil, 1<<20)
	var f sseFrame
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			f.data = strings.Join(data, "\n")
			c.frames <- f
			f, data = sseFrame{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			f.comments = append(f.comments, strings.TrimPrefix(line[1:], " "))
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			f.id, f.hasID = value, true
		case "event":
			f.event = value
		case "data":
			data = append(data, value)
		case "retry":
			f.retry = value
		}
	}
}

// next returns the next frame; ok is false when the stream ended.
func (c *sseClient) next(t *testing.T, within time.Duration) (sseFrame, bool) {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-time.After(within):
		t.Fatalf("no frame within %v", within)
		return sseFrame{}, false
	}
}

type sseMessage struct {
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Message string          `json:"message"`
}

// message returns the next message of type typ, skipping comments and
// other messages, and its frame.
func (c *sseClient) message(t *testing.T, typ string, within time.Duration) (sseFrame, sseMessage) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		f, ok := c.next(t, time.Until(deadline))
		if !ok {
			t.Fatalf("stream ended while waiting for %s", typ)
		}
		if f.data == "" {
			continue
		}
		var m sseMessage
		if err := json.Unmarshal([]byte(f.data), &m); err != nil {
			t.Fatalf("data %q: %v", f.data, err)
		}
		if m.Type == typ {
			if f.event != "message" {
				t.Fatalf("%s frame has event %q", typ, f.event)
			}
			return f, m
		}
	}
}

// logs returns the next logs message's rows and checks its id line.
func (c *sseClient) logs(t *testing.T, within time.Duration) []store.Log {
	t.Helper()
	f, m := c.message(t, "logs", within)
	var rows []store.Log
	if err := json.Unmarshal(m.Data, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || len(rows) > streamBatch {
		t.Fatalf("logs message of %d rows", len(rows))
	}
	if want := strconv.FormatInt(rows[len(rows)-1].ID, 10); !f.hasID || f.id != want {
		t.Fatalf("logs frame id %q (present %v), want %s", f.id, f.hasID, want)
	}
	return rows
}

// quiet checks that no logs message comes within d.
func (c *sseClient) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return
			}
			if strings.Contains(f.data, `"type":"logs"`) {
				t.Fatalf("unexpected logs message %s", f.data)
			}
		case <-deadline:
			return
		}
	}
}

// ended waits for the stream to end, skipping frames.
func (c *sseClient) ended(t *testing.T, within time.Duration) []sseFrame {
	t.Helper()
	var seen []sseFrame
	deadline := time.Now().Add(within)
	for {
		f, ok := c.next(t, time.Until(deadline))
		if !ok {
			return seen
		}
		seen = append(seen, f)
	}
}

func TestStreamOpening(t *testing.T) {
	e := newStreamEnv(t, nil)
	e.ingest(t, "ssh", "http", "ssh")
	newest, err := e.repo.MaxLogID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
		"X-Accel-Buffering": "no"} {
		if got := c.resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	first, _ := c.next(t, time.Second)
	if first.retry != strconv.Itoa(streamRetry) || first.id != strconv.FormatInt(newest, 10) || first.data != "" {
		t.Fatalf("first frame %+v, want retry and id %d only", first, newest)
	}
	_, m := c.message(t, "stats", time.Second)
	var st StatsBody
	if err := json.Unmarshal(m.Data, &st); err != nil || st.TotalLogs != 3 || st.UniqueAttackers != 1 {
		t.Fatalf("stats %s: %v", m.Data, err)
	}
	_, m = c.message(t, "histogram", time.Second)
	var buckets []store.Bucket
	if err := json.Unmarshal(m.Data, &buckets); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range buckets {
		total += b.Count
		if b.Time.Location() != time.UTC || b.Time.Unix()%int64(histogramInterval/time.Second) != 0 {
			t.Fatalf("bucket %+v is not a 15-minute UTC bucket", b)
		}
	}
	if total != 3 {
		t.Fatalf("histogram %s counts %d logs, want 3", m.Data, total)
	}
	c.quiet(t, 300*time.Millisecond) // the old logs are not sent
}

func TestStreamDeliversNewLogsWithinASecond(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify bool
	}{
		{"polling", false},
		// Polls an hour apart: only Notify can deliver in time.
		{"notified", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStreamEnv(t, func(h *streamHub) {
				if tc.notify {
					h.timing.poll, h.timing.fallbackPoll = time.Hour, time.Hour
				}
			})
			c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
			c.message(t, "histogram", time.Second)
			var lastID int64
			for round := range 3 {
				lines := e.ingest(t, "ssh", "redis")
				stored := time.Now()
				if tc.notify {
					e.srv.Notify()
				}
				rows := c.logs(t, time.Second)
				if d := time.Since(stored); d >= time.Second {
					t.Fatalf("round %d: logs after %v", round, d)
				}
				if len(rows) != 2 || rows[0].RawLine != lines[0] || rows[1].RawLine != lines[1] ||
					rows[0].Fields["n"] == "" || rows[0].Timestamp.Location() != time.UTC {
					t.Fatalf("round %d: rows %+v, want %q", round, rows, lines)
				}
				if rows[0].ID <= lastID || rows[1].ID != rows[0].ID+1 {
					t.Fatalf("round %d: ids %d,%d after %d", round, rows[0].ID, rows[1].ID, lastID)
				}
				lastID = rows[1].ID
			}
		})
	}
}

// collect reads logs messages until n rows arrived.
func collect(t *testing.T, c *sseClient, n int) []store.Log {
	t.Helper()
	var rows []store.Log
	for len(rows) < n {
		rows = append(rows, c.logs(t, 2*time.Second)...)
	}
	return rows
}

// consecutive checks rows are exactly the ids after..after+len(rows).
func consecutive(t *testing.T, rows []store.Log, after int64) {
	t.Helper()
	for i, r := range rows {
		if r.ID != after+int64(i)+1 {
			t.Fatalf("row %d has id %d, want %d", i, r.ID, after+int64(i)+1)
		}
	}
}

func TestStreamResume(t *testing.T) {
	e := newStreamEnv(t, func(h *streamHub) { h.timing.poll = 50 * time.Millisecond })
	tok := e.token(t, e.user(t, store.RoleViewer, false))
	first := e.open(t, "/api/v1/stream", bearer(tok))
	first.message(t, "histogram", time.Second)
	e.ingest(t, "ssh", "ssh", "ssh")
	seen := collect(t, first, 3)
	last := seen[len(seen)-1].ID
	first.resp.Body.Close()

	// 120 logs while away: more than two batches.
	missed := e.ingest(t, repeat("http", 120)...)
	newest, err := e.repo.MaxLogID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	lastStr := strconv.FormatInt(last, 10)
	for _, tc := range []struct {
		name   string
		path   string
		header http.Header
		after  int64 // 0: nothing old is replayed
	}{
		{"Last-Event-ID", "/api/v1/stream", http.Header{"Last-Event-Id": {lastStr}}, last},
		{"lastEventId", "/api/v1/stream?lastEventId=" + lastStr, nil, last},
		{"header wins", "/api/v1/stream?lastEventId=1", http.Header{"Last-Event-Id": {lastStr}}, last},
		{"zero means new only", "/api/v1/stream?lastEventId=0", nil, 0},
		{"beyond newest means new only", "/api/v1/stream", http.Header{"Last-Event-Id": {"999999"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(tok)
			for k, v := range tc.header {
				h[k] = v
			}
			c := e.open(t, tc.path, h)
			if tc.after == 0 {
				c.quiet(t, 300*time.Millisecond)
				return
			}
			rows := collect(t, c, len(missed))
			if len(rows) != len(missed) {
				t.Fatalf("%d rows, want %d", len(rows), len(missed))
			}
			consecutive(t, rows, tc.after)
			if rows[len(rows)-1].ID != newest || rows[0].RawLine != missed[0] {
				t.Fatalf("rows end at %d (%q), want %d", rows[len(rows)-1].ID, rows[0].RawLine, newest)
			}
			c.quiet(t, 300*time.Millisecond) // no duplicates
		})
	}
}

func TestStreamSearchFilter(t *testing.T) {
	e := newStreamEnv(t, func(h *streamHub) { h.timing.poll = 50 * time.Millisecond })
	tok := e.token(t, e.user(t, store.RoleViewer, false))
	e.ingest(t, "ssh", "http")
	path := "/api/v1/stream?search=" + url.QueryEscape("service:ssh n:4")
	c := e.open(t, path, bearer(tok))
	_, m := c.message(t, "histogram", time.Second)
	var buckets []store.Bucket
	if err := json.Unmarshal(m.Data, &buckets); err != nil || len(buckets) != 0 {
		t.Fatalf("histogram of the filter %s: %v", m.Data, err)
	}
	// Logs 3..7: only 4 is ssh with n=4 (the field filter).
	e.ingest(t, "http", "ssh", "http", "ssh", "ssh")
	rows := c.logs(t, time.Second)
	if len(rows) != 1 || rows[0].Service != "ssh" || rows[0].Fields["n"] != "4" {
		t.Fatalf("rows %+v", rows)
	}
	c.quiet(t, 300*time.Millisecond)

	// Resuming a filtered stream replays only matches.
	c2 := e.open(t, "/api/v1/stream?search=service:ssh", http.Header{"Authorization": {"Bearer " + tok},
		"Last-Event-Id": {"2"}})
	rows = c2.logs(t, time.Second)
	if len(rows) != 3 || rows[0].ID != 4 || rows[1].ID != 6 || rows[2].ID != 7 {
		t.Fatalf("resumed filtered rows %+v", rows)
	}

	// A time window that is over: nothing new can match.
	c3 := e.open(t, "/api/v1/stream?end_time=2001-01-01+00:00:00", bearer(tok))
	e.ingest(t, "ssh")
	c3.quiet(t, 300*time.Millisecond)
}

func TestStreamRefusesBadInput(t *testing.T) {
	e := newStreamEnv(t, nil)
	tok := e.token(t, e.user(t, store.RoleViewer, false))
	for _, tc := range []struct {
		name, path, lastEventID string
	}{
		{"letters", "/api/v1/stream", "abc"},
		{"negative", "/api/v1/stream", "-1"},
		{"plus sign", "/api/v1/stream", "+5"},
		{"fraction", "/api/v1/stream", "1.5"},
		{"beyond int64", "/api/v1/stream", "9223372036854775808"},
		{"too long", "/api/v1/stream", "12345678901234567890"},
		{"negative query", "/api/v1/stream?lastEventId=-1", ""},
		{"word query", "/api/v1/stream?lastEventId=abc", ""},
		{"bad search", "/api/v1/stream?search=" + url.QueryEscape(`"unterminated`), ""},
		{"bad time", "/api/v1/stream?start_time=yesterday", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(tok)
			if tc.lastEventID != "" {
				h.Set("Last-Event-ID", tc.lastEventID)
			}
			resp := e.get(t, tc.path, h)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusUnprocessableEntity ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s, want 422 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		})
	}
	if n := e.srv.streams.open(); n != 0 {
		t.Fatalf("%d stream slots held after refusals", n)
	}
}

// open counts the streams holding a slot.
func (h *streamHub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

func TestStreamAuth(t *testing.T) {
	e := newStreamEnv(t, nil)
	viewerU := e.user(t, store.RoleViewer, false)
	analystU := e.user(t, store.RoleAnalyst, false)
	mustChange := e.user(t, store.RoleAdmin, true)
	changed := e.user(t, store.RoleViewer, false)
	oldTicket := e.ticket(t, changed, time.Now())
	if err := e.repo.SetPassword(t.Context(), changed.UUID, changed.PasswordHash+"x", false); err != nil {
		t.Fatal(err)
	}
	access := e.token(t, viewerU)
	ticket := e.ticket(t, viewerU, time.Now())
	expired := e.ticket(t, viewerU, time.Now().Add(-2*ticketTTL))

	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		want   int
	}{
		{"no credential", "", nil, http.StatusUnauthorized},
		{"access token in header", "", bearer(access), http.StatusOK},
		{"analyst", "", bearer(e.token(t, analystU)), http.StatusOK},
		{"access token in query", "?token=" + access, nil, http.StatusOK},
		{"ticket", "?ticket=" + ticket, nil, http.StatusOK},
		{"expired ticket", "?ticket=" + expired, nil, http.StatusUnauthorized},
		{"ticket after password change", "?ticket=" + oldTicket, nil, http.StatusUnauthorized},
		{"access token as ticket", "?ticket=" + access, nil, http.StatusUnauthorized},
		{"ticket as token", "?token=" + ticket, nil, http.StatusUnauthorized},
		{"ticket in header", "", bearer(ticket), http.StatusUnauthorized},
		{"bad header beats good ticket", "?ticket=" + ticket, bearer("nonsense"), http.StatusUnauthorized},
		{"garbage ticket", "?ticket=abc.def.ghi", nil, http.StatusUnauthorized},
		{"must change, header", "", bearer(e.token(t, mustChange)), http.StatusForbidden},
		{"must change, token", "?token=" + e.token(t, mustChange), nil, http.StatusForbidden},
		{"must change, ticket", "?ticket=" + e.ticket(t, mustChange, time.Now()), nil, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.get(t, "/api/v1/stream"+tc.query, tc.header)
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestStreamTicketEndpoint(t *testing.T) {
	e := newStreamEnv(t, nil)
	v := e.user(t, store.RoleViewer, false)
	post := func(header http.Header) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/api/v1/stream/ticket", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp, m
	}
	resp, body := post(bearer(e.token(t, v)))
	ticket, _ := body["ticket"].(string)
	if resp.StatusCode != http.StatusOK || ticket == "" || body["expires_in"] != float64(60) {
		t.Fatalf("ticket: %d %v", resp.StatusCode, body)
	}
	if resp, _ := post(nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := post(bearer(e.token(t, e.user(t, store.RoleViewer, true)))); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("must change: %d", resp.StatusCode)
	}
	// A ticket is no access token anywhere else.
	if resp, _ := post(bearer(ticket)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ticket for a ticket: %d", resp.StatusCode)
	}
	logs := e.get(t, "/api/v1/logs", bearer(ticket))
	logs.Body.Close()
	if logs.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ticket on /logs: %d", logs.StatusCode)
	}
	c := e.open(t, "/api/v1/stream?ticket="+url.QueryEscape(ticket), nil)
	c.message(t, "stats", time.Second)
}

func TestStreamKeepaliveOutlivesServerTimeouts(t *testing.T) {
	e := newStreamEnv(t, func(h *streamHub) { h.timing.keepalive = 100 * time.Millisecond })
	c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
	// Four times the server's read and write timeouts.
	deadline := time.Now().Add(1200 * time.Millisecond)
	keepalives := 0
	for time.Now().Before(deadline) {
		f, ok := c.next(t, time.Second)
		if !ok {
			t.Fatalf("stream ended after %d keepalives", keepalives)
		}
		for _, cm := range f.comments {
			if cm == "keepalive" {
				keepalives++
			}
		}
	}
	if keepalives < 5 {
		t.Fatalf("%d keepalives in 1.2 s at 100 ms", keepalives)
	}
	e.ingest(t, "ssh")
	c.logs(t, time.Second) // and it still delivers
}

func TestStreamEnds(t *testing.T) {
	t.Run("server shutdown", func(t *testing.T) {
		e := newStreamEnv(t, nil)
		c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
		c.message(t, "histogram", time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := e.ts.Config.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("shutdown took %v", d)
		}
		c.ended(t, time.Second)
	})
	t.Run("CloseStreams refuses new streams", func(t *testing.T) {
		e := newStreamEnv(t, nil)
		tok := e.token(t, e.user(t, store.RoleViewer, false))
		c := e.open(t, "/api/v1/stream", bearer(tok))
		e.srv.CloseStreams()
		c.ended(t, time.Second)
		resp := e.get(t, "/api/v1/stream", bearer(tok))
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after CloseStreams: %d", resp.StatusCode)
		}
	})
	t.Run("user deleted", func(t *testing.T) {
		e := newStreamEnv(t, func(h *streamHub) { h.timing.summary = 50 * time.Millisecond })
		u := e.user(t, store.RoleViewer, false)
		c := e.open(t, "/api/v1/stream", bearer(e.token(t, u)))
		c.message(t, "histogram", time.Second)
		if err := e.repo.DeleteUser(t.Context(), u.UUID); err != nil {
			t.Fatal(err)
		}
		c.ended(t, time.Second)
	})
	t.Run("store failure", func(t *testing.T) {
		e := newStreamEnv(t, nil)
		c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
		c.message(t, "histogram", time.Second)
		e.repo.fail.Store(true)
		e.srv.Notify()
		frames := c.ended(t, 2*time.Second)
		if len(frames) == 0 || frames[len(frames)-1].event != "error" ||
			frames[len(frames)-1].data != `{"type":"error","message":"Stream interrupted"}` {
			t.Fatalf("last frames %+v, want the error frame", frames)
		}
	})
	t.Run("client leaves", func(t *testing.T) {
		e := newStreamEnv(t, nil)
		c := e.open(t, "/api/v1/stream", bearer(e.token(t, e.user(t, store.RoleViewer, false))))
		c.message(t, "histogram", time.Second)
		c.resp.Body.Close()
		waitFor(t, func() bool { return e.srv.streams.open() == 0 })
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStreamLimits(t *testing.T) {
	e := newStreamEnv(t, func(h *streamHub) { h.limit, h.userLimit = 3, 2 })
	a := e.token(t, e.user(t, store.RoleViewer, false))
	b := e.token(t, e.user(t, store.RoleViewer, false))
	status := func(tok string) int {
		resp := e.get(t, "/api/v1/stream", bearer(tok))
		resp.Body.Close()
		return resp.StatusCode
	}
	a1 := e.open(t, "/api/v1/stream", bearer(a))
	e.open(t, "/api/v1/stream", bearer(a))
	if got := status(a); got != http.StatusTooManyRequests {
		t.Fatalf("third stream of a user: %d", got)
	}
	e.open(t, "/api/v1/stream", bearer(b))
	if got := status(b); got != http.StatusServiceUnavailable {
		t.Fatalf("stream beyond the server's limit: %d", got)
	}
	a1.resp.Body.Close()
	waitFor(t, func() bool { return e.srv.streams.open() == 2 })
	e.open(t, "/api/v1/stream", bearer(b))
}

func TestStreamOpenAPI(t *testing.T) {
	e := newStreamEnv(t, nil)
	resp := e.get(t, "/api/v1/openapi.json", nil)
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			Security   []map[string][]string `json:"security"`
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			Responses map[string]struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, In, Name string
			} `json:"securitySchemes"`
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths["/stream"]["get"]
	if len(op.Security) != 3 || op.Security[0][securityScheme] == nil || op.Security[1][ticketScheme] == nil ||
		op.Security[2][queryTokenScheme] == nil {
		t.Fatalf("security %v", op.Security)
	}
	for _, code := range []string{"200", "401", "403", "422", "429", "503"} {
		if _, ok := op.Responses[code]; !ok {
			t.Errorf("no %s response", code)
		}
	}
	if _, ok := op.Responses["200"].Content["text/event-stream"]; !ok {
		t.Errorf("200 is not text/event-stream: %v", op.Responses["200"].Content)
	}
	params := map[string]string{}
	for _, p := range op.Parameters {
		params[p.Name] = p.In
	}
	for name, in := range map[string]string{"lastEventId": "query", "Last-Event-ID": "header", "search": "query",
		"start_time": "query", "end_time": "query"} {
		if params[name] != in {
			t.Errorf("parameter %s in %q, want %s", name, params[name], in)
		}
	}
	for name, want := range map[string]string{ticketScheme: "ticket", queryTokenScheme: "token"} {
		if s := doc.Components.SecuritySchemes[name]; s.Type != "apiKey" || s.In != "query" || s.Name != want {
			t.Errorf("scheme %s = %+v", name, s)
		}
	}
	for _, name := range []string{"StreamStats", "StreamHistogram", "StreamLogs", "StreamError"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	if ticket := doc.Paths["/stream/ticket"]["post"]; len(ticket.Security) != 1 || ticket.Responses["403"].Content == nil {
		t.Errorf("ticket operation %+v", ticket)
	}
}
