package web

import (
	"io"
	"net/http"
)

// maxReportBytes bounds a CSP violation report; real ones are a few
// hundred bytes.
const maxReportBytes = 16 << 10

// cspReport serves POST /csp-report: browsers report what the policy
// blocked. A report on a page showing attacker data means a payload tried
// to run, so it is logged as a warning with the report as sent.
func (s *Server) cspReport(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReportBytes))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.log.Warn("content security policy violation", "remote", r.RemoteAddr, "report", string(body))
	w.WriteHeader(http.StatusNoContent)
}
