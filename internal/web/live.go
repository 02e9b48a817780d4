package web

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"decnet/internal/api"
	"decnet/internal/store"
)

// registerLive adds the overview, the log explorer, and the chart
// fragment their script fetches to redraw a chart as logs arrive.
func (s *Server) registerLive(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.session(s.overviewPage))
	mux.Handle("GET /logs", s.session(s.logsPage))
	mux.Handle("GET /ui/chart", s.session(s.chartFragment))
}

// Sizes of the live views' lists.
const (
	// feedRows is the overview's feed, server-rendered and kept live.
	feedRows = 100
	// liveLogRows is the most rows the explorer keeps in live mode.
	liveLogRows  = 500
	topAttackers = 5
	topServices  = 8
)

// logRange is one of the explorer's preset periods, ending now.
type logRange struct {
	Key, Label string
	Span       time.Duration // 0: all time
}

// logRanges are the explorer's preset periods.
var logRanges = []logRange{
	{"15m", "15 min", 15 * time.Minute},
	{"1h", "1 hour", time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"all", "All time", 0},
}

// defaultRange is the explorer's period when the URL names none, and the
// overview chart's.
const defaultRange = "24h"

func rangeOf(key string) (logRange, bool) {
	for _, lr := range logRanges {
		if lr.Key == key {
			return lr, true
		}
	}
	return logRange{}, false
}

// logFilter is what the explorer's URL asks for, as the user typed it: a
// value the API refuses is shown back with the reason, never replaced.
type logFilter struct {
	Search string
	// Range is a key of logRanges; a custom period (Start, End) wins.
	Range      string
	Start, End string
	// Live follows new logs; it has no end, so End is dropped.
	Live bool
}

func filterOf(q url.Values) logFilter {
	f := logFilter{Search: q.Get("search"), Range: q.Get("range"), Live: q.Get("live") == "1",
		Start: strings.TrimSpace(q.Get("start_time")), End: strings.TrimSpace(q.Get("end_time"))}
	if _, ok := rangeOf(f.Range); !ok {
		f.Range = defaultRange
	}
	if f.Live {
		f.End = ""
	}
	return f
}

// Custom reports whether the filter names its own period.
func (f logFilter) Custom() bool { return f.Start != "" || f.End != "" }

// href is the explorer's URL for the filter.
func (f logFilter) href() string { return "/logs?" + f.values().Encode() }

// values are the filter as the explorer's URL parameters.
func (f logFilter) values() url.Values {
	q := url.Values{}
	if f.Search != "" {
		q.Set("search", f.Search)
	}
	if f.Custom() {
		if f.Start != "" {
			q.Set("start_time", f.Start)
		}
		if f.End != "" {
			q.Set("end_time", f.End)
		}
	} else {
		q.Set("range", f.Range)
	}
	if f.Live {
		q.Set("live", "1")
	}
	return q
}

// over is the filter over a preset period.
func (f logFilter) over(rangeKey string) logFilter {
	f.Range, f.Start, f.End = rangeKey, "", ""
	return f
}

// chartSrc is the URL of the filter's chart alone (chartFragment).
func (f logFilter) chartSrc() string {
	f.Live = false
	return "/ui/chart?" + f.values().Encode()
}

// attackerHref is the explorer searching for one attacker's logs, over
// the filter's period.
func (f logFilter) attackerHref(ip string) string {
	f.Search = "attacker:" + ip
	return f.href()
}

// window is the part of the logs a filter selects: the API's query
// (search, start_time, end_time) and its chart's bounds and bar width.
type window struct {
	query    url.Values
	from, to time.Time // from is zero for all time
	interval time.Duration
}

