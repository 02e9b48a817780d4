package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/api"
	"decnet/internal/event"
	"decnet/internal/profile"
	"decnet/internal/store"
)

// Attacker text the pages must show as text, never as markup.
var attackerPayloads = []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}

// liveEvent is an event of these tests; msg names it (the pages do not
// show msg, the tests find its id by it).
func liveEvent(msg string, at time.Time, decky, service, typ, ip string, fields map[string]string) event.Record {
	return event.Record{Timestamp: at, Decky: decky, Service: service, EventType: typ, Severity: event.Notice,
		AttackerIP: ip, Fields: fields, Msg: msg}
}

// logIDs maps the msg of every stored log to its id.
func logIDs(e *env) map[string]string {
	e.t.Helper()
	pg, err := e.repo.Logs(e.t.Context(), store.LogQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := map[string]string{}
	for _, l := range pg.Data {
		ids[l.Msg] = strconv.FormatInt(l.ID, 10)
	}
	return ids
}

// tableOf is the markup of the element with id up to the end of its
// table ("" when the page has none).
func tableOf(body, id string) string {
	_, rest, ok := strings.Cut(body, `id="`+id+`"`)
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "</table>")
	return rest
}

var rowID = regexp.MustCompile(`<tr data-id="(\d+)"`)

// rowIDs are the ids of a table's rows, in order.
func rowIDs(table string) []string {
	var ids []string
	for _, m := range rowID.FindAllStringSubmatch(table, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// idsOf are the ids of the logs named by msgs.
func idsOf(ids map[string]string, msgs ...string) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, ids[m])
	}
	return out
}

