package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/store"
)

// PageParams are the paging parameters of every list (exported so huma
// reads them through embedding).
type PageParams struct {
	Limit  int `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Rows per page."`
	Offset int `query:"offset" minimum:"0" maximum:"2147483647" default:"0" doc:"Rows to skip."`
}

// SearchParams are the log filters shared by logs, histogram and stream.
type SearchParams struct {
	Search    string `query:"search" maxLength:"512" doc:"Search language: space-separated terms, ANDed. key:value matches a column (decky, service, event, attacker) or else a field; a bare word matches a substring of the raw line, decky, service or attacker IP; double quotes hold spaces."`
	StartTime string `query:"start_time" maxLength:"64" doc:"Inclusive lower bound: RFC 3339, or YYYY-MM-DD HH:MM:SS read as UTC."`
	EndTime   string `query:"end_time" maxLength:"64" doc:"Inclusive upper bound, same forms as start_time."`

	since, until time.Time
}

// timeLayouts are the accepted forms of start_time and end_time: RFC 3339
// and the dashboard's "YYYY-MM-DD HH:MM:SS" (with or without fraction,
// with a space or a T), the latter read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func parseTimeParam(s string) (time.Time, bool) {
	// An unescaped '+' of an offset arrives as a space; put it back.
	if before, after, found := strings.Cut(s, " "); found && strings.Contains(before, "T") {
		s = before + "+" + after
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Resolve parses the time bounds; end_time is inclusive, as the dashboard
// means it, while the store's Until is exclusive.
func (p *SearchParams) Resolve(huma.Context) []error {
	var errs []error
	for _, b := range []struct {
		name, v string
		dst     *time.Time
	}{{"start_time", p.StartTime, &p.since}, {"end_time", p.EndTime, &p.until}} {
		if b.v == "" {
			continue
		}
		t, ok := parseTimeParam(b.v)
		if !ok {
			errs = append(errs, &huma.ErrorDetail{Location: "query." + b.name, Value: b.v,
				Message: "must be RFC 3339 or YYYY-MM-DD HH:MM:SS"})
			continue
		}
		*b.dst = t
	}
	if len(errs) > 0 {
		return errs
	}
	if !p.until.IsZero() {
		if !p.since.IsZero() && p.until.Before(p.since) {
			return []error{&huma.ErrorDetail{Location: "query.end_time", Value: p.EndTime, Message: "is before start_time"}}
		}
		p.until = p.until.Add(time.Nanosecond)
	}
	return nil
}

var _ huma.Resolver = (*SearchParams)(nil)

// logQuery is the store query of a page and a search.
func (p *SearchParams) logQuery(pg PageParams) store.LogQuery {
	return store.LogQuery{Search: p.Search, Since: p.since, Until: p.until, Limit: pg.Limit, Offset: pg.Offset}
}

func (s *Server) registerFeeds() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/logs", Tags: []string{"logs"},
		Summary:     "List logs",
		Description: "A page of stored events, newest first. Each row's fields is a JSON object of strings.",
		Responses:   jsonResponses[store.Page[store.Log]](s),
	}, s.logs)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/bounty", Tags: []string{"bounty"},
		Summary:     "List bounties",
		Description: "Credentials and fingerprints attackers revealed, deduplicated, newest first.",
		Responses:   jsonResponses[store.Page[store.Bounty]](s),
	}, s.bounties)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/stats", Tags: []string{"stats"},
		Summary: "Dashboard counters",
	}, s.stats)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/stats/services", Tags: []string{"stats"},
		Summary: "Top services",
		Description: "The services with the most logs, most first (ties by service name): a bare list of " +
			"{service, count}. Results are cached: typically up to 2 s old, longer for costly reads (see the package README).",
	}, s.serviceCounts)
}

type logsInput struct {
	PageParams
	SearchParams
}

