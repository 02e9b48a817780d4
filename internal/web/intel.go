package web

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"decnet/internal/event"
	"decnet/internal/store"
)

// The intelligence pages: what attackers revealed (bounty), who they are
// (attackers, one attacker), who crossed deckies (traversals), and the
// files they left (downloads, analysts and admins only).

// registerIntel adds the bounty, attacker, traversal and download pages.
func (s *Server) registerIntel(mux *http.ServeMux) {
	mux.Handle("GET /bounty", s.session(s.bountyPage))
	mux.Handle("GET /attackers", s.session(s.attackersPage))
	mux.Handle("GET /attackers/by-ip", s.session(s.attackerByIP))
	mux.Handle("GET /attackers/{uuid}", s.session(s.attackerPage))
	mux.Handle("GET /traversals", s.session(s.traversalsPage))
	mux.Handle("GET /download/{decky}/{stored_as}", s.session(s.download))
}

// option is one choice of a filter: a tab or a <select> option.
type option struct {
	Value, Label string
	Current      bool
}

func options(current string, pairs ...string) []option {
	var out []option
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, option{Value: pairs[i], Label: pairs[i+1], Current: pairs[i] == current})
	}
	return out
}

// pair is one key and value of a bounty's payload; Copy marks the values
// worth a copy button (secrets and hashes, not the metadata around them).
type pair struct {
	Key, Value string
	Copy       bool
}

// leadKeys are the payload keys shown first, in this order, with a copy
// button: what an analyst reuses (a credential, a fingerprint's hash).
var leadKeys = []string{"username", "password", "hash", "value", "ja3", "ja3s", "ja4", "ja4s"}

// fingerprintTypeKey names a fingerprint's kind in its payload.
const fingerprintTypeKey = "fingerprint_type"

// bountyRow is a bounty with its payload laid out for the page.
type bountyRow struct {
	store.Bounty
	// Kind is a fingerprint's fingerprint_type, "" for other bounties.
	Kind  string
	Pairs []pair
}

func newBountyRow(b store.Bounty) bountyRow {
	row := bountyRow{Bounty: b}
	if k, ok := b.Payload[fingerprintTypeKey].(string); ok {
		row.Kind = k
	}
	rest := slices.Sorted(maps.Keys(b.Payload))
	for _, k := range leadKeys {
		if v, ok := b.Payload[k]; ok {
			row.Pairs = append(row.Pairs, pair{Key: k, Value: text(v), Copy: true})
		}
	}
	for _, k := range rest {
		if k != fingerprintTypeKey && !slices.Contains(leadKeys, k) {
			row.Pairs = append(row.Pairs, pair{Key: k, Value: text(b.Payload[k])})
		}
	}
	return row
}

// Linkable reports whether the row names an attacker that may have a
// profile; prober fingerprints of an unnamed target say "Unknown".
func (b bountyRow) Linkable() bool { return b.AttackerIP != "" && b.AttackerIP != event.Unknown }

// KindLabel names a fingerprint's kind for people.
func (b bountyRow) KindLabel() string { return fingerprintLabel(b.Kind) }

func fingerprintLabel(kind string) string {
	switch kind {
	case "ja3":
		return "TLS client (JA3/JA4)"
	case "ja4l":
		return "TLS latency (JA4L)"
	case "tls_resumption":
		return "TLS session resumption"
	case "tls_certificate":
		return "TLS certificate"
	case "http_useragent":
		return "HTTP user agent"
	case "vnc_client_version":
		return "VNC client version"
	case "jarm":
		return "JARM (TLS server)"
	case "hassh_server":
		return "HASSH (SSH server)"
	case "tcpfp":
		return "TCP stack"
	case "":
		return "Other"
	}
	return kind
}

type bountyView struct {
	Type, Search string
	Tabs         []option
	Rows         []bountyRow
	Total        int64
	Pager        pager
}

// Filtered reports whether a filter hides part of the vault, so an empty
// page says "nothing matches" rather than "nothing yet".
func (v bountyView) Filtered() bool { return v.Type != "" || v.Search != "" }