// dataOf reads the data attributes of the page's #live, as live.js would.
func dataOf(body string) map[string]string {
	_, rest, ok := strings.Cut(body, `<div id="live" hidden `)
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, ">")
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`).FindAllStringSubmatch(rest, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// statOf is the text of a counter of the overview.
func statOf(body, id string) string {
	_, rest, _ := strings.Cut(body, `id="`+id+`"`)
	_, rest, _ = strings.Cut(rest, `<span class="value">`)
	rest, _, _ = strings.Cut(rest, "</a>")
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(rest, "")
}

// mustBeText fails unless every attacker payload of the page is escaped
// text.
func mustBeText(t *testing.T, p page) {
	t.Helper()
	for _, raw := range attackerPayloads {
		if strings.Contains(p.Body, raw) {
			t.Errorf("%s shows %q as markup", p.URL, raw)
		}
	}
	for _, bad := range []string{"<script>", "<img", "onerror=alert(1)>"} {
		if strings.Contains(p.Body, bad) {
			t.Errorf("%s contains %q", p.URL, bad)
		}
	}
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	e.ingest(
		// Older than the chart's day, yet in the feed.
		liveEvent("ancient", now.Add(-30*time.Hour), "web-01", "ssh", "connect", "203.0.113.5", nil),
		liveEvent("auth", now.Add(-3*time.Minute), "web-01", "ssh", "auth", "203.0.113.5",
			map[string]string{"username": "root", "password": "123456"}),
		liveEvent("request", now.Add(-2*time.Minute), "web-01", "http", "request", "203.0.113.5",
			map[string]string{"method": "GET", "path": "/admin"}),
		liveEvent("file", now.Add(-time.Minute), "db-01", "ssh", "file_captured", "203.0.113.9",
			map[string]string{"orig_path": "/tmp/x.sh", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}),
		liveEvent("hostile", now, "db-01", "ssh", "command", "203.0.113.9",
			map[string]string{"username": attackerPayloads[0], "command": attackerPayloads[1]}),
	)
	if _, err := profile.New(e.repo, profile.Options{}).Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	atk, err := e.repo.Attackers(t.Context(), store.AttackerQuery{SortBy: store.SortActive, Limit: 5})
	if err != nil || len(atk.Data) != 2 {
		t.Fatalf("profiles: %v %+v", err, atk)
	}
	st, err := e.repo.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ids := logIDs(e)
	b := e.signedIn("viewer")
	p := b.get("/")
	if p.Status != http.StatusOK || p.URL.Path != "/" {
		t.Fatalf("overview: %d at %s", p.Status, p.URL)
	}

	for id, want := range map[string]string{"stat-total": "5", "stat-attackers": "2", "stat-deckies": "2 / 2",
		"stat-bounties": strconv.FormatInt(st.TotalBounties, 10)} {
		if got := statOf(p.Body, id); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	feed := tableOf(p.Body, "feed")
	if got, want := rowIDs(feed), idsOf(ids, "hostile", "file", "request", "auth", "ancient"); !slices.Equal(got, want) {
		t.Errorf("feed rows %v, want newest first %v", got, want)
	}
	for _, want := range []string{
		`<span class="pill"><b>username</b> root</span>`, `<span class="pill"><b>path</b> /admin</span>`,
		`file <code>/tmp/x.sh</code> sha256 <code>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</code>`,
		`<a href="/logs?range=all&amp;search=attacker%3A203.0.113.5"`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`,
	} {
		if !strings.Contains(feed, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	mustBeText(t, p)

	for _, a := range atk.Data {
		if !strings.Contains(tableOf(p.Body, "top-attackers"), `href="/attackers/`+a.UUID+`">`+a.IP+`</a>`) {
			t.Errorf("top attackers lack %s", a.IP)
		}
	}
	for _, want := range []string{`service%3Assh">ssh</a>`, `value="4"`, `service%3Ahttp">http</a>`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("top services lack %q", want)
		}
	}
	if !strings.Contains(p.Body, `<svg class="chart"`) || !strings.Contains(p.Body, "4 events") {
		t.Error("no chart of the last day's 4 events")
	}
	live := dataOf(p.Body)
	if live["table"] != "feed" || live["last-id"] != ids["hostile"] || live["chart-src"] != "/ui/chart?range=24h" ||
		live["row-links"] != "/logs?range=all" || live["max-rows"] != "100" {
		t.Errorf("live config %v", live)
	}
	if _, err := time.Parse(time.RFC3339, live["start-time"]); err != nil {
		t.Errorf("stream start %q: %v", live["start-time"], err)
	}
	if !strings.Contains(p.Body, `id="live-state"`) || !strings.Contains(p.Body, "/static/live.js?v=") {
		t.Error("no live indicator or script")
	}
	if strings.Contains(p.Body, `id="empty-state"`) {
		t.Error("empty state beside logs")
	}
}

func TestOverviewEmptyState(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("viewer")
	fleet := e.fleet.Deckies()
	cases := []struct {
		name    string
		deckies []api.Decky
		copies  []string // the copy buttons' commands, in order
		want    []string
	}{
		{"the fleet to attack", fleet, []string{
			"ssh -p 22 root@127.77.0.10", "curl http://127.77.0.10:80/",
			"ssh -p 22 root@127.77.0.11", "redis-cli -h 127.77.0.11 -p 6379 KEYS '*'",
		}, []string{"No interactions recorded yet", "Attack your own fleet"}},
		{"no fleet", nil, []string{"decnet up"}, []string{"No deckies are running", "<code>decnet up</code>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.fleet.mu.Lock()
			e.fleet.deckies = c.deckies
			e.fleet.mu.Unlock()
			p := b.get("/")
			if p.Status != http.StatusOK {
				t.Fatalf("status %d", p.Status)
			}
			_, empty, ok := strings.Cut(p.Body, `id="empty-state"`)
			empty, _, _ = strings.Cut(empty, "</section>")
			if !ok {
				t.Fatal("no empty state")
			}
			var got []string
			for _, m := range regexp.MustCompile(`data-copy="([^"]*)"`).FindAllStringSubmatch(empty, -1) {
				got = append(got, html.UnescapeString(m[1]))
			}
			if !slices.Equal(got, c.copies) {
				t.Errorf("commands %q, want %q", got, c.copies)
			}
			for _, w := range c.want {
				if !strings.Contains(empty, w) {
					t.Errorf("empty state lacks %q", w)
				}
			}
			if rowIDs(tableOf(p.Body, "feed")) != nil || !strings.Contains(tableOf(p.Body, "feed"), "Waiting for the first interaction") {
				t.Error("the feed is not waiting")
			}
			if dataOf(p.Body)["last-id"] != "0" {
				t.Errorf("an empty feed resumes from %q", dataOf(p.Body)["last-id"])
			}
		})
	}
}

