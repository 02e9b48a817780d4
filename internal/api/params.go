package api

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"decnet/internal/store"
)

// Query-parameter limits.
const (
	defaultLimit   = 50
	maxLimit       = 1000
	maxOffset      = math.MaxInt32
	maxSearchBytes = 512
	maxTypeBytes   = 64
)

// timeLayouts are the accepted forms of start_time and end_time: RFC 3339
// and the dashboard's "YYYY-MM-DD HH:MM:SS" (with or without fraction,
// with a space or a T), the latter read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// params reads one request's query parameters. Values the dashboard sends
// for "no value" ("", "null", "undefined", any case) count as absent, and
// a parameter given twice is an error rather than a guess.
type params struct {
	v url.Values
}

func parseParams(rawQuery string) (params, error) {
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return params{}, badRequest("malformed query string")
	}
	return params{v}, nil
}

func (p params) str(name string) (string, bool, error) {
	vs := p.v[name]
	switch {
	case len(vs) == 0:
		return "", false, nil
	case len(vs) > 1:
		return "", false, badRequest("parameter %s given more than once", name)
	}
	switch strings.ToLower(vs[0]) {
	case "", "null", "undefined":
		return "", false, nil
	}
	return vs[0], true, nil
}

// text returns a string parameter of at most maxBytes bytes.
func (p params) text(name string, maxBytes int) (string, error) {
	s, _, err := p.str(name)
	if err != nil {
		return "", err
	}
	if len(s) > maxBytes {
		return "", badRequest("%s longer than %d bytes", name, maxBytes)
	}
	return s, nil
}

// integer returns an integer parameter in [lo, hi], def when absent.
func (p params) integer(name string, def, lo, hi int) (int, error) {
	s, ok, err := p.str(name)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// page returns limit and offset.
func (p params) page() (limit, offset int, err error) {
	if limit, err = p.integer("limit", defaultLimit, 1, maxLimit); err != nil {
		return 0, 0, err
	}
	offset, err = p.integer("offset", 0, 0, maxOffset)
	return limit, offset, err
}

// time returns a time parameter in UTC, zero when absent.
func (p params) time(name string) (time.Time, error) {
	s, ok, err := p.str(name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	// An unescaped '+' of an offset arrives as a space; put it back.
	if before, after, found := strings.Cut(s, " "); found && strings.Contains(before, "T") {
		s = before + "+" + after
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("%s must be RFC 3339 or YYYY-MM-DD HH:MM:SS", name)
}

// logQuery reads the parameters of GET /logs. end_time is inclusive, as
// the dashboard means it; the store's Until is exclusive.
func logQuery(rawQuery string) (store.LogQuery, error) {
	p, err := parseParams(rawQuery)
	if err != nil {
		return store.LogQuery{}, err
	}
	var q store.LogQuery
	if q.Limit, q.Offset, err = p.page(); err != nil {
		return store.LogQuery{}, err
	}
	if q.Search, err = p.text("search", maxSearchBytes); err != nil {
		return store.LogQuery{}, err
	}
	if q.Since, err = p.time("start_time"); err != nil {
		return store.LogQuery{}, err
	}
	end, err := p.time("end_time")
	if err != nil {
		return store.LogQuery{}, err
	}
	if !end.IsZero() {
		if !q.Since.IsZero() && end.Before(q.Since) {
			return store.LogQuery{}, badRequest("end_time is before start_time")
		}
		q.Until = end.Add(time.Nanosecond)
	}
	return q, nil
}

// bountyQuery reads the parameters of GET /bounty.
func bountyQuery(rawQuery string) (store.BountyQuery, error) {
	p, err := parseParams(rawQuery)
	if err != nil {
		return store.BountyQuery{}, err
	}
	var q store.BountyQuery
	if q.Limit, q.Offset, err = p.page(); err != nil {
		return store.BountyQuery{}, err
	}
	if q.Type, err = p.text("bounty_type", maxTypeBytes); err != nil {
		return store.BountyQuery{}, err
	}
	if q.Search, err = p.text("search", maxSearchBytes); err != nil {
		return store.BountyQuery{}, err
	}
	return q, nil
}
