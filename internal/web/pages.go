package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// registerPages adds every page and form of the dashboard to mux. Pages
// are GET handlers behind session; forms are POST handlers behind action.
func (s *Server) registerPages(mux *http.ServeMux) {
	s.registerLive(mux)  // overview and log explorer (live.go)
	s.registerAdmin(mux) // fleet, configuration, health (admin.go)
	s.registerIntel(mux) // bounty, attackers, traversals, downloads (intel.go)
}

// pageSize is the rows of one page of a list, unless the page says.
const pageSize = 50

// pager links the pages of a list: the same URL with another offset.
type pager struct {
	Total, Limit, Offset int64
	base                 *url.URL
}

func newPager(u *url.URL, total int64, limit, offset int) pager {
	return pager{Total: total, Limit: int64(limit), Offset: int64(offset), base: u}
}

// Show is false when everything fits on one page.
func (p pager) Show() bool { return p.Total > p.Limit || p.Offset > 0 }

// First and Last number the rows shown, from 1.
func (p pager) First() int64 { return min(p.Offset+1, p.Total) }
func (p pager) Last() int64  { return min(p.Offset+p.Limit, p.Total) }

// Prev and Next are the neighbouring pages' URLs, "" at either end.
func (p pager) Prev() string {
	if p.Offset <= 0 {
		return ""
	}
	return p.at(max(0, p.Offset-p.Limit))
}

func (p pager) Next() string {
	if p.Offset+p.Limit >= p.Total {
		return ""
	}
	return p.at(p.Offset + p.Limit)
}

func (p pager) at(offset int64) string {
	u := *p.base
	q := u.Query()
	if offset == 0 {
		q.Del("offset")
	} else {
		q.Set("offset", strconv.FormatInt(offset, 10))
	}
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// offsetOf reads a list's ?offset=, 0 when absent or not a count.
func offsetOf(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