// rangeWindow is the last span before now (all time when 0). Its start is
// aligned on a bar of its chart, so the first bar is whole and the API's
// cache sees the same query for the width of a bar.
func rangeWindow(search string, span time.Duration, now time.Time) window {
	w := window{query: url.Values{}, to: now, interval: 24 * time.Hour}
	if search != "" {
		w.query.Set("search", search)
	}
	if span > 0 {
		w.interval = barStep(span, time.Minute)
		w.from = alignDown(now.Add(-span), w.interval)
		w.query.Set("start_time", w.from.Format(time.RFC3339))
	}
	return w
}

// window resolves the filter's period at now; a custom period the page
// cannot read is an error to show the user.
func (f logFilter) window(now time.Time) (window, error) {
	if !f.Custom() {
		lr, _ := rangeOf(f.Range)
		return rangeWindow(f.Search, lr.Span, now), nil
	}
	start, err := parseWhen("From", f.Start)
	if err != nil {
		return window{}, err
	}
	end, err := parseWhen("To", f.End)
	if err != nil {
		return window{}, err
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return window{}, errors.New("the end of the period is before its start")
	}
	w := rangeWindow(f.Search, 0, now)
	if !end.IsZero() {
		w.to = end
		w.query.Set("end_time", end.Format(time.RFC3339Nano))
	}
	if !start.IsZero() {
		w.from = start
		w.interval = barStep(w.to.Sub(start), time.Minute)
		w.query.Set("start_time", start.Format(time.RFC3339Nano))
	}
	return w, nil
}

// histogramQuery is the window's GET /logs/histogram query.
func (w window) histogramQuery() url.Values {
	q := maps.Clone(w.query)
	q.Set("interval_minutes", strconv.Itoa(int(w.interval/time.Minute)))
	return q
}

// pageQuery is the window's GET /logs query for one page.
func (w window) pageQuery(limit, offset int) url.Values {
	q := maps.Clone(w.query)
	q.Set("limit", strconv.Itoa(limit))
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	return q
}

// whenLayouts are the forms a custom period's bounds may take, read as
// UTC unless they carry a zone: RFC 3339 and YYYY-MM-DD HH:MM[:SS], with
// a space or a T (what a datetime-local field sends).
var whenLayouts = []string{
	time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
}

// parseWhen reads a bound of a custom period; "" is no bound.
func parseWhen(label, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range whenLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: write YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339", label, v)
}

// searchError is the message of an API refusal of the search or the
// period (422), which the explorer shows beside its query box.
func searchError(err error) (string, bool) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		return ae.Error(), true
	}
	return "", false
}

// logRow is a log as the feed and the explorer show it (the "logrow"
// template).
type logRow struct {
	store.Log
	// AttackerHref is the explorer searching for the row's attacker.
	AttackerHref string
}

func logRows(logs []store.Log, links logFilter) []logRow {
	rows := make([]logRow, len(logs))
	for i, l := range logs {
		rows[i] = logRow{Log: l, AttackerHref: links.attackerHref(l.AttackerIP)}
	}
	return rows
}

// liveConfig is what static/live.js needs to keep a page live (the
// "liveconfig" template puts it in data attributes).
type liveConfig struct {
	// Table is the id of the table whose body takes new rows, at most
	// MaxRows of them.
	Table   string
	MaxRows int
	// Search and StartTime are the stream's filters; LastID is the newest
	// log the page shows, where the stream resumes.
	Search, StartTime string
	LastID            int64
	// ChartSrc is the chart fragment to fetch when the histogram changes.
	ChartSrc string
	// RowLinks is the explorer URL an attacker link of a new row starts
	// from (its search is set to the attacker).
	RowLinks string
}

// newLiveConfig follows the logs of f over w after the log id after;
// attacker links of new rows keep the period of links.
func newLiveConfig(table string, maxRows int, f, links logFilter, w window, after int64) liveConfig {
	c := liveConfig{Table: table, MaxRows: maxRows, Search: f.Search, StartTime: w.query.Get("start_time"),
		ChartSrc: f.chartSrc(), LastID: after}
	links.Search = ""
	c.RowLinks = links.href()
	return c
}

