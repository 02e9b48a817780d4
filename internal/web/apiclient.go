package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"decnet/internal/api"
)

// apiError is an answer of the API other than 2xx, with its problem
// document's detail (and the validation messages, when it has them).
type apiError struct {
	Status int
	Detail string
	// Messages are the problem's per-field errors, e.g. "body.password:
	// expected length >= 8".
	Messages []string
	Header   http.Header
	// Body is the answer as sent, for routes whose error answers carry
	// data (GET /health's 503).
	Body []byte
}

func (e *apiError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return msg
}

// call sends one request to the API in-process, as v (nil: without a
// token), and decodes a 2xx JSON answer into out (when not nil). r is the
// browser's request: its address is passed on, so the API's per-source
// login limits and logs see the browser, not us.
func (s *Server) call(ctx context.Context, r *http.Request, v *visitor, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := s.apiRequest(ctx, r, v, method, path, query, body)
	if err != nil {
		return err
	}
	rec := &recorder{header: http.Header{}}
	s.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status < 200 || rec.status > 299 {
		return problemOf(rec.status, rec.header, rec.body.Bytes())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("decoding %s %s: %w", method, path, err)
	}
	return nil
}

// proxy passes the API's answer to one request straight to the browser:
// artifact downloads and stream tickets, whose bodies the page does not
// need to read.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, v *visitor, method, path string, query url.Values) {
	req, err := s.apiRequest(r.Context(), r, v, method, path, query, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.api.ServeHTTP(w, req)
}

func (s *Server) apiRequest(ctx context.Context, r *http.Request, v *visitor, method, path string, query url.Values, body any) (*http.Request, error) {
	target := api.Prefix + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if v != nil {
		req.Header.Set("Authorization", "Bearer "+v.token)
	}
	return req, nil
}

// problemOf reads an RFC 9457 problem document.
func problemOf(status int, h http.Header, body []byte) *apiError {
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Message  string `json:"message"`
			Location string `json:"location"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &p) // a body that is not a problem leaves only the status
	e := &apiError{Status: status, Detail: p.Detail, Header: h, Body: body}
	for _, fe := range p.Errors {
		m := fe.Message
		if fe.Location != "" {
			m = fe.Location + ": " + m
		}
		e.Messages = append(e.Messages, m)
	}
	return e
}

// recorder keeps an in-process API answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 {
		rc.status = code
	}
}
func (rc *recorder) Write(p []byte) (int, error) {
	rc.WriteHeader(http.StatusOK)
	return rc.body.Write(p)
}

// fetch runs a page's API calls at once and returns their errors joined;
// a page's load time is then its slowest call, not their sum.
func fetch(calls ...func() error) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { errs[i] = c() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// get is call for a page's reads.
func (s *Server) get(r *http.Request, path string, query url.Values, out any) error {
	return s.call(r.Context(), r, visitorOf(r), http.MethodGet, path, query, nil, out)
}