func TestAttackCommands(t *testing.T) {
	var ds []api.Decky
	// GET /deckies as the fleet reports it: ports where services really
	// listen (shifted when not root), or none.
	body := `[{"name":"a","ip":"127.77.0.10","services":["ssh","http","redis","smtp","mystery"],"ports":{"ssh":10022,"http":10080,"smtp":10025}},
		{"name":"b","ip":"::1","services":["http","https"]},
		{"name":"c","ip":"127.77.0.12","services":[]}]`
	if err := json.Unmarshal([]byte(body), &ds); err != nil {
		t.Fatal(err)
	}
	want := []attackHint{
		{Decky: "a", IP: "127.77.0.10", Commands: []string{"ssh -p 10022 root@127.77.0.10", "curl http://127.77.0.10:10080/",
			"redis-cli -h 127.77.0.10 -p 6379 KEYS '*'", "nc -v 127.77.0.10 10025"}},
		{Decky: "b", IP: "::1", Commands: []string{"curl http://[::1]:80/", "curl -k https://[::1]:443/"}},
		{Decky: "c", IP: "127.77.0.12"},
	}
	got := attackHints(ds)
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i].Decky != want[i].Decky || got[i].IP != want[i].IP || !slices.Equal(got[i].Commands, want[i].Commands) {
			t.Errorf("decky %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestLogExplorer(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	e.ingest(
		liveEvent("old", now.Add(-30*time.Hour), "web-01", "ssh", "auth", "203.0.113.5", map[string]string{"username": "root"}),
		liveEvent("ssh", now.Add(-2*time.Minute), "web-01", "ssh", "command", "203.0.113.5", map[string]string{"command": "uname -a"}),
		liveEvent("http", now.Add(-time.Minute), "web-01", "http", "request", "203.0.113.6", map[string]string{"path": "/"}),
		liveEvent("hostile", now, "db-01", "ssh", "auth", "203.0.113.7",
			map[string]string{"username": attackerPayloads[0], "password": attackerPayloads[1]}),
	)
	ids := logIDs(e)
	b := e.signedIn("viewer")
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/logs?" + v.Encode()
	}
	utc := func(t time.Time) string { return t.Format("2006-01-02 15:04:05") }

	t.Run("search and period", func(t *testing.T) {
		cases := []struct {
			name, path string
			rows       []string
		}{
			{"the last day by default", "/logs", []string{"hostile", "http", "ssh"}},
			{"15 minutes", q("range", "15m"), []string{"hostile", "http", "ssh"}},
			{"all time", q("range", "all"), []string{"hostile", "http", "ssh", "old"}},
			{"a column", q("search", "service:http"), []string{"http"}},
			{"an attacker over all time", q("search", "attacker:203.0.113.5", "range", "all"), []string{"ssh", "old"}},
			{"a field", q("search", "username:root", "range", "all"), []string{"old"}},
			{"a bare word", q("search", "db-01"), []string{"hostile"}},
			{"quoted words", q("search", `"uname -a"`), nil}, // the raw line holds no fields
			{"terms are ANDed", q("search", "service:ssh event:command"), []string{"ssh"}},
			{"a custom period", q("start_time", utc(now.Add(-31*time.Hour)), "end_time", utc(now.Add(-29*time.Hour))), []string{"old"}},
			{"a custom start only", q("start_time", now.Add(-90*time.Second).Format(time.RFC3339)), []string{"hostile", "http"}},
			{"a datetime-local start", q("start_time", now.Add(-31*time.Hour).Format("2006-01-02T15:04"), "search", "decky:web-01"),
				[]string{"http", "ssh", "old"}},
			{"an unknown range is the default", q("range", "forever"), []string{"hostile", "http", "ssh"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := b.get(c.path)
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %d", c.path, p.Status)
				}
				if got, want := rowIDs(tableOf(p.Body, "log-table")), idsOf(ids, c.rows...); !slices.Equal(got, want) {
					t.Errorf("%s: rows %v, want %v", c.path, got, want)
				}
				if len(c.rows) == 0 && !strings.Contains(p.Body, "No logs match") {
					t.Error("an empty result says nothing")
				}
			})
		}
	})

	t.Run("refusals are shown beside the query", func(t *testing.T) {
		long := strings.Repeat("x", 600)
		cases := []struct {
			name, path, msg, keep string
		}{
			{"unterminated quote", q("search", `service:ssh "open`), "unterminated quote", `value="service:ssh &#34;open"`},
			{"search too long", q("search", long), "query.search", `value="` + long + `"`},
			{"unreadable start", q("search", "x", "start_time", "yesterday"), `From &#34;yesterday&#34;`, `value="yesterday"`},
			{"end before start", q("start_time", utc(now), "end_time", utc(now.Add(-time.Hour))), "before its start", `value="` + utc(now) + `"`},
			{"a hostile search", q("search", attackerPayloads[0]+attackerPayloads[1]), "unterminated quote",
				`value="&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := b.get(c.path)
				if p.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%s: %d", c.path, p.Status)
				}
				_, errText, ok := strings.Cut(p.Body, `<p id="search-error" class="search-error" role="alert">`)
				errText, _, _ = strings.Cut(errText, "</p>")
				if !ok || !strings.Contains(errText, c.msg) {
					t.Errorf("error %q, want %q", errText, c.msg)
				}
				if !strings.Contains(p.Body, c.keep) || !strings.Contains(p.Body, `aria-describedby="search-error"`) {
					t.Errorf("what was typed is lost: want %q", c.keep)
				}
				if strings.Contains(p.Body, `id="log-table"`) {
					t.Error("a table beside the error")
				}
				mustBeText(t, p)
			})
		}
	})

	t.Run("attacker text is text", func(t *testing.T) {
		for _, path := range []string{"/logs", q("search", "decky:db-01", "live", "1"), "/"} {
			p := b.get(path)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
				!strings.Contains(p.Body, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;") {
				t.Errorf("%s: %d, payload not shown escaped", path, p.Status)
			}
			mustBeText(t, p)
		}
	})

	t.Run("attacker links keep the period", func(t *testing.T) {
		p := b.get(q("range", "7d", "search", "service:http"))
		if !strings.Contains(p.Body, `<a href="/logs?range=7d&amp;search=attacker%3A203.0.113.6" title="Logs of 203.0.113.6">`) {
			t.Error("no attacker search link")
		}
		if !strings.Contains(p.Body, `<a href="/logs?range=1h&amp;search=service%3Ahttp">1 hour</a>`) ||
			!strings.Contains(p.Body, `<a href="/logs?range=7d&amp;search=service%3Ahttp" aria-current="true">7 days</a>`) {
			t.Error("period links do not keep the search or mark the current one")
		}
	})

	t.Run("live mode", func(t *testing.T) {
		p := b.get(q("search", "service:ssh", "live", "1", "offset", "50", "end_time", "2020-01-01 00:00:00"))
		if p.Status != http.StatusOK {
			t.Fatalf("status %d", p.Status)
		}
		if got, want := rowIDs(tableOf(p.Body, "log-table")), idsOf(ids, "hostile", "ssh"); !slices.Equal(got, want) {
			t.Errorf("live rows %v, want the newest %v", got, want)
		}
		live := dataOf(p.Body)
		if live["table"] != "log-table" || live["search"] != "service:ssh" || live["last-id"] != ids["hostile"] ||
			live["max-rows"] != "500" || live["chart-src"] != "/ui/chart?range=24h&search=service%3Assh" ||
			live["row-links"] != "/logs?live=1&range=24h" {
			t.Errorf("live config %v", live)
		}
		for _, want := range []string{`id="live-state"`, `id="live-pause"`, "/static/live.js?v=",
			`<a id="live-toggle" class="button" href="/logs?range=24h&amp;search=service%3Assh">Stop live mode</a>`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("live page lacks %q", want)
			}
		}
		if strings.Contains(p.Body, `rel="next"`) || strings.Contains(p.Body, `name="end_time"`) {
			t.Error("live mode pages or has an end")
		}

		// Nothing matches yet: the stream follows from the newest log of
		// all, so a match stored before it opens is not missed ("0" would
		// mean "from when the stream opens").
		p = b.get(q("search", "service:telnet", "live", "1"))
		if live := dataOf(p.Body); live["last-id"] != ids["hostile"] {
			t.Errorf("live with no match follows after %q, want the newest log %q", live["last-id"], ids["hostile"])
		}

		p = b.get(q("search", "service:ssh"))
		if dataOf(p.Body) != nil || strings.Contains(p.Body, "live.js") {
			t.Error("live without asking")
		}
		if !strings.Contains(p.Body, `<a id="live-toggle" class="button secondary" href="/logs?live=1&amp;range=24h&amp;search=service%3Assh">Live mode</a>`) {
			t.Error("no live toggle")
		}
	})

	t.Run("chart fragment", func(t *testing.T) {
		p := b.get("/ui/chart?range=all&search=service%3Assh")
		if p.Status != http.StatusOK || !strings.HasPrefix(p.Body, `<figure class="chart-box">`) ||
			!strings.Contains(p.Body, "3 events") || strings.Contains(p.Body, "<html") || strings.Contains(p.Body, "style=") {
			t.Errorf("fragment %d:\n%s", p.Status, p.Body)
		}
		if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		if p := b.get("/ui/chart?start_time=soon"); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("a bad period: %d", p.Status)
		}
		if p := b.get(`/ui/chart?search=%22open`); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("a bad search: %d", p.Status)
		}
	})
}

func TestLogExplorerPaging(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	var recs []event.Record
	for i := range pageSize + 5 {
		recs = append(recs, liveEvent(fmt.Sprint(i), now.Add(time.Duration(i-100)*time.Second), "web-01", "http", "request",
			"203.0.113.5", map[string]string{"path": fmt.Sprintf("/p%d", i)}))
	}
	recs = append(recs, liveEvent("other", now, "db-01", "ssh", "connect", "203.0.113.8", nil))
	e.ingest(recs...)
	ids := logIDs(e)
	b := e.signedIn("viewer")

	var newest []string
	for i := pageSize + 4; i >= 0; i-- {
		newest = append(newest, ids[strconv.Itoa(i)])
	}
	p := b.get("/logs?search=service%3Ahttp&range=1h")
	if got := rowIDs(tableOf(p.Body, "log-table")); !slices.Equal(got, newest[:pageSize]) {
		t.Fatalf("first page %v", got)
	}
	next := `<a href="/logs?offset=50&amp;range=1h&amp;search=service%3Ahttp" rel="next">`
	if !strings.Contains(p.Body, next) || !strings.Contains(p.Body, "1–50 of 55") || strings.Contains(p.Body, `rel="prev"`) {
		t.Fatal("first page's pager")
	}
	p = b.get("/logs?offset=50&range=1h&search=service%3Ahttp")
	if got := rowIDs(tableOf(p.Body, "log-table")); !slices.Equal(got, newest[pageSize:]) {
		t.Fatalf("second page %v", got)
	}
	if !strings.Contains(p.Body, `<a href="/logs?range=1h&amp;search=service%3Ahttp" rel="prev">`) ||
		!strings.Contains(p.Body, "51–55 of 55") || strings.Contains(p.Body, `rel="next"`) {
		t.Fatal("second page's pager")
	}
}