// newestID is the id of the first (newest) of logs, 0 when there are none.
func newestID(logs []store.Log) int64 {
	if len(logs) == 0 {
		return 0
	}
	return logs[0].ID
}

// ---- Overview ----

// overviewView is the overview page.
type overviewView struct {
	Stats     api.StatsBody
	Rows      []logRow
	Chart     chart
	Attackers []store.Attacker
	Services  []store.ServiceCount
	// ServiceMax is the busiest service's count, the scale of the meters.
	ServiceMax int64
	// Hints say how to attack the fleet, for an overview with no logs.
	Hints []attackHint
	Live  liveConfig
}

// overviewPage serves GET /: counters, the newest logs, the last day's
// chart, the top attackers and services, all read at once.
func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	lr, _ := rangeOf(defaultRange)
	win := rangeWindow("", lr.Span, now)
	var (
		v       overviewView
		logs    store.Page[store.Log]
		buckets []store.Bucket
		deckies []api.Decky
		atk     store.Page[store.Attacker]
	)
	err := fetch(
		func() error { return s.get(r, "/stats", nil, &v.Stats) },
		// The feed is the newest logs, however old: not the chart's day.
		func() error { return s.get(r, "/logs", url.Values{"limit": {strconv.Itoa(feedRows)}}, &logs) },
		func() error { return s.get(r, "/logs/histogram", win.histogramQuery(), &buckets) },
		func() error {
			return s.get(r, "/attackers", url.Values{"sort_by": {store.SortActive}, "limit": {strconv.Itoa(topAttackers)}}, &atk)
		},
		func() error {
			return s.get(r, "/stats/services", url.Values{"limit": {strconv.Itoa(topServices)}}, &v.Services)
		},
		func() error { return s.get(r, "/deckies", nil, &deckies) },
	)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Attacker links from the overview look at all time: its feed may
	// reach further back than the explorer's default day.
	links := logFilter{Range: "all"}
	v.Rows = logRows(logs.Data, links)
	v.Chart = newChart(buckets, win.from, win.to, win.interval)
	v.Attackers = atk.Data
	for _, sc := range v.Services {
		v.ServiceMax = max(v.ServiceMax, sc.Count)
	}
	if len(v.Rows) == 0 {
		v.Hints = attackHints(deckies)
	}
	v.Live = newLiveConfig("feed", feedRows, logFilter{Range: defaultRange}, links, win, newestID(logs.Data))
	s.render(w, r, http.StatusOK, "overview", v)
}

// attackHint is how to reach one decky's services from a shell.
type attackHint struct {
	Decky, IP string
	Commands  []string
}

// attackHints are commands that attack each decky's services, on the
// ports they listen on (Ports), else on their usual ports.
func attackHints(ds []api.Decky) []attackHint {
	var hints []attackHint
	for _, d := range ds {
		h := attackHint{Decky: d.Name, IP: d.IP}
		for _, svc := range d.Services {
			if c := attackCommand(svc, d.IP, d.Ports[svc]); c != "" {
				h.Commands = append(h.Commands, c)
			}
		}
		hints = append(hints, h)
	}
	return hints
}

// attackCommand is a command that touches service at ip:port with a
// common client; port 0 means the service's usual port. "" when the
// service's port is unknown.
func attackCommand(service, ip string, port int) string {
	if port == 0 {
		port = usualPort(service)
	}
	if port == 0 {
		return ""
	}
	hostPort := net.JoinHostPort(ip, strconv.Itoa(port))
	switch service {
	case "ssh":
		return fmt.Sprintf("ssh -p %d root@%s", port, ip)
	case "http":
		return "curl http://" + hostPort + "/"
	case "https":
		return "curl -k https://" + hostPort + "/"
	case "redis":
		return fmt.Sprintf("redis-cli -h %s -p %d KEYS '*'", ip, port)
	}
	return fmt.Sprintf("nc -v %s %d", ip, port)
}