// bountyPage serves GET /bounty?type=&search=&offset=.
func (s *Server) bountyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := bountyView{Type: q.Get("type"), Search: strings.TrimSpace(q.Get("search"))}
	v.Tabs = options(v.Type, "", "All", store.BountyCredential, "Credentials", store.BountyFingerprint, "Fingerprints")
	offset := offsetOf(r)
	var page store.Page[store.Bounty]
	err := s.get(r, "/bounty", url.Values{"bounty_type": {v.Type}, "search": {v.Search},
		"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}, &page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, b := range page.Data {
		v.Rows = append(v.Rows, newBountyRow(b))
	}
	v.Total, v.Pager = page.Total, newPager(r.URL, page.Total, pageSize, offset)
	s.render(w, r, http.StatusOK, "bounty", v)
}

type attackersView struct {
	Search, Sort, Service string
	Sorts                 []option
	Rows                  []store.Attacker
	Total                 int64
	Pager                 pager
}

// Filtered reports whether a filter narrows the list.
func (v attackersView) Filtered() bool { return v.Search != "" || v.Service != "" }

// attackersPage serves GET /attackers?search=&sort=&service=&offset=.
func (s *Server) attackersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := attackersView{Search: strings.TrimSpace(q.Get("search")), Sort: q.Get("sort"), Service: q.Get("service")}
	v.Sorts = options(v.Sort, store.SortRecent, "Most recent", store.SortActive, "Most active", store.SortTraversals, "Traversals first")
	if !slices.ContainsFunc(v.Sorts, func(o option) bool { return o.Current }) {
		v.Sort, v.Sorts[0].Current = store.SortRecent, true
	}
	offset := offsetOf(r)
	var page store.Page[store.Attacker]
	err := s.get(r, "/attackers", url.Values{"search": {v.Search}, "sort_by": {v.Sort}, "service": {v.Service},
		"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}, &page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Rows, v.Total, v.Pager = page.Data, page.Total, newPager(r.URL, page.Total, pageSize, offset)
	s.render(w, r, http.StatusOK, "attackers", v)
}

// byIPLookup is how many profiles whose IP contains the one asked for
// are searched for it exactly; more never share a full address.
const byIPLookup = 100

// attackerByIP serves GET /attackers/by-ip?ip=: pages that know an
// attacker only by address (bounty, logs) link here, and land on its
// profile, or on the attackers list searched for it when the profiler
// has not built one yet.
func (s *Server) attackerByIP(w http.ResponseWriter, r *http.Request) {
	ip := strings.TrimSpace(r.URL.Query().Get("ip"))
	if ip == "" {
		http.Redirect(w, r, "/attackers", http.StatusSeeOther)
		return
	}
	var page store.Page[store.Attacker]
	if err := s.get(r, "/attackers", url.Values{"search": {ip}, "limit": {strconv.Itoa(byIPLookup)}}, &page); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range page.Data {
		if a.IP == ip {
			http.Redirect(w, r, "/attackers/"+url.PathEscape(a.UUID), http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/attackers?"+url.Values{"search": {ip}}.Encode(), http.StatusSeeOther)
}

// profileRow is an attacker profile with what its pages derive from it.
type profileRow struct {
	store.Attacker
}

// Span is how long the attacker has been around, first to last event.
func (t profileRow) Span() string { return span(t.LastSeen.Sub(t.FirstSeen)) }

// Search is the log search of the attacker's events.
func (t profileRow) Search() string { return logSearch("attacker", t.IP) }

// DeckySearch is the log search of the attacker's events on decky.
func (t profileRow) DeckySearch(decky string) string {
	return logSearch("attacker", t.IP, "decky", decky)
}

// span shows a duration to its two largest units: "2d 4h", "3h 12m",
// "45s".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	days, hours, mins, secs := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}

type traversalsView struct {
	Rows  []profileRow
	Total int64
	Pager pager
}

// traversalsPage serves GET /traversals?offset=: the attackers seen on
// two deckies or more, most recent first.
func (s *Server) traversalsPage(w http.ResponseWriter, r *http.Request) {
	offset := offsetOf(r)
	var page store.Page[store.Attacker]
	err := s.get(r, "/attackers", url.Values{"traversal": {"true"}, "sort_by": {store.SortRecent},
		"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}, &page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := traversalsView{Total: page.Total, Pager: newPager(r.URL, page.Total, pageSize, offset)}
	for _, a := range page.Data {
		v.Rows = append(v.Rows, profileRow{a})
	}
	s.render(w, r, http.StatusOK, "traversals", v)
}

// listCommands is the detail page's ?list= that makes ?offset= page the
// commands instead of the timeline (one page, two lists, one offset).
const listCommands = "commands"

type attackerView struct {
	A profileRow
	// Service narrows the timeline and the commands to one service.
	Service string
	// Search is the log search of the timeline, for the log explorer.
	Search        string
	Timeline      store.Page[store.Log]
	TimelineRows  []logRow // Timeline's rows as the log explorer shows them
	TimelinePager pager
	Commands      store.Page[store.Command]
	CommandsPager pager
	// Behavior is nil until the profiler has analysed the attacker.
	Behavior     []factGroup
	Fingerprints []fingerprintGroup
	Artifacts    []artifactRow
}

// attackerPage serves GET /attackers/{uuid}?service=&list=&offset=.
func (s *Server) attackerPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("uuid")
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		s.notFound(w, r)
		return
	}
	q := r.URL.Query()
	v := attackerView{Service: q.Get("service")}
	timelineAt, commandsAt := offsetOf(r), 0
	if q.Get("list") == listCommands {
		timelineAt, commandsAt = 0, timelineAt
	}
	base := "/attackers/" + id
	var artifacts store.Page[store.Log]
	err := fetch(
		func() error { return s.get(r, base, nil, &v.A.Attacker) },
		func() error {
			return s.get(r, base+"/commands", url.Values{"service": {v.Service}, "limit": {strconv.Itoa(pageSize)},
				"offset": {strconv.Itoa(commandsAt)}}, &v.Commands)
		},
		func() error { return s.get(r, base+"/artifacts", nil, &artifacts) },
	)
	if err == nil {
		// The timeline searches the logs by address, known only now.
		v.Search = logSearch("attacker", v.A.IP, "service", v.Service)
		err = s.get(r, "/logs", url.Values{"search": {v.Search}, "limit": {strconv.Itoa(pageSize)},
			"offset": {strconv.Itoa(timelineAt)}}, &v.Timeline)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.TimelineRows = logRows(v.Timeline.Data, logFilter{Range: "all"})
	v.TimelinePager = newPager(withList(r.URL, ""), v.Timeline.Total, pageSize, timelineAt)
	v.CommandsPager = newPager(withList(r.URL, listCommands), v.Commands.Total, pageSize, commandsAt)
	v.Behavior = behaviorFacts(v.A.Behavior)
	v.Fingerprints = groupFingerprints(v.A.Fingerprints)
	for _, l := range artifacts.Data {
		v.Artifacts = append(v.Artifacts, newArtifactRow(l))
	}
	s.render(w, r, http.StatusOK, "attacker", v)
}

// withList is u for the pager of one list of the detail page: the other
// list's offset does not carry over.
func withList(u *url.URL, list string) *url.URL {
	c := *u
	q := c.Query()
	q.Del("offset")
	if list == "" {
		q.Del("list")
	} else {
		q.Set("list", list)
	}
	c.RawQuery = q.Encode()
	return &c
}

// logSearch builds a log search from key, value pairs (empty values left
// out), quoting values the search language would split.
func logSearch(pairs ...string) string {
	var terms []string
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \t\r\n\v\f\"\\") {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		terms = append(terms, k+":"+v)
	}
	return strings.Join(terms, " ")
}

// fact is one line of the behaviour profile. An empty Value and no Tags
// show "not enough data yet"; At, when set, is shown as a time.
type fact struct {
	Label, Value string
	Tags         []string
	At           time.Time
	Hint         string
}

// factGroup is one block of facts.
type factGroup struct {
	Title string
	Facts []fact
}

// behaviorFacts lays out a behaviour profile; nil when there is none.
func behaviorFacts(b *store.Behavior) []factGroup {
	if b == nil {
		return nil
	}
	tools := fact{Label: "Tools", Tags: b.ToolGuesses}
	if len(b.ToolGuesses) == 0 {
		tools.Value = "none recognised"
	}
	t, p := b.TimingStats, b.PhaseSequence
	return []factGroup{
		{"Summary", []fact{
			{Label: "Behaviour class", Value: b.BehaviorClass, Hint: classHint(b.BehaviorClass)},
			{Label: "OS guess", Value: b.OSGuess},
			{Label: "Hop distance", Value: number(b.HopDistance, "%d hops")},
			tools,
		}},
		{"Beaconing", []fact{
			{Label: "Interval", Value: number(b.BeaconIntervalS, "%.1f s")},
			{Label: "Jitter", Value: number(b.BeaconJitterPct, "%.2f %%")},
		}},
		{"TCP fingerprint", tcpFacts(b.TCPFingerprint, b.RetransmitCount)},
		{"Timing", []fact{
			{Label: "Events analysed", Value: strconv.FormatInt(t.EventCount, 10)},
			{Label: "Duration", Value: span(time.Duration(t.DurationS * float64(time.Second)))},
			{Label: "Mean interval", Value: number(t.MeanIATS, "%.3f s")},
			{Label: "Median interval", Value: number(t.MedianIATS, "%.3f s")},
			{Label: "Std deviation", Value: number(t.StdevIATS, "%.3f s")},
			{Label: "Min / max interval", Value: both(number(t.MinIATS, "%.3f s"), number(t.MaxIATS, "%.3f s"))},
			{Label: "Coefficient of variation", Value: number(t.CV, "%.4f")},
		}},
		{"Phases", []fact{
			{Label: "Reconnaissance ended", At: deref(p.ReconEndTS)},
			{Label: "Action started", At: deref(p.ExfilStartTS)},
			{Label: "Recon to action", Value: number(p.ExfilLatencyS, "%.1f s")},
			{Label: "Large payloads (≥ 1 MiB)", Value: strconv.Itoa(p.LargePayloadCount)},
		}},
	}
}

func tcpFacts(tcp *store.TCPFingerprint, retransmits int) []fact {
	out := []fact{{Label: "Retransmits", Value: strconv.Itoa(retransmits)}}
	if tcp == nil {
		return append([]fact{{Label: "SYN fingerprint"}}, out...)
	}
	flags := []string{}
	if tcp.HasSACK {
		flags = append(flags, "SACK")
	}
	if tcp.HasTimestamps {
		flags = append(flags, "timestamps")
	}
	return append([]fact{
		{Label: "Window", Value: number(tcp.Window, "%d")},
		{Label: "Window scale", Value: number(tcp.WScale, "%d")},
		{Label: "MSS", Value: number(tcp.MSS, "%d")},
		{Label: "Options", Value: tcp.OptionsSig},
		{Label: "Flags", Tags: flags, Value: "none"},
	}, out...)
}

// number formats *n, "" (not enough data) when nil.
func number[T int | float64](n *T, format string) string {
	if n == nil {
		return ""
	}
	return fmt.Sprintf(format, *n)
}

// both joins two values known together, "" unless both are known.
func both(a, b string) string {
	if a == "" || b == "" {
		return ""
	}
	return a + " / " + b
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// classHint explains a behaviour class (the profiler's rules, in words).
func classHint(class string) string {
	switch class {
	case "unknown":
		return "Fewer than three events so far."
	case "slow_scan":
		return "Several services, ten seconds or more between events."
	case "scanning":
		return "Several services in quick succession."
	case "brute_force":
		return "Many fast, regular attempts on one service."
	case "beaconing":
		return "Regular check-ins, like implant traffic."
	case "interactive":
		return "Irregular, quick events: a person at a keyboard."
	case "mixed":
		return "No single pattern."
	}
	return ""
}

// fingerprintGroup is an attacker's fingerprints of one kind.
type fingerprintGroup struct {
	Kind, Label string
	Items       []bountyRow
}

func groupFingerprints(fps []store.Bounty) []fingerprintGroup {
	var groups []fingerprintGroup
	for _, fp := range fps {
		row := newBountyRow(fp)
		i := slices.IndexFunc(groups, func(g fingerprintGroup) bool { return g.Kind == row.Kind })
		if i < 0 {
			groups = append(groups, fingerprintGroup{Kind: row.Kind, Label: fingerprintLabel(row.Kind)})
			i = len(groups) - 1
		}
		groups[i].Items = append(groups[i].Items, row)
	}
	slices.SortFunc(groups, func(a, b fingerprintGroup) int { return cmp.Compare(a.Label, b.Label) })
	return groups
}

// artifactRow is a file_captured log: the file an attacker wrote.
type artifactRow struct {
	store.Log
	// Download is the dashboard's URL of the stored bytes, "" when the
	// decky did not keep them.
	Download string
}

func newArtifactRow(l store.Log) artifactRow {
	row := artifactRow{Log: l}
	if name := l.Fields["stored_as"]; name != "" && l.Fields["stored"] != "false" {
		row.Download = "/download/" + url.PathEscape(l.Decky) + "/" + url.PathEscape(name)
	}
	return row
}

// Size is the file's size for people: "512 B", "1.5 KiB".
func (a artifactRow) Size() string {
	n, err := strconv.ParseInt(a.Fields["size"], 10, 64)
	if err != nil {
		return a.Fields["size"]
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if f < 1024 {
			break
		}
		f, unit = f/1024, u
	}
	return fmt.Sprintf("%.1f %s", f, unit)
}

// maxRefusalBytes bounds the API's problem document read from a refused
// download.
const maxRefusalBytes = 16 << 10

// download serves GET /download/{decky}/{stored_as}: the API's artifact
// bytes, as the attachment the API makes them. A refusal (a viewer, a
// missing file, a malformed name) becomes a dashboard page with the same
// status instead of the API's JSON.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	path := "/artifacts/" + url.PathEscape(r.PathValue("decky")) + "/" + url.PathEscape(r.PathValue("stored_as"))
	dw := &downloadWriter{w: w, header: http.Header{}}
	s.proxy(dw, r, visitorOf(r), http.MethodGet, path, nil)
	if dw.status == 0 || dw.passed() {
		return
	}
	err := problemOf(dw.status, dw.header, dw.refusal.Bytes())
	if err.Status == http.StatusForbidden {
		s.errorPage(w, r, http.StatusForbidden, "Downloading captured files needs the analyst or admin role: "+
			"they may be live malware. Ask an admin if you need this file.")
		return
	}
	s.fail(w, r, err)
}

// downloadWriter passes a successful answer straight to the browser,
// streaming, and keeps any other for the dashboard to explain.
type downloadWriter struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	refusal bytes.Buffer
}

func (d *downloadWriter) passed() bool { return d.status >= 200 && d.status <= 299 }

func (d *downloadWriter) Header() http.Header { return d.header }

func (d *downloadWriter) WriteHeader(code int) {
	if d.status != 0 {
		return
	}
	d.status = code
	if d.passed() {
		h := d.w.Header()
		maps.Copy(h, d.header)
		// The bytes may be malware: no cache keeps a copy.
		h.Set("Cache-Control", "no-store")
		d.w.WriteHeader(code)
	}
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	if d.passed() {
		return d.w.Write(p)
	}
	if room := maxRefusalBytes - d.refusal.Len(); room > 0 {
		d.refusal.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