// logs serves GET /logs. Each row's fields is a JSON object (the original
// sent a JSON-encoded string) and its timestamp is RFC 3339 in UTC.
func (s *Server) logs(ctx context.Context, in *logsInput) (*jsonOutput, error) {
	q := in.logQuery(in.PageParams)
	q.NoTotal = true
	// The count is cached per search, not per page: it costs far more
	// than a page, and paging through one search needs it only once.
	count := q
	count.Limit, count.Offset = 0, 0
	total, err := cached(ctx, &s.cache, "logs-total", count, func(ctx context.Context) (int64, error) {
		return s.repo.CountLogs(ctx, count)
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	// The page is kept with the total it was first served with.
	return cachedPage(ctx, s, "logs", q, func(ctx context.Context) (store.Page[store.Log], error) {
		p, err := s.repo.Logs(ctx, q)
		p.Total = total
		return p, err
	}, normalizeLog)
}

// normalizeLogs puts times in UTC and gives every row a fields object.
func normalizeLogs(ls []store.Log) {
	for i := range ls {
		normalizeLog(&ls[i])
	}
}

func normalizeLog(l *store.Log) {
	l.Timestamp = l.Timestamp.UTC()
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
}

// cachedPage serves a page read through the cache: its rows normalized,
// kept encoded, written as is.
func cachedPage[T any](ctx context.Context, s *Server, route string, q any,
	read func(context.Context) (store.Page[T], error), normalize func(*T)) (*jsonOutput, error) {
	e, err := cached(ctx, &s.cache, route, q, func(ctx context.Context) (encoded[store.Page[T]], error) {
		p, err := read(ctx)
		if err != nil {
			return encoded[store.Page[T]]{}, err
		}
		p.Data = nonNil(p.Data)
		for i := range p.Data {
			normalize(&p.Data[i])
		}
		return encodeBody(p)
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return e.output(), nil
}

type bountyInput struct {
	PageParams
	BountyType string `query:"bounty_type" maxLength:"64" doc:"Only this type: credential, fingerprint."`
	Search     string `query:"search" maxLength:"512" doc:"Substring of decky, service, attacker IP or payload."`
}

// bounties serves GET /bounty, payloads as JSON objects.
func (s *Server) bounties(ctx context.Context, in *bountyInput) (*jsonOutput, error) {
	q := store.BountyQuery{Type: in.BountyType, Search: in.Search, Limit: in.Limit, Offset: in.Offset}
	return cachedPage(ctx, s, "bounty", q, func(ctx context.Context) (store.Page[store.Bounty], error) {
		return s.repo.Bounties(ctx, q)
	}, normalizeBounty)
}

// StatsBody is the dashboard's counter strip (GET /stats).
type StatsBody struct {
	TotalLogs       int64 `json:"total_logs"`
	UniqueAttackers int64 `json:"unique_attackers"`
	ActiveDeckies   int   `json:"active_deckies"`
	DeployedDeckies int   `json:"deployed_deckies"`
	TotalBounties   int64 `json:"total_bounties"`
}

type statsOutput struct {
	Body StatsBody
}

// stats serves GET /stats: the store's counters and the fleet's sizes.
func (s *Server) stats(ctx context.Context, _ *struct{}) (*statsOutput, error) {
	st, err := cached(ctx, &s.cache, "stats", nil, s.repo.Stats)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	resp := StatsBody{TotalLogs: st.TotalLogs, UniqueAttackers: st.UniqueAttackers, TotalBounties: st.TotalBounties}
	if s.fleet != nil {
		for _, d := range s.fleet.Deckies() {
			resp.DeployedDeckies++
			if d.Active {
				resp.ActiveDeckies++
			}
		}
	}
	return &statsOutput{Body: resp}, nil
}

// maxServiceCounts is the most services GET /stats/services lists.
const maxServiceCounts = 100

type serviceCountsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"10" doc:"How many services, at most."`
}

type serviceCountsOutput struct {
	Body []store.ServiceCount
}

// serviceCounts serves GET /stats/services. The store is always asked for
// the longest list and each answer is cut from it: the GROUP BY scans
// every log whatever the limit, so every limit shares one cached read.
func (s *Server) serviceCounts(ctx context.Context, in *serviceCountsInput) (*serviceCountsOutput, error) {
	counts, err := cached(ctx, &s.cache, "stats-services", nil, func(ctx context.Context) ([]store.ServiceCount, error) {
		cs, err := s.repo.ServiceCounts(ctx, maxServiceCounts)
		return nonNil(cs), err
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &serviceCountsOutput{Body: counts[:min(in.Limit, len(counts))]}, nil
}