// usualPort is the port a service listens on when not shifted, 0 when
// the overview has no command for it.
func usualPort(service string) int {
	switch service {
	case "ssh":
		return 22
	case "http":
		return 80
	case "https":
		return 443
	case "redis":
		return 6379
	}
	return 0
}

// ---- Log explorer ----

// logsView is the log explorer.
type logsView struct {
	Filter logFilter
	Ranges []rangeLink
	// LiveHref turns live mode on or off; AllHref is the search over all
	// time, for an empty result.
	LiveHref, AllHref string
	// Error is the API's (or the page's) refusal of the search or period.
	Error string
	Rows  []logRow
	Pager pager
	Chart chart
	Live  liveConfig
}

// rangeLink is one preset period of the explorer.
type rangeLink struct {
	Label, Href string
	Current     bool
}

func rangeLinks(f logFilter) []rangeLink {
	var out []rangeLink
	for _, lr := range logRanges {
		out = append(out, rangeLink{Label: lr.Label, Href: f.over(lr.Key).href(), Current: !f.Custom() && f.Range == lr.Key})
	}
	return out
}

// logsPage serves GET /logs: a search over a period, its chart and a page
// of its logs, or, in live mode, its newest logs followed as they come.
func (s *Server) logsPage(w http.ResponseWriter, r *http.Request) {
	f := filterOf(r.URL.Query())
	toggle := f
	toggle.Live = !f.Live
	v := logsView{Filter: f, Ranges: rangeLinks(f), LiveHref: toggle.href(), AllHref: f.over("all").href()}
	win, err := f.window(time.Now().UTC())
	if err != nil {
		v.Error = err.Error()
		s.render(w, r, http.StatusUnprocessableEntity, "logs", v)
		return
	}
	offset := offsetOf(r)
	if f.Live {
		offset = 0 // live rows arrive on top of the first page
	}
	var (
		logs    store.Page[store.Log]
		buckets []store.Bucket
	)
	err = fetch(
		func() error { return s.get(r, "/logs", win.pageQuery(pageSize, offset), &logs) },
		func() error { return s.get(r, "/logs/histogram", win.histogramQuery(), &buckets) },
	)
	if msg, ok := searchError(err); ok {
		v.Error = msg
		s.render(w, r, http.StatusUnprocessableEntity, "logs", v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Rows = logRows(logs.Data, f)
	v.Pager = newPager(r.URL, logs.Total, pageSize, offset)
	v.Chart = newChart(buckets, win.from, win.to, win.interval)
	if f.Live {
		after := newestID(logs.Data)
		if after == 0 {
			// Nothing matches yet: follow from the newest log of all, or a
			// match stored before the stream opens would be missed (the
			// stream's 0 means "from when it opens").
			var newest store.Page[store.Log]
			if err := s.get(r, "/logs", url.Values{"limit": {"1"}}, &newest); err != nil {
				s.fail(w, r, err)
				return
			}
			after = newestID(newest.Data)
		}
		v.Live = newLiveConfig("log-table", liveLogRows, f, f, win, after)
	}
	s.render(w, r, http.StatusOK, "logs", v)
}

// chartFragment serves GET /ui/chart: the chart of the explorer's
// parameters, alone. The live views fetch it to redraw their chart, so
// a chart's geometry is computed in one place (chart.go).
func (s *Server) chartFragment(w http.ResponseWriter, r *http.Request) {
	f := filterOf(r.URL.Query())
	win, err := f.window(time.Now().UTC())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	var buckets []store.Bucket
	if err := s.get(r, "/logs/histogram", win.histogramQuery(), &buckets); err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := s.pages["logs"].ExecuteTemplate(&buf, "chart", newChart(buckets, win.from, win.to, win.interval)); err != nil {
		s.log.Error("dashboard chart failed to render", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
