package api

import (
	"net/http"
)

// logs serves GET /logs: a page of logs, newest first. Each row's fields
// is a JSON object (the original sent a JSON-encoded string) and its
// timestamp is RFC 3339 in UTC.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q, err := logQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.repo.Logs(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = nonNil(p.Data)
	for i := range p.Data {
		l := &p.Data[i]
		l.Timestamp = l.Timestamp.UTC()
		if l.Fields == nil {
			l.Fields = map[string]string{}
		}
	}
	writeJSON(w, http.StatusOK, p)
}

// bounties serves GET /bounty: a page of bounties, newest first, payloads
// as JSON objects.
func (s *Server) bounties(w http.ResponseWriter, r *http.Request) {
	q, err := bountyQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.repo.Bounties(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = nonNil(p.Data)
	for i := range p.Data {
		b := &p.Data[i]
		b.Timestamp = b.Timestamp.UTC()
		if b.Payload == nil {
			b.Payload = map[string]any{}
		}
	}
	writeJSON(w, http.StatusOK, p)
}

// nonNil makes an empty page encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// statsResponse is the dashboard's counter strip.
type statsResponse struct {
	TotalLogs       int64 `json:"total_logs"`
	UniqueAttackers int64 `json:"unique_attackers"`
	ActiveDeckies   int   `json:"active_deckies"`
	DeployedDeckies int   `json:"deployed_deckies"`
	TotalBounties   int64 `json:"total_bounties"`
}

// stats serves GET /stats: the store's counters and the fleet's sizes.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.repo.Stats(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := statsResponse{TotalLogs: st.TotalLogs, UniqueAttackers: st.UniqueAttackers, TotalBounties: st.TotalBounties}
	if s.fleet != nil {
		for _, d := range s.fleet() {
			resp.DeployedDeckies++
			if d.Active {
				resp.ActiveDeckies++
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
