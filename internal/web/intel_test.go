package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/api"
	"decnet/internal/event"
	"decnet/internal/profile"
	"decnet/internal/store"
)

// Addresses of the attackers of these tests.
const (
	ipTraveller = "198.51.100.7"  // web-01 ssh, then db-01 redis: a traversal
	ipNoisy     = "198.51.100.8"  // web-01 http, the most events
	ipQuiet     = "198.51.100.90" // db-01 ssh, once, long ago
)

// intelBrowser signs a new user of role in and lands on the attackers
// page (not the overview, which another file serves).
func intelBrowser(e *env, role string) *browser {
	e.t.Helper()
	name := role + "-intel"
	e.addUser(name, "password-of-"+name, role, false)
	b := e.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {name}, "password": {"password-of-" + name}, "next": {"/attackers"}})
	if p.Status != http.StatusOK || p.URL.Path != "/attackers" {
		e.t.Fatalf("login as %s: %d at %s", role, p.Status, p.URL)
	}
	return b
}

// profileAll runs one pass of the real profiler over what was ingested.
func profileAll(e *env) {
	e.t.Helper()
	if _, err := profile.New(e.repo, profile.Options{}).Step(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// uuidOf is the profile UUID of ip.
func uuidOf(e *env, ip string) string {
	e.t.Helper()
	p, err := e.repo.Attackers(e.t.Context(), store.AttackerQuery{Search: ip, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range p.Data {
		if a.IP == ip {
			return a.UUID
		}
	}
	e.t.Fatalf("no profile of %s", ip)
	return ""
}

// rec is an event of ip at base+offset.
func rec(base time.Time, offset time.Duration, ip, decky, service, typ string, fields map[string]string) event.Record {
	if fields == nil {
		fields = map[string]string{}
	}
	return event.Record{Timestamp: base.Add(offset), Decky: decky, Service: service, EventType: typ,
		Severity: event.Notice, AttackerIP: ip, Fields: fields}
}

// ingestCrowd stores the three attackers of these tests and profiles
// them: the traveller (ssh on web-01 with a credential and commands,
// then redis on db-01), the noisy one (six http requests on web-01 with
// a user agent) and the quiet one (one ssh connect on db-01, long ago).
func ingestCrowd(e *env) time.Time {
	e.t.Helper()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	e.ingest(
		rec(base, -48*time.Hour, ipQuiet, "db-01", "ssh", "connect", nil),
		rec(base, 0, ipTraveller, "web-01", "ssh", "auth", map[string]string{"username": "root", "password": "toor"}),
		rec(base, time.Second, ipTraveller, "web-01", "ssh", "command", map[string]string{"command": "uname -a"}),
		rec(base, 2*time.Second, ipTraveller, "db-01", "redis", "redis_command", map[string]string{"command": "CONFIG GET *"}),
	)
	for i := range 6 {
		e.ingest(rec(base, time.Duration(10+i)*time.Minute, ipNoisy, "web-01", "http", "request",
			map[string]string{"method": "GET", "path": fmt.Sprintf("/p%d", i), "user_agent": "sqlmap/1.7"}))
	}
	// The traveller is back last, so it is the most recent.
	e.ingest(rec(base, 30*time.Minute, ipTraveller, "db-01", "redis", "connect", nil))
	profileAll(e)
	return base
}

// part is the markup from the element with id to the end of its table
// or section, whichever comes first ("" when the id is absent).
func part(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	end := len(rest)
	for _, closer := range []string{"</table>", "</section>"} {
		if j := strings.Index(rest, closer); j >= 0 && j < end {
			end = j
		}
	}
	return rest[:end]
}

// rows counts the body rows of a table's markup.
func rows(table string) int {
	_, tbody, _ := strings.Cut(table, "<tbody>")
	return strings.Count(tbody, "<tr>") + strings.Count(tbody, "<tr ")
}

var copyAttr = regexp.MustCompile(`data-copy="([^"]*)"`)

// copies are the values of the copy buttons of markup, as the browser
// reads them.
func copies(markup string) []string {
	var out []string
	for _, m := range copyAttr.FindAllStringSubmatch(markup, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// inOrder reports whether every string of want occurs in s, in this order.
func inOrder(s string, want ...string) bool {
	at := 0
	for _, w := range want {
		i := strings.Index(s[at:], w)
		if i < 0 {
			return false
		}
		at += i + len(w)
	}
	return true
}

func TestBountyPage(t *testing.T) {
	e := newEnv(t)
	ingestCrowd(e)
	b := intelBrowser(e, "viewer")

	cases := []struct {
		name, path string
		want, not  []string
		rows       int
	}{
		{"everything", "/bounty", []string{"root", "toor", "sqlmap/1.7", "HTTP user agent"}, nil, 2},
		{"credentials", "/bounty?type=credential", []string{"root", "toor"}, []string{"sqlmap/1.7"}, 1},
		{"fingerprints", "/bounty?type=fingerprint", []string{"sqlmap/1.7"}, []string{"toor"}, 1},
		{"search by address", "/bounty?search=" + ipNoisy, []string{"sqlmap/1.7"}, []string{"toor"}, 1},
		{"search by payload", "/bounty?search=toor", []string{"toor"}, []string{"sqlmap"}, 1},
		{"type and search", "/bounty?type=fingerprint&search=toor", []string{"No bounty matches", "Show everything"}, []string{"bounty-table"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.get(c.path)
			if p.Status != http.StatusOK {
				t.Fatalf("%d\n%s", p.Status, p.Body)
			}
			table := part(p.Body, "bounty-table")
			if got := rows(table); got != c.rows {
				t.Errorf("%d rows, want %d:\n%s", got, c.rows, table)
			}
			for _, w := range c.want {
				if !strings.Contains(p.Body, w) {
					t.Errorf("no %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(p.Body, n) {
					t.Errorf("has %q", n)
				}
			}
		})
	}

	// The credential's values are copied exactly; the address leads to
	// the attacker's profile.
	p := b.get("/bounty?type=credential")
	if got := copies(part(p.Body, "bounty-table")); !slices.Equal(got, []string{"root", "toor"}) {
		t.Errorf("copy values %q", got)
	}
	link := "/attackers/by-ip?ip=" + ipTraveller
	if !strings.Contains(p.Body, `href="`+link+`"`) {
		t.Fatalf("no link to the attacker")
	}
	if p := b.get(link); p.URL.Path != "/attackers/"+uuidOf(e, ipTraveller) || !strings.Contains(p.Body, `id="timeline"`) {
		t.Errorf("the address link landed on %s", p.URL)
	}
	// The current tab is marked.
	if !strings.Contains(p.Body, `href="/bounty?type=credential" aria-current="page">Credentials`) {
		t.Errorf("credentials tab not current")
	}
}

func TestBountyPaging(t *testing.T) {
	e := newEnv(t)
	base := time.Now().UTC().Add(-time.Hour)
	var recs []event.Record
	for i := range pageSize + 5 {
		recs = append(recs, rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "ssh", "auth",
			map[string]string{"username": fmt.Sprintf("user%02d", i), "password": "x"}))
	}
	e.ingest(recs...)
	b := intelBrowser(e, "viewer")
	p := b.get("/bounty")
	if n := rows(part(p.Body, "bounty-table")); n != pageSize {
		t.Fatalf("first page: %d rows", n)
	}
	// Newest first: the last user on page one, the first users on page two.
	if !strings.Contains(p.Body, "user54") || strings.Contains(p.Body, "user04") {
		t.Errorf("first page is not the newest")
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatal("no next page link")
	}
	p = b.get(html.UnescapeString(next[1]))
	if n := rows(part(p.Body, "bounty-table")); n != 5 || !strings.Contains(p.Body, "user00") || !strings.Contains(p.Body, "51–55 of 55") {
		t.Errorf("second page (%s): %d rows", p.URL, n)
	}
}

func TestAttackersPage(t *testing.T) {
	e := newEnv(t)
	ingestCrowd(e)
	b := intelBrowser(e, "viewer")

	cases := []struct {
		name, path string
		order      []string // the addresses listed, in this order
	}{
		{"recent by default", "/attackers", []string{ipTraveller, ipNoisy, ipQuiet}},
		{"most active", "/attackers?sort=active", []string{ipNoisy, ipTraveller, ipQuiet}},
		{"traversals first", "/attackers?sort=traversals", []string{ipTraveller, ipNoisy, ipQuiet}},
		{"unknown sort is recent", "/attackers?sort=nonsense", []string{ipTraveller, ipNoisy, ipQuiet}},
		{"address search", "/attackers?search=198.51.100.9", []string{ipQuiet}},
		{"service", "/attackers?service=redis", []string{ipTraveller}},
		{"service and sort", "/attackers?service=ssh&sort=active", []string{ipTraveller, ipQuiet}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.get(c.path)
			table := part(p.Body, "attackers-table")
			if p.Status != http.StatusOK || rows(table) != len(c.order) || !inOrder(table, c.order...) {
				t.Errorf("%d, %d rows, want %v:\n%s", p.Status, rows(table), c.order, table)
			}
		})
	}

	p := b.get("/attackers?sort=active")
	table := part(p.Body, "attackers-table")
	for _, want := range []string{
		`<a href="/attackers/` + uuidOf(e, ipTraveller) + `">` + ipTraveller + `</a>`,
		`<span class="tag traversal">traversal</span> <span class="path-text">web-01 → db-01</span>`,
		// A service chip filters, keeping the sort.
		`href="/attackers?service=redis&amp;sort=active"`,
		`<option value="active" selected>`,
	} {
		if !strings.Contains(table+p.Body, want) {
			t.Errorf("no %s", want)
		}
	}
	// The filter shows, with a way back.
	p = b.get("/attackers?service=redis")
	if !strings.Contains(p.Body, "Only attackers that touched") || !strings.Contains(p.Body, `href="/attackers?sort=recent">show all services`) {
		t.Errorf("service filter not shown")
	}
	if p := b.get("/attackers?search=203.0.113.1"); !strings.Contains(p.Body, "No attacker matches") {
		t.Errorf("no match: %s", p.Body)
	}
	// by-ip wants the address itself, not one that contains it.
	if p := b.get("/attackers/by-ip?ip=198.51.100.9"); p.URL.Path != "/attackers" || !strings.Contains(p.Body, ipQuiet) {
		t.Errorf("by-ip of a part of an address landed on %s", p.URL)
	}
	if p := b.get("/attackers/by-ip?ip=" + ipQuiet); p.URL.Path != "/attackers/"+uuidOf(e, ipQuiet) {
		t.Errorf("by-ip landed on %s", p.URL)
	}
}

// TestIntelEmptyStates: with nothing stored, every list says what to do
// next, and an address without a profile leads to the attackers list.
func TestIntelEmptyStates(t *testing.T) {
	e := newEnv(t)
	b := intelBrowser(e, "viewer")
	cases := []struct {
		path, table string
		want        []string
	}{
		{"/bounty", "bounty-table", []string{"The vault is empty", `the <a href="/">overview</a> prints`}},
		{"/attackers", "attackers-table", []string{"No attackers yet", `the <a href="/">overview</a> prints`}},
		{"/traversals", "traversals-table", []string{"No traversals yet", "A traversal is", `the <a href="/">overview</a> prints`}},
		{"/bounty?type=credential", "bounty-table", []string{"No bounty matches", `<a href="/bounty">Show everything</a>`}},
		{"/attackers?service=ssh", "attackers-table", []string{"No attacker matches", `<a href="/attackers">Show every attacker</a>`}},
	}
	for _, c := range cases {
		p := b.get(c.path)
		if p.Status != http.StatusOK || strings.Contains(p.Body, `id="`+c.table+`"`) {
			t.Errorf("%s: %d, has the table", c.path, p.Status)
		}
		for _, w := range c.want {
			if !strings.Contains(p.Body, w) {
				t.Errorf("%s: no %s", c.path, w)
			}
		}
	}
	if p := b.get("/attackers/by-ip?ip=203.0.113.5"); p.URL.Path != "/attackers" || p.URL.Query().Get("search") != "203.0.113.5" ||
		!strings.Contains(p.Body, "No attacker matches") {
		t.Errorf("unknown address landed on %s", p.URL)
	}
}

func TestTraversalsPage(t *testing.T) {
	e := newEnv(t)
	ingestCrowd(e)
	b := intelBrowser(e, "viewer")
	p := b.get("/traversals")
	table := part(p.Body, "traversals-table")
	if rows(table) != 1 || !strings.Contains(table, ipTraveller) || strings.Contains(table, ipNoisy) || strings.Contains(table, ipQuiet) {
		t.Fatalf("traversals:\n%s", table)
	}
	// The path in first-contact order, each decky a search of its events.
	first := `href="/logs?search=attacker%3A` + ipTraveller + `&#43;decky%3Aweb-01"`
	second := `href="/logs?search=attacker%3A` + ipTraveller + `&#43;decky%3Adb-01"`
	if !inOrder(table, `<ol class="path"`, first, second, "</ol>") {
		t.Errorf("path:\n%s", table)
	}
	if !strings.Contains(table, "30m 0s") {
		t.Errorf("no span of 30 minutes:\n%s", table)
	}
}

func TestAttackerDetail(t *testing.T) {
	e := newEnv(t)
	ingestCrowd(e)
	b := intelBrowser(e, "viewer")
	id := uuidOf(e, ipTraveller)
	p := b.get("/attackers/" + id)
	if p.Status != http.StatusOK {
		t.Fatalf("%d\n%s", p.Status, p.Body)
	}
	for _, sec := range []string{"timeline", "commands", "fingerprints", "artifacts", "behavior", "path"} {
		if part(p.Body, sec) == "" {
			t.Errorf("no section %s", sec)
		}
	}
	if s := part(p.Body, "path"); !inOrder(s, "web-01", "db-01") || !strings.Contains(s, "moved across 2 deckies") {
		t.Errorf("path:\n%s", s)
	}
	if s := part(p.Body, "timeline"); rows(s) != 4 || !inOrder(s, "connect", "redis_command", "uname", "auth") ||
		!strings.Contains(s, `href="/logs?search=attacker%3A`+ipTraveller+`"`) {
		t.Errorf("timeline, newest first:\n%s", s)
	}
	if s := part(p.Body, "commands"); rows(s) != 2 || !inOrder(s, "<pre><code>CONFIG GET *</code></pre>", "<pre><code>uname -a</code></pre>") {
		t.Errorf("commands:\n%s", s)
	}
	// Profiled from three quick events and one much later: a class, but
	// no TCP stack.
	if s := part(p.Body, "behavior"); !strings.Contains(s, "Behaviour class") || !strings.Contains(s, "not enough data yet") {
		t.Errorf("behaviour:\n%s", s)
	}
	if s := part(p.Body, "fingerprints"); !strings.Contains(s, "No fingerprints") {
		t.Errorf("fingerprints:\n%s", s)
	}
	if s := part(p.Body, "artifacts"); !strings.Contains(s, "No files captured") {
		t.Errorf("artifacts:\n%s", s)
	}
	if !strings.Contains(p.Body, `<div class="label">Events</div><div class="value">4</div>`) {
		t.Errorf("no events card")
	}

	// The noisy one's user agent is a fingerprint, copied exactly.
	p = b.get("/attackers/" + uuidOf(e, ipNoisy))
	fp := part(p.Body, "fingerprints")
	if !strings.Contains(fp, "HTTP user agent") || !slices.Equal(copies(fp), []string{"sqlmap/1.7"}) {
		t.Errorf("fingerprints:\n%s", fp)
	}
	if s := part(p.Body, "path"); !strings.Contains(s, "Seen on this decky only") {
		t.Errorf("one decky:\n%s", s)
	}

	// A service narrows the timeline and the commands.
	p = b.get("/attackers/" + id + "?service=ssh")
	if s := part(p.Body, "commands"); rows(s) != 1 || !strings.Contains(s, "uname -a") || strings.Contains(s, "CONFIG") {
		t.Errorf("commands on ssh:\n%s", s)
	}
	if s := part(p.Body, "timeline"); rows(s) != 2 || strings.Contains(s, "redis") {
		t.Errorf("timeline on ssh:\n%s", s)
	}
	if !strings.Contains(p.Body, `aria-current="true"`) {
		t.Errorf("the chosen service is not marked")
	}

	for _, path := range []string{"/attackers/00000000-0000-4000-8000-000000000000", "/attackers/not-a-uuid",
		"/attackers/" + strings.ToUpper(id)} {
		if p := b.get(path); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "404") {
			t.Errorf("%s: %d", path, p.Status)
		}
	}
}

func TestAttackerDetailPaging(t *testing.T) {
	e := newEnv(t)
	base := time.Now().UTC().Add(-time.Hour)
	var recs []event.Record
	for i := range pageSize + 5 {
		recs = append(recs, rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "ssh", "command",
			map[string]string{"command": fmt.Sprintf("echo step-%02d", i)}))
	}
	e.ingest(recs...)
	profileAll(e)
	b := intelBrowser(e, "viewer")
	id := uuidOf(e, ipTraveller)
	p := b.get("/attackers/" + id)
	cmds, tl := part(p.Body, "commands"), part(p.Body, "timeline")
	if rows(cmds) != pageSize || rows(tl) != pageSize || !strings.Contains(cmds, "step-54") || strings.Contains(cmds, "step-04") {
		t.Fatalf("first pages: %d commands, %d events", rows(cmds), rows(tl))
	}
	// Each list has its own pager: commands page with list=commands, the
	// timeline without.
	p = b.get("/attackers/" + id + "?list=commands&offset=50")
	cmds, tl = part(p.Body, "commands"), part(p.Body, "timeline")
	if rows(cmds) != 5 || !strings.Contains(cmds, "step-00") || rows(tl) != pageSize {
		t.Errorf("commands page two: %d commands, %d events", rows(cmds), rows(tl))
	}
	if !strings.Contains(p.Body, `href="/attackers/`+id+`?list=commands" rel="prev"`) ||
		!strings.Contains(p.Body, `href="/attackers/`+id+`?offset=50" rel="next"`) {
		t.Errorf("pager links:\n%s", p.Body)
	}
	p = b.get("/attackers/" + id + "?offset=50")
	if cmds, tl := part(p.Body, "commands"), part(p.Body, "timeline"); rows(tl) != 5 || rows(cmds) != pageSize {
		t.Errorf("timeline page two: %d commands, %d events", rows(cmds), rows(tl))
	}
}

func TestAttackerBehavior(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	hop, win, mss := 7, 64240, 1460
	interval, jitter, mean, cv := 60.0, 12.5, 60.0, 0.125
	recon := now.Add(-time.Hour)
	full := store.Attacker{IP: ipNoisy, FirstSeen: now.Add(-2 * time.Hour), LastSeen: now, EventCount: 40,
		Services: []string{"http"}, Deckies: []string{"web-01"}, ServiceCount: 1, DeckyCount: 1,
		Behavior: &store.Behavior{OSGuess: "linux", HopDistance: &hop, BehaviorClass: "beaconing",
			BeaconIntervalS: &interval, BeaconJitterPct: &jitter, ToolGuesses: []string{"cobalt_strike", "curl"},
			TCPFingerprint: &store.TCPFingerprint{Window: &win, MSS: &mss, OptionsSig: "M,S,T,N,W", HasSACK: true},
			TimingStats:    store.TimingStats{EventCount: 40, DurationS: 7200, MeanIATS: &mean, CV: &cv},
			PhaseSequence:  store.PhaseSequence{ReconEndTS: &recon}}}
	fullID, err := e.repo.UpsertAttacker(t.Context(), full)
	if err != nil {
		t.Fatal(err)
	}
	bareID, err := e.repo.UpsertAttacker(t.Context(), store.Attacker{IP: ipQuiet, FirstSeen: now, LastSeen: now, EventCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := intelBrowser(e, "viewer")

	s := part(b.get("/attackers/"+fullID).Body, "behavior")
	for _, want := range []string{"beaconing", "Regular check-ins", "linux", "7 hops", "60.0 s", "12.50 %",
		`<span class="tag">cobalt_strike</span>`, `<span class="tag">curl</span>`, "64240", "1460", "M,S,T,N,W",
		`<span class="tag">SACK</span>`, "60.000 s", "0.1250", "2h 0m", `datetime="` + recon.Format(time.RFC3339) + `"`} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in\n%s", want, s)
		}
	}
	// What the profiler does not know says so, not zero.
	if !strings.Contains(s, "<dt>Window scale</dt>\n        <dd><span class=\"muted\">not enough data yet</span>") {
		t.Errorf("a nil window scale is not 'not enough data yet':\n%s", s)
	}

	s = part(b.get("/attackers/"+bareID).Body, "behavior")
	if !strings.Contains(s, "Not enough data yet") || strings.Contains(s, "<dl") {
		t.Errorf("no behaviour:\n%s", s)
	}
}

// Payloads an attacker may send, and what must never appear unescaped.
var hostile = []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`}

var (
	rawMarkup = regexp.MustCompile(`(?i)<script>alert|<img src=x`)
	jsHref    = regexp.MustCompile(`(?i)(href|src|action)="\s*javascript:`)
)

func TestIntelEscapesAttackerText(t *testing.T) {
	e := newEnv(t)
	base := time.Now().UTC().Add(-time.Hour)
	for i, h := range hostile {
		e.ingest(
			rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "ssh", "auth", map[string]string{"username": h, "password": h}),
			rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "ssh", "command", map[string]string{"command": h}),
			rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "http", "request", map[string]string{"user_agent": h}),
			rec(base, time.Duration(i)*time.Second, ipTraveller, "web-01", "ssh", event.TypeFileCaptured, map[string]string{
				"orig_path": "/tmp/" + h, "sha256": h, "size": "10", "stored": "true", "stored_as": h}),
		)
	}
	profileAll(e)
	b := intelBrowser(e, "admin")
	id := uuidOf(e, ipTraveller)
	pages := map[string]string{}
	for _, path := range []string{"/bounty", "/bounty?search=" + url.QueryEscape(hostile[1]), "/attackers", "/traversals",
		"/attackers/" + id, "/attackers/" + id + "?list=commands"} {
		p := b.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.Status)
		}
		pages[path] = p.Body
		if m := rawMarkup.FindString(p.Body); m != "" {
			t.Errorf("%s: unescaped %q", path, m)
		}
		if m := jsHref.FindString(p.Body); m != "" {
			t.Errorf("%s: script URL %q", path, m)
		}
	}
	detail := pages["/attackers/"+id]
	for _, want := range []string{`&lt;script&gt;alert(1)&lt;/script&gt;`, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`, `javascript:alert(1)`} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks the escaped text %s", want)
		}
	}
	// Copy buttons hand back exactly what the attacker sent.
	got := copies(part(pages["/bounty"], "bounty-table"))
	for _, h := range hostile {
		// Its username, password and user agent.
		if n := len(slices.DeleteFunc(slices.Clone(got), func(v string) bool { return v != h })); n != 3 {
			t.Errorf("%d copy buttons of %q in %q", n, h, got)
		}
	}
	// A hostile stored name stays one segment of the download path.
	arts := part(detail, "artifacts")
	for _, h := range hostile {
		if want := `class="download" href="/download/web-01/` + url.PathEscape(h) + `"`; !strings.Contains(arts, want) {
			t.Errorf("no %s in\n%s", want, arts)
		}
	}
}

// withArtifacts rebuilds e's servers over the same store with dir as
// web-01's artifact directory (the harness's API has none).
func withArtifacts(e *env, dir string) {
	e.t.Helper()
	e.reconfigure(func(c *api.Config) {
		c.ArtifactDirs = func(decky string) []string {
			if decky == "web-01" {
				return []string{dir}
			}
			return nil
		}
	})
}

func TestDownload(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	withArtifacts(e, dir)
	const stored = "2024-05-01T10:03:00Z_0123456789ab_dropper.html"
	content := []byte("<html><script>alert('payload')</script></html>\x00\x01binary")
	if err := os.WriteFile(filepath.Join(dir, stored), content, 0o600); err != nil {
		t.Fatal(err)
	}
	e.ingest(rec(time.Now().UTC(), 0, ipTraveller, "web-01", "ssh", event.TypeFileCaptured, map[string]string{
		"orig_path": "/tmp/dropper.html", "sha256": strings.Repeat("ab", 32), "size": fmt.Sprint(len(content)),
		"stored": "true", "stored_as": stored}))
	profileAll(e)
	id := uuidOf(e, ipTraveller)
	link := "/download/web-01/" + stored

	viewer := intelBrowser(e, "viewer")
	arts := part(viewer.get("/attackers/"+id).Body, "artifacts")
	if !strings.Contains(arts, "dropper.html") || !strings.Contains(arts, strings.Repeat("ab", 32)) ||
		strings.Contains(arts, `class="download"`) || strings.Contains(arts, link) || !strings.Contains(arts, "needs the analyst role") {
		t.Errorf("viewer's artifacts:\n%s", arts)
	}
	p := viewer.get(link)
	if p.Status != http.StatusForbidden || strings.Contains(p.Body, "payload") || strings.Contains(p.Body, "binary") ||
		!strings.Contains(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(p.Body, "analyst or admin role") {
		t.Errorf("viewer download: %d %s\n%s", p.Status, p.Header.Get("Content-Type"), p.Body)
	}

	analyst := intelBrowser(e, "analyst")
	arts = part(analyst.get("/attackers/"+id).Body, "artifacts")
	if !strings.Contains(arts, `<a class="download" href="`+link+`" download>`) || !strings.Contains(arts, fmt.Sprintf(">%d B<", len(content))) {
		t.Errorf("analyst's artifacts:\n%s", arts)
	}
	p = analyst.get(link)
	if p.Status != http.StatusOK || p.Body != string(content) {
		t.Fatalf("analyst download: %d %q", p.Status, p.Body)
	}
	for h, want := range map[string]string{
		"Content-Type":           "application/octet-stream",
		"Content-Disposition":    `attachment; filename="` + stored + `"`,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"Content-Length":         fmt.Sprint(len(content)),
	} {
		if got := p.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(p.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("no CSP on the download")
	}

	for _, c := range []struct {
		path   string
		status int
	}{
		{"/download/web-01/2024-05-01T10:03:00Z_0123456789ab_gone.sh", http.StatusNotFound},
		{"/download/db-01/" + stored, http.StatusNotFound},
		// Names that would leave their segment reach nothing.
		{"/download/web-01/" + url.PathEscape("../"+stored), http.StatusNotFound},
		{"/download/" + url.PathEscape("../config") + "/users", http.StatusNotFound},
		{"/download/web-01/not-a-stored-name", http.StatusUnprocessableEntity},
	} {
		p := analyst.get(c.path)
		if p.Status != c.status || !strings.Contains(p.Header.Get("Content-Type"), "text/html") || strings.Contains(p.Body, "payload") {
			t.Errorf("%s: %d %s at %s", c.path, p.Status, p.Header.Get("Content-Type"), p.URL)
		}
	}
}
