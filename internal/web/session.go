package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"decnet/internal/api"
	"decnet/internal/store"
)

// sessionCookie holds the API access token of the signed-in user. The
// browser never exposes it to script (HttpOnly) nor sends it with
// requests another site starts (SameSite=Strict).
const sessionCookie = "session"

// sessionTTL matches the API token's lifetime.
const sessionTTL = 24 * time.Hour

// visitor is the signed-in user of a request.
type visitor struct {
	api.UserResponse
	token string
	csrf  string
}

// can reports whether the visitor's role reaches role.
func (v *visitor) can(role string) bool { return roleRank(v.Role) >= roleRank(role) }

func roleRank(role string) int {
	switch role {
	case store.RoleViewer:
		return 1
	case store.RoleAnalyst:
		return 2
	case store.RoleAdmin:
		return 3
	}
	return 0
}

type visitorKey struct{}

// visitorOf returns the visitor that session put in the request's context.
func visitorOf(r *http.Request) *visitor {
	v, _ := r.Context().Value(visitorKey{}).(*visitor)
	return v
}

// csrfToken binds a CSRF token to a session token: forms carry it, and a
// page of another site can neither read it nor forge it.
func (s *Server) csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sessionToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// session admits requests with a live session: it asks the API who the
// cookie's token belongs to, sends visitors without one to the login page
// and visitors who must change their password to the password page.
func (s *Server) session(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.visitorFrom(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v == nil {
			s.toLogin(w, r)
			return
		}
		if v.MustChangePassword && r.URL.Path != "/password" {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)))
	})
}

// action is session for state changes: the form (or the X-CSRF-Token
// header of a script's request) must carry the session's CSRF token.
func (s *Server) action(h http.HandlerFunc) http.Handler {
	return s.session(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(visitorOf(r).csrf)) != 1 {
			s.log.Warn("dashboard request without a valid CSRF token", "path", r.URL.Path, "remote", r.RemoteAddr)
			s.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from this dashboard. Reload the page and try again.")
			return
		}
		h(w, r)
	})
}

// maxFormBytes bounds a form; the largest is a deployment's INI document.
const maxFormBytes = 1 << 20

// visitorFrom returns the visitor of the request's session cookie, or nil
// when there is none or the API no longer accepts its token.
func (s *Server) visitorFrom(r *http.Request) (*visitor, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || s.revoked.has(c.Value) {
		return nil, nil
	}
	v := &visitor{token: c.Value}
	if err := s.call(r.Context(), r, v, http.MethodGet, "/auth/me", nil, nil, &v.UserResponse); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return nil, nil
		}
		return nil, err
	}
	v.csrf = s.csrfToken(v.token)
	return v, nil
}

// toLogin sends the browser to the login page, remembering where it was
// going when that was a page.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	s.clearSession(w, r)
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure || r.TLS != nil,
	})
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure || r.TLS != nil,
	})
}

// safeNext is where a login may send the browser: a path of this site,
// never another site ("//evil", "/\evil", "https://…").
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") ||
		strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/api/") {
		return "/"
	}
	return next
}

type loginView struct {
	Next     string
	Username string
	Error    string
}

// loginPage serves GET /login; a visitor already signed in goes on.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if v, err := s.visitorFrom(r); err == nil && v != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// login serves POST /login through the API's login, which rate-limits
// by user and by the browser's address (passed on as the request's).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	view := loginView{Next: safeNext(r.PostFormValue("next")), Username: r.PostFormValue("username")}
	var tok struct {
		AccessToken        string `json:"access_token"`
		MustChangePassword bool   `json:"must_change_password"`
	}
	body := map[string]string{"username": view.Username, "password": r.PostFormValue("password")}
	err := s.call(r.Context(), r, nil, http.MethodPost, "/auth/login", nil, body, &tok)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status >= 500 {
			s.fail(w, r, err)
			return
		}
		view.Error = ae.Error()
		if ae.Status == http.StatusUnprocessableEntity {
			view.Error = "Enter a username and a password (at most 72 bytes)."
		}
		if ra := ae.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		s.render(w, r, ae.Status, "login", view)
		return
	}
	s.setSession(w, r, tok.AccessToken)
	if tok.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, view.Next, http.StatusSeeOther)
}

// logout serves POST /logout: the cookie is cleared and its token refused
// by the dashboard from now on, even if a copy of the cookie survives.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.revoked.add(visitorOf(r).token, time.Now().Add(sessionTTL))
	s.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordView struct {
	Forced bool
	Error  string
}

// passwordPage serves GET /password.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", passwordView{Forced: visitorOf(r).MustChangePassword})
}

// changePassword serves POST /password; the API answers with a new token
// (the old one stops working), which becomes the session.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	v := visitorOf(r)
	view := passwordView{Forced: v.MustChangePassword}
	newPw := r.PostFormValue("new_password")
	if newPw != r.PostFormValue("confirm_password") {
		view.Error = "The new password and its confirmation differ."
		s.render(w, r, http.StatusUnprocessableEntity, "password", view)
		return
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	body := map[string]string{"old_password": r.PostFormValue("old_password"), "new_password": newPw}
	if err := s.call(r.Context(), r, v, http.MethodPost, "/auth/change-password", nil, body, &out); err != nil {
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusUnauthorized && ae.Detail != "Incorrect old password" {
			s.fail(w, r, err)
			return
		}
		view.Error = ae.Error()
		s.render(w, r, ae.Status, "password", view)
		return
	}
	s.revoked.add(v.token, time.Now().Add(sessionTTL))
	s.setSession(w, r, out.AccessToken)
	s.flash(w, r, flashOK, "Password changed.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// streamTicket serves POST /ui/ticket: the live views' script trades its
// CSRF token for a short-lived stream ticket, since an EventSource
// cannot send the session's bearer token (the cookie is not readable).
func (s *Server) streamTicket(w http.ResponseWriter, r *http.Request) {
	s.proxy(w, r, visitorOf(r), http.MethodPost, "/stream/ticket", nil)
}

// revocations are the tokens of sessions that logged out, until they
// would have expired anyway. They live in memory: a restart forgets
// them, but the browser deleted its cookie at logout.
type revocations struct {
	mu     sync.Mutex
	tokens map[[32]byte]time.Time
}

func newRevocations() *revocations { return &revocations{tokens: map[[32]byte]time.Time{}} }

func (rv *revocations) add(token string, until time.Time) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	now := time.Now()
	for k, exp := range rv.tokens {
		if now.After(exp) {
			delete(rv.tokens, k)
		}
	}
	rv.tokens[sha256.Sum256([]byte(token))] = until
}

func (rv *revocations) has(token string) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	exp, ok := rv.tokens[sha256.Sum256([]byte(token))]
	return ok && time.Now().Before(exp)
}
